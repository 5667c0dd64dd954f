"""Challenges to gold: study the item and the cohort's answers, then accept (correct the
gold and regrade everyone) or reject with a reason."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from evaluator_cert.services import disputes
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import gold_editor, table
from evaluator_cert.ui.widgets import gold_text, show_material

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

st.title("Challenges to gold")
status = st.segmented_control(
    "Show", ["open", "accepted", "rejected"], default="open", key="dispute_status"
)
with ctx.session() as session:
    frame = disputes.disputes_frame(session, actor, catalog, status=status)

if frame.empty:
    st.info("No challenges here.")
    st.stop()
table(frame, "disputes", filters=("item", "type"), file_name="disputes.csv")

ids = frame["id"].tolist()
picked = st.selectbox(
    "Challenge",
    ids,
    format_func=lambda i: (
        f"#{i} {frame.set_index('id').loc[i, 'item']} by {frame.set_index('id').loc[i, 'trainee']}"
    ),
)
row = frame.set_index("id").loc[picked]
item = catalog.item(row["item"])

left, right = st.columns(2)
with left:
    st.subheader(f"{item.id} ({item.type.replace('_', ' ')})")
    show_material(item, catalog.media_path)
    st.markdown(gold_text(item))
    st.caption("Expert explanation")
    st.text(item.explanation)
with right:
    st.subheader("The trainee's reason")
    st.text(row["reason"])
    with ctx.session() as session:
        dist = disputes.answer_distribution(session, actor, catalog, item.id)
    st.subheader("How the cohort answered")
    if dist.empty:
        st.caption("No practice answers yet.")
    else:
        fig = px.bar(dist, x="answers", y="answer", orientation="h", hover_data=["share"])
        fig.update_layout(height=100 + 30 * len(dist), margin={"t": 20, "b": 20})
        st.plotly_chart(fig, key="distribution")

if row["status"] != "open":
    st.info(f"{row['status'].capitalize()}: {row['resolution']}")
    st.stop()

accept, reject = st.tabs(["Accept and correct the gold", "Reject"])
with accept:
    with st.form("accept"):
        corrected = gold_editor(item, f"gold_{picked}")
        text = st.text_area(
            "What to tell the trainee", key="accept_text", max_chars=disputes.MAX_REASON
        )
        if st.form_submit_button("Accept, correct and regrade", type="primary"):
            with user_errors(), ctx.session() as session:
                result = disputes.accept_dispute(
                    session, actor, ctx.base_catalog, int(picked), corrected, text
                )
                st.success(
                    f"Gold corrected (content version {result.content_version}); "
                    f"{result.regraded} answers regraded, {result.changed} changed, "
                    f"{len(result.trainees)} trainees told."
                )
with reject:
    with st.form("reject"):
        text = st.text_area("Why the gold stands", key="reject_text", max_chars=disputes.MAX_REASON)
        if st.form_submit_button("Reject"):
            with user_errors(), ctx.session() as session:
                disputes.reject_dispute(session, actor, int(picked), text)
                st.success("Rejected; the trainee sees your reason.")
