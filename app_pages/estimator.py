import streamlit as st

st.title("estimator")
st.info("This page is being built.")
