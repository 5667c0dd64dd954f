"""Justification review queue: score each written justification on the item's criteria."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from evaluator_cert.services import reviews
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import fmt, table
from evaluator_cert.ui.notices import flash
from evaluator_cert.ui.widgets import show_material


def scores_text(scores: dict[str, int]) -> str:
    return " · ".join(
        f"{criterion} {value}/{reviews.SCALE[1]}" for criterion, value in scores.items()
    )


actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

st.title("Justification reviews")
include = st.toggle("Include reviewed answers (for a second review)", key="include_reviewed")
with ctx.session() as session:
    queue = reviews.review_queue(session, actor, catalog, include_reviewed=include)
    pair = reviews.reviewer_agreement(session, actor)

c1, c2, c3 = st.columns(3)
c1.metric("In the queue", int(queue["pending"].sum()) if not queue.empty else 0)
c2.metric("Double-reviewed answers", pair.answers)
c3.metric(
    "Reviewer agreement (QWK)",
    fmt(pair.weighted_kappa),
    help=f"Mean absolute difference {fmt(pair.mean_abs_difference)} points on the 0-4 scale.",
)
if queue.empty:
    st.info("Nothing waits for review.")
    st.stop()

table(queue, "queue", filters=("item", "trainee"), file_name="review_queue.csv")
ids = queue["annotation_id"].tolist()
picked = st.selectbox(
    "Answer to review (oldest first)",
    ids,
    format_func=lambda i: (
        f"#{i} {queue.set_index('annotation_id').loc[i, 'item']} by "
        f"{queue.set_index('annotation_id').loc[i, 'trainee']}"
    ),
)

with ctx.session() as session:
    task = reviews.review_task(session, actor, catalog, int(picked))

with st.expander("The item", expanded=False):
    show_material(task.item, catalog.media_path)
    st.markdown(f"**{task.item.question}** — gold: {task.item.gold}")
st.markdown(f"**Choice:** {'agrees' if task.correct else 'differs from gold'}")
st.code(task.choice, language=None)
st.markdown("**Justification** (shown as plain text)")
st.text(task.text)
if task.key_points:
    found = [
        {"key point": k["point"], "found": k["covered"], "matched": k["matched"]}
        for k in task.key_points
    ]
    st.dataframe(found, hide_index=True, key="key_points")
for r in task.reviews:
    st.caption(f"Reviewed by {r['reviewer']}: {scores_text(r['scores'])}")
    st.text(r["feedback"])

if len(task.reviews) >= 1:
    fig = px.bar(
        [
            {"criterion": c, "score": s, "reviewer": r["reviewer"]}
            for r in task.reviews
            for c, s in r["scores"].items()
        ],
        x="criterion",
        y="score",
        color="reviewer",
        barmode="group",
        range_y=[0, 4],
    )
    fig.update_layout(height=260, margin={"t": 20, "b": 20})
    st.plotly_chart(fig, key="review_scores")

if any(r["reviewer"] == actor.username for r in task.reviews):
    st.info(
        f"You have reviewed answer #{task.annotation_id}; "
        "a second review must come from another instructor."
    )
    st.stop()

# The form belongs to the answer shown above: its key carries the answer's id, so a click can
# only ever save a review of the answer on screen, never of whichever answer is now first.
with st.form(f"review_{task.annotation_id}"):
    scores = {
        c: st.slider(
            c, 0, 4, 2, key=f"crit_{task.annotation_id}_{c}", help="0 absent … 4 exemplary"
        )
        for c in task.criteria
    }
    feedback = st.text_area(
        "Feedback to the trainee",
        key=f"feedback_{task.annotation_id}",
        max_chars=reviews.MAX_FEEDBACK,
    )
    submitted = st.form_submit_button("Submit review", type="primary")
if submitted:
    with user_errors(), ctx.session() as session:
        score = reviews.submit_review(
            session,
            actor,
            catalog,
            task.annotation_id,
            {k: int(v) for k, v in scores.items()},
            feedback,
        )
        flash(f"Review of answer #{task.annotation_id} saved; it now scores {score:.0%}.")
        st.rerun()
