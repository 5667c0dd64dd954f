"""Account: display name, change password, name visibility on credentials, log out."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.services import accounts
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.notices import flash, form_key, reset_form

actor = state.require("trainee", "instructor", "admin")
ctx = state.app()

st.title("Account")
st.write(f"**{actor.display_name}** · `{actor.username}` · {actor.role}")

st.subheader("Display name")
# A refused name stays in the field to be corrected; a saved one is shown afresh.
name_form = form_key("display_name")
with st.form(name_form):
    name = st.text_input(
        "Display name",
        value=actor.display_name,
        max_chars=accounts.MAX_DISPLAY_NAME_LENGTH,
        key=f"{name_form}_name",
    )
    if actor.role == "trainee":
        # The public page and the PDF read the current name; the signed document does not.
        st.caption(
            "Credentials already issued keep the name they were signed with: the signed "
            "JWT and JSON downloads, and what a verifier checks offline, do not change. "
            "Your PDF certificates and public credential pages show the name saved here "
            "(the public pages only while your name is public)."
        )
    if st.form_submit_button("Save name"):
        with user_errors(), ctx.session() as session:
            user = accounts.set_display_name(session, actor, name)
            state.log_in(user)  # this browser's copy of the name, which every page reads
            flash("Display name saved.")
            reset_form("display_name")
            st.rerun()  # so the sidebar and the line above show the new name at once

st.subheader("Change password")
# Cleared on every submit, refused or not: password fields never keep what was typed.
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
                accounts.change_password(
                    session,
                    ctx.settings,
                    actor,
                    current,
                    new,
                    current_session_id=st.session_state.get(state.SESSION_KEY),
                )
                st.success("Password changed. Other devices have been logged out.")

if actor.role == "trainee":
    st.subheader("Credentials")
    with ctx.session() as session:
        public = accounts.shows_name_publicly(session, actor.id)
    choice = st.toggle(
        "Show my name on my public credential pages",
        value=public,
        help="Hiring platforms checking your credential see your name only if this is on.",
    )
    if choice != public:
        with ctx.session() as session:
            accounts.set_name_public(session, actor, choice)
        st.toast("Saved.")
