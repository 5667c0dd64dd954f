"""Challenges to gold: study the item and the cohort's answers, then accept (correct the
gold and regrade everyone) or reject with a reason."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from evaluator_cert.services import disputes
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import gold_editor, plural, table
from evaluator_cert.ui.notices import flash
from evaluator_cert.ui.widgets import gold_text, show_material

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()
STATUSES = ["open", "accepted", "rejected"]

st.title("Challenges to gold")
# required: clicking the chosen option again does not empty the page (the "or" is a backstop).
status = (
    st.segmented_control("Show", STATUSES, default="open", required=True, key="dispute_status")
    or "open"
)
with ctx.session() as session:
    frame = disputes.disputes_frame(session, actor, catalog, status=status)

if frame.empty:
    st.info(f"No {status} challenges.")
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

# Each form carries the id of the challenge it shows (in its key): a click settles that
# challenge and no other, whatever the list holds by the time it arrives.
dispute_id = int(picked)
accept, reject = st.tabs(["Accept and correct the gold", "Reject"])
with accept:
    with st.form(f"accept_{dispute_id}"):
        corrected = gold_editor(item, f"gold_{dispute_id}")
        explanation = st.text_area(
            "Expert explanation",
            value=item.explanation,
            key=f"explanation_{dispute_id}",
            max_chars=disputes.MAX_EXPLANATION,
            help="Shown to every trainee after they answer this item: make it agree with the "
            "corrected gold. Left as it is, it stays unchanged.",
        )
        text = st.text_area(
            "What to tell the trainee",
            key=f"accept_text_{dispute_id}",
            max_chars=disputes.MAX_REASON,
        )
        accepted = st.form_submit_button("Accept, correct and regrade", type="primary")
    if accepted:
        with user_errors(), ctx.session() as session:
            result = disputes.accept_dispute(
                session,
                actor,
                ctx.base_catalog,
                dispute_id,
                corrected,
                text,
                explanation=explanation,
            )
            flash(
                f"Challenge #{dispute_id} accepted: gold corrected (content version "
                f"{result.content_version}); {plural(result.regraded, 'answer')} regraded, "
                f"{result.changed} changed, {plural(len(result.trainees), 'trainee')} told."
            )
            st.rerun()
with reject:
    with st.form(f"reject_{dispute_id}"):
        text = st.text_area(
            "Why the gold stands", key=f"reject_text_{dispute_id}", max_chars=disputes.MAX_REASON
        )
        rejected = st.form_submit_button("Reject")
    if rejected:
        with user_errors(), ctx.session() as session:
            disputes.reject_dispute(session, actor, dispute_id, text)
            flash(f"Challenge #{dispute_id} rejected; the trainee sees your reason.")
            st.rerun()
