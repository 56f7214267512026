"""ftadvisor's Streamlit app: a router. Each page is one module in app_pages/ that lays out
widgets and calls the library; nothing here computes."""
import streamlit as st

st.set_page_config(page_title="ftadvisor", page_icon=":material/explore:", layout="wide")

PAGES = [
    st.Page("app_pages/advisor.py", title="Advisor", icon=":material/explore:", default=True, url_path="advisor"),
    st.Page("app_pages/estimator.py", title="Estimator", icon=":material/calculate:", url_path="estimator"),
    st.Page("app_pages/finetune.py", title="Fine-tune", icon=":material/model_training:", url_path="finetune"),
    st.Page("app_pages/rag.py", title="RAG baseline", icon=":material/library_books:", url_path="rag"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/balance:", url_path="compare"),
]

st.navigation(PAGES).run()
