import streamlit as st

st.title("advisor")
st.info("This page is being built.")
