"""UI and JSON API in one process: ``streamlit run asgi.py`` (or any ASGI server)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from evaluator_cert.api import routes
from evaluator_cert.ui.errors import on_script_error

app = st.App(Path(__file__).with_name("app.py"), routes=routes, on_script_error=on_script_error)
