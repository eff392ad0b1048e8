"""TODO"""

import streamlit as st

st.title("student_book")
