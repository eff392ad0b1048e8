"""TODO"""

import streamlit as st

st.title("admin_orders")
