import streamlit as st

st.title("rag")
st.info("This page is being built.")
