"""Admin: search and export credentials, revoke one, rotate the signing key, see the JWKS."""

from __future__ import annotations

import json

import streamlit as st

from evaluator_cert.services import credentials as creds
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors

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
    st.caption(f"{len(frame)} credentials, newest first")
    st.download_button("Download CSV", frame.to_csv(index=False), "credentials.csv", "text/csv")

st.subheader("Revoke a credential")
revocable = frame[frame["status"] != "revoked"] if not frame.empty else frame
with st.form("revoke", clear_on_submit=True):
    target = st.selectbox(
        "Credential",
        revocable["id"].tolist() if not revocable.empty else [],
        format_func=lambda cid: (
            f"{cid}  ({revocable.set_index('id').at[cid, 'username']}, "
            f"{revocable.set_index('id').at[cid, 'level']})"
        ),
        index=None,
        placeholder="Choose from the list above (search to narrow it)",
    )
    reason = st.text_area(
        "Reason (shown to the holder and to anyone who verifies it)",
        max_chars=creds.MAX_REASON_LENGTH,
    )
    confirm = st.checkbox("I understand this cannot be undone.")
    if st.form_submit_button("Revoke", type="primary"):
        if target is None:
            st.error("Choose a credential.")
        elif not confirm:
            st.error("Tick the confirmation first.")
        else:
            with user_errors(), ctx.session() as session:
                creds.revoke_credential(session, actor, target, reason)
                st.success(f"Revoked {target}. The status list shows it from now on.")

st.subheader("Signing key")
ring = creds.keyring(ctx.settings)
with user_errors():
    st.write(f"Active key: `{ring.active.key_id}`")
    with st.expander("Published keys (JWKS)"):
        st.code(json.dumps(ring.jwks(), indent=2), language="json")
        st.caption(f"Served at {ctx.settings.base_url}/.well-known/jwks.json")
    with st.form("rotate"):
        st.write(
            "Rotation signs new credentials with a fresh key. Earlier keys stay published, "
            "so credentials already issued keep verifying."
        )
        sure = st.checkbox("Rotate the signing key now")
        if st.form_submit_button("Rotate key"):
            if not sure:
                st.error("Tick the box to confirm.")
            else:
                with ctx.session() as session:
                    new_id = creds.rotate_signing_key(session, ctx.settings, actor)
                st.success(f"New signing key: {new_id}")
