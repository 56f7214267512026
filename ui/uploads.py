"""A Streamlit upload kept on disk once: `common.uploads.save_upload` into the settings' uploads
folder, remembered per upload, since Streamlit reruns the page on every click and saving again
means hashing the file again (save_upload compares bytes before it writes)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from common.uploads import save_upload


def kept_upload(upload, suffixes: tuple[str, ...], settings, folder: Path | None = None) -> Path:
    """Where `upload` (an `st.file_uploader` file) is saved, in `folder` (default: the uploads
    folder); UploadError (a ValueError) for a type or size the page does not take."""
    folder = folder or settings.uploads_dir
    key = f"_kept_upload_{upload.file_id}_{folder}"
    if key not in st.session_state:
        st.session_state[key] = save_upload(upload.name, upload.getvalue(), folder,
                                            max_bytes=settings.max_upload_mb * 2**20, suffixes=suffixes)
    return st.session_state[key]
