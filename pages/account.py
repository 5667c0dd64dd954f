"""Account: change password, name visibility on credentials, log out."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.db.models import User
from evaluator_cert.services import accounts
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors

actor = state.require("trainee", "instructor", "admin")
ctx = state.app()

st.title("Account")
st.write(f"**{actor.display_name}** · `{actor.username}` · {actor.role}")

st.subheader("Change password")
with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password", max_chars=256)
    new = st.text_input(
        "New password",
        type="password",
        max_chars=256,
        help=f"At least {ctx.settings.min_password_length} characters.",
    )
    again = st.text_input("New password again", type="password", max_chars=256)
    if st.form_submit_button("Change password"):
        if new != again:
            st.error("The two new passwords differ.")
        else:
            with user_errors(), ctx.session() as session:
                accounts.change_password(session, ctx.settings, actor, current, new)
                st.success("Password changed. Other devices have been logged out.")

if actor.role == "trainee":
    st.subheader("Credentials")
    with ctx.session() as session:
        public = bool(session.get(User, actor.id).show_name_publicly)  # type: ignore[union-attr]
    choice = st.toggle(
        "Show my name on my public credential pages",
        value=public,
        help="Hiring platforms checking your credential see your name only if this is on.",
    )
    if choice != public:
        with ctx.session() as session:
            accounts.set_name_public(session, actor, choice)
        st.toast("Saved.")
