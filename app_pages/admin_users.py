"""Admin: users and roles."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.db.models import ROLES
from evaluator_cert.services import accounts
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import plural
from evaluator_cert.ui.notices import flash, form_key, reset_form

actor = state.require("admin")
ctx = state.app()

st.title("Users")

with ctx.session() as session:
    users = accounts.users_frame(session, actor)

query = st.text_input("Filter", placeholder="username, name, role or cohort", max_chars=120)
shown = users
if query:
    # plain substring match: a typed "(" or "*" must not be read as a regular expression
    matches = users.astype(str).apply(lambda col: col.str.contains(query, case=False, regex=False))
    mask = matches.any(axis=1)
    shown = users[mask]
st.dataframe(shown, hide_index=True, width="stretch")
st.caption(f"{len(shown)} of {plural(len(users), 'user')}")
st.download_button("Download CSV", shown.to_csv(index=False), "users.csv", "text/csv")

left, right = st.columns(2)
create_form = form_key("create_user")
with left, st.form(create_form):
    st.subheader("Create a user")
    username = st.text_input("Username", max_chars=64, key=f"{create_form}_username")
    display_name = st.text_input("Full name", max_chars=120, key=f"{create_form}_name")
    role = st.selectbox("Role of the new user", ROLES, key=f"{create_form}_role")
    cohort = st.text_input("Cohort (optional)", max_chars=64, key=f"{create_form}_cohort")
    password = st.text_input(
        "Initial password", type="password", max_chars=256, key=f"{create_form}_password"
    )
    create = st.form_submit_button("Create", type="primary")
if create:
    # A refused user (name taken, weak password...) keeps the form filled in for a fix.
    with left, user_errors(), ctx.session() as session:
        created = accounts.create_user(
            session,
            ctx.settings,
            username=username,
            password=password,
            role=role,
            display_name=display_name or None,
            cohort=cohort or None,
            actor=actor,
        )
        flash(f"Created {created.username} ({created.role}).")
        reset_form("create_user")
        st.rerun()

with right:
    st.subheader("Change a user")
    target = st.selectbox("User", users["username"].tolist(), index=None, placeholder="Choose")
    if target:
        row = users.set_index("username").loc[target]
        new_role = st.selectbox(
            "New role", ROLES, index=ROLES.index(row["role"]), key=f"role_edit_{target}"
        )
        c1, c2, c3 = st.columns(3)
        if c1.button("Save role", disabled=new_role == row["role"]):
            with user_errors(), ctx.session() as session:
                accounts.set_role(session, actor, target, new_role)
                flash(f"{target} is now {new_role}.")
                st.rerun()
        label = "Deactivate" if row["active"] else "Reactivate"
        if c2.button(label):
            with user_errors(), ctx.session() as session:
                accounts.set_active(session, actor, target, not row["active"])
                flash(f"{target} {label.lower()}d.")
                st.rerun()
        if c3.button("Reset password"):
            with user_errors(), ctx.session() as session:
                new_password = accounts.reset_password(session, ctx.settings, actor, target)
                st.success("New password (shown once; hand it over safely):")
                st.code(new_password, language=None)
