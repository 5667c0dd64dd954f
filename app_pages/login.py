"""Log in: username and password (or single sign-on when configured)."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from evaluator_cert.errors import DomainError
from evaluator_cert.services import accounts
from evaluator_cert.ui import state

st.title("Log in")
st.caption("Train and certify as an AI evaluator.")

ctx = state.app()

with st.form("login", enter_to_submit=True):
    username = st.text_input("Username", max_chars=64, autocomplete="username")
    password = st.text_input(
        "Password", type="password", max_chars=256, autocomplete="current-password"
    )
    submitted = st.form_submit_button("Log in", type="primary")

if submitted:
    if not username or not password:
        st.error("Enter your username and password.")
    else:
        try:
            with ctx.session() as session:
                user = accounts.authenticate(session, ctx.settings, username, password)
                auth = accounts.start_session(session, ctx.settings, user)
                state.log_in(user, auth.id)
                code = auth.handoff_code
        except DomainError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            st.success(f"Welcome, {user.display_name}.")
            # Trade the one-time code for an HttpOnly cookie so a refresh keeps the login.
            st.html(
                f"<script>window.location.replace('/auth/handoff?code={quote(code or '')}');"
                "</script>",
                unsafe_allow_javascript=True,
            )

if state.sso_configured():
    st.divider()
    if st.button("Sign in with single sign-on", icon=":material/key:"):
        st.login()

st.page_link(
    "app_pages/verify.py",
    label="Verify a credential without logging in",
    icon=":material/verified:",
)
