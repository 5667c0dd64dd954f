"""Item analytics: difficulty, discrimination, exposure; possible gold errors first."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from evaluator_cert.services import item_stats
from evaluator_cert.ui import state
from evaluator_cert.ui.instructor import PAGE_SIZE, plural, table

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

st.title("Item analytics")
# required: clicking the chosen option again does not empty the page (the "or" is a backstop).
kind = (
    st.segmented_control(
        "Answers from", ["practice", "exam"], default="practice", required=True, key="items_kind"
    )
    or "practice"
)
with ctx.session() as session:
    frame = item_stats.item_frame(session, actor, catalog, kind=kind)

if frame.empty:
    st.info(f"No graded {kind} answers yet.")
    st.stop()

c1, c2, c3 = st.columns(3)
c1.metric("Items answered", len(frame))
c2.metric("Possible gold errors", int(frame["possible_gold_error"].sum()))
c3.metric("Answers", int(frame["exposure"].sum()))

plotted = frame.dropna(subset=["p_value", "discrimination"])
if plotted.empty:
    st.info(
        "No item has a discrimination figure yet, so there is nothing to plot: it needs "
        "several answers to the item, some agreeing with gold and some not, in attempts of "
        "more than one item. The table below has the figures there are."
    )
else:
    flagged = "possible gold error"
    fig = px.scatter(
        plotted.assign(
            flag=plotted["possible_gold_error"].map({True: flagged, False: "not flagged"})
        ),
        x="p_value",
        y="discrimination",
        size="exposure",
        color="flag",
        color_discrete_map={flagged: "#d62728", "not flagged": "#1f77b4"},
        category_orders={"flag": ["not flagged", flagged]},
        hover_data=["item", "type", "module", "strong_p_value"],
        labels={
            "p_value": "share agreeing with gold (difficulty)",
            "discrimination": "point-biserial discrimination",
            "flag": "",
        },
    )
    fig.update_layout(height=380, margin={"t": 20, "b": 20})
    st.plotly_chart(fig, key="items_scatter")
    missing = len(frame) - len(plotted)
    if missing:
        st.caption(
            f"{plural(missing, 'item')} without a discrimination figure (too few or too "
            "uniform answers) are in the table only."
        )
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
