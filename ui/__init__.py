"""Streamlit helpers shared by the pages (state, forms from pydantic models, error display)."""
