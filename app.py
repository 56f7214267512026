"""ftadvisor's Streamlit app: a router. Each page is one module in app_pages/ that lays out
widgets and calls the library; nothing here computes."""
import streamlit as st

from ui.nav import PAGES
from ui.state import keep_widget_values

st.set_page_config(page_title="ftadvisor", page_icon=":material/explore:", layout="wide")

keep_widget_values(st.session_state)  # going back to a page keeps what was typed
st.navigation([st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p is PAGES[0])
               for p in PAGES]).run()
