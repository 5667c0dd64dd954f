"""Admin: search and export credentials, revoke one, rotate the signing key, see the JWKS."""

from __future__ import annotations

import json

import streamlit as st

from evaluator_cert.services import credentials as creds
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import plural
from evaluator_cert.ui.notices import flash, form_key, reset_form

actor = state.require("admin")
ctx = state.app()

st.title("Credentials")

c1, c2 = st.columns([3, 1])
query = c1.text_input("Search", placeholder="credential id, username or name", max_chars=120)
status = c2.selectbox("Status", ["active", "expired", "revoked"], index=None, placeholder="All")

with ctx.session() as session:
    frame = creds.list_credentials(session, actor, query or None, status=status)

if frame.empty:
    st.info("No credentials match." if query or status else "No credentials issued yet.")
else:
    st.dataframe(frame, hide_index=True, width="stretch")
    st.caption(f"{plural(len(frame), 'credential')}, newest first")
    st.download_button("Download CSV", frame.to_csv(index=False), "credentials.csv", "text/csv")

st.subheader("Revoke a credential")
revocable = frame[frame["status"] != "revoked"] if not frame.empty else frame
revoke_form = form_key("revoke")
with st.form(revoke_form):
    target = st.selectbox(
        "Credential",
        revocable["id"].tolist() if not revocable.empty else [],
        format_func=lambda cid: (
            f"{cid}  ({revocable.set_index('id').at[cid, 'username']}, "
            f"{revocable.set_index('id').at[cid, 'level']})"
        ),
        index=None,
        placeholder="Choose from the list above (search to narrow it)",
        key=f"{revoke_form}_credential",
    )
    reason = st.text_area(
        "Reason (shown to the holder and to anyone who verifies it)",
        max_chars=creds.MAX_REASON_LENGTH,
        key=f"{revoke_form}_reason",
    )
    confirm = st.checkbox("I understand this cannot be undone.", key=f"{revoke_form}_confirm")
    revoke = st.form_submit_button("Revoke", type="primary")
# A refused revocation keeps the choice and the reason; only a done one empties the form.
if revoke:
    if target is None:
        st.error("Choose a credential.")
    elif not confirm:
        st.error("Tick the confirmation first.")
    else:
        with user_errors(), ctx.session() as session:
            creds.revoke_credential(session, actor, target, reason)
            flash(f"Revoked {target}. The status list shows it from now on.")
            reset_form("revoke")
            st.rerun()

st.subheader("Signing key")
ring = creds.keyring(ctx.settings)
with user_errors():
    st.write(f"Active key: `{ring.active.key_id}`")
    with st.expander("Published keys (JWKS)"):
        st.code(json.dumps(ring.jwks(), indent=2), language="json")
        st.caption(f"Served at {ctx.settings.base_url}/.well-known/jwks.json")
    rotate_form = form_key("rotate")
    with st.form(rotate_form):
        st.write(
            "Rotation signs new credentials with a fresh key. Earlier keys stay published, "
            "so credentials already issued keep verifying."
        )
        sure = st.checkbox("Rotate the signing key now", key=f"{rotate_form}_sure")
        rotate = st.form_submit_button("Rotate key")
    if rotate:
        if not sure:
            st.error("Tick the box to confirm.")
        else:
            with ctx.session() as session:
                new_id = creds.rotate_signing_key(session, ctx.settings, actor)
            flash(f"New signing key: {new_id}")
            reset_form("rotate")
            st.rerun()
