"""Streamlit-only helpers: the app context cache, the auth guard, widgets, figures."""
