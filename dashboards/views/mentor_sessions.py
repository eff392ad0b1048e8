"""TODO"""

import streamlit as st

st.title("mentor_sessions")
