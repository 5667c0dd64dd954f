"""Admin: the audit log, filtered and exportable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import streamlit as st

from evaluator_cert.services import audit
from evaluator_cert.ui import state
from evaluator_cert.ui.instructor import plural

actor = state.require("admin")
ctx = state.app()

st.title("Audit log")
with ctx.session() as session:
    actions = audit.audit_actions(session)

c1, c2, c3 = st.columns(3)
action = c1.selectbox("Action", actions, index=None, placeholder="All actions")
who = c2.text_input("Actor", placeholder="part of a username, or system", max_chars=64)
since = c3.date_input("Since", value=datetime.now(UTC).date() - timedelta(days=30))

with ctx.session() as session:
    frame = audit.audit_frame(
        session,
        actor,
        action=action,
        who=who.strip() or None,
        since=datetime.combine(since, time.min, tzinfo=UTC),
    )

if frame.empty:
    st.info("No audit entries match these filters.")
else:
    # JSON text, so the CSV holds the details in a form other tools read.
    shown = frame.assign(
        details=frame["details"].map(lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True))
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(f"{plural(len(frame), 'entry', 'entries')}, newest first")
    st.download_button("Download CSV", shown.to_csv(index=False), "audit-log.csv", "text/csv")
