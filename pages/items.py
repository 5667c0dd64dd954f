"""Item analytics: difficulty, discrimination, exposure; possible gold errors first."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from evaluator_cert.services import item_stats
from evaluator_cert.ui import state
from evaluator_cert.ui.instructor import PAGE_SIZE, table

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

st.title("Item analytics")
kind = st.segmented_control("Answers from", ["practice", "exam"], default="practice")
with ctx.session() as session:
    frame = item_stats.item_frame(session, actor, catalog, kind=kind or "practice")

if frame.empty:
    st.info("No graded answers yet.")
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("Items answered", len(frame))
c2.metric("Possible gold errors", int(frame["possible_gold_error"].sum()))
c3.metric("Answers", int(frame["exposure"].sum()))

fig = px.scatter(
    frame,
    x="p_value",
    y="discrimination",
    size="exposure",
    color="possible_gold_error",
    hover_data=["item", "type", "module", "strong_p_value"],
    labels={
        "p_value": "share agreeing with gold (difficulty)",
        "discrimination": "point-biserial discrimination",
    },
)
fig.update_layout(height=380, margin={"t": 20, "b": 20})
st.plotly_chart(fig, key="items_scatter")
st.caption(
    "Items strong trainees (the top third by mean score) mostly miss are flagged: the gold "
    "may be wrong. Low or negative discrimination marks items that do not separate skill."
)
table(
    frame,
    "items",
    filters=("type", "module", "possible_gold_error"),
    file_name="item_stats.csv",
    page_size=PAGE_SIZE,
)
