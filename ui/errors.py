"""User errors on a page: one `st.error` per problem, never a traceback."""
from __future__ import annotations

import streamlit as st

from common.errors import describe_error


def show_errors(exc: BaseException) -> None:
    """One red line per problem (a field of a `ValidationError`, or the error's message)."""
    for line in describe_error(exc):
        st.error(line)
