"""Gold from an expert panel: import labels, compare majority vote with Dawid-Skene, flag
contested items, export the proposed gold as an item set."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from evaluator_cert.services import gold
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import fmt, table

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

st.title("Gold from an expert panel")
st.caption(
    "Upload a CSV with one row per label: item_id, expert, label (and optionally text, the "
    "item's material, needed for the export)."
)
upload = st.file_uploader("Panel labels (CSV)", type=["csv"])
pasted = st.text_area("…or paste the CSV here", key="panel_csv", height=120, max_chars=5_000_000)
raw = upload.getvalue().decode("utf-8", errors="replace") if upload else pasted
if not raw.strip():
    st.stop()

with user_errors():
    labels = gold.parse_panel_csv(raw)
    report = gold.propose_gold(actor, labels)

    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Items", len(report.items))
    c2.metric("Flagged", int(report.items["flagged"].sum()))
    c3.metric("Krippendorff's alpha", fmt(report.alpha, 3))
    c4.metric("Fleiss' kappa", fmt(report.fleiss, 3))

    st.subheader("Experts")
    fig = px.bar(
        report.experts,
        x="accuracy",
        y="expert",
        orientation="h",
        range_x=[0, 1],
        hover_data=["labels", "agree_with_proposal"],
        labels={"accuracy": "Dawid-Skene estimated accuracy"},
    )
    fig.update_layout(height=100 + 30 * len(report.experts), margin={"t": 20, "b": 20})
    st.plotly_chart(fig, key="experts")
    expert = st.selectbox("Confusion matrix of", list(report.model.data.experts))
    st.plotly_chart(
        px.imshow(
            report.model.confusion_frame(expert),
            text_auto=".2f",
            range_color=[0, 1],
            color_continuous_scale="Blues",
        ),
        key="expert_confusion",
    )

    st.subheader("Proposed gold (flagged first)")
    items = report.items.sort_values(["flagged", "ds_posterior"], ascending=[False, True])
    table(items, "panel_items", filters=("flagged", "ds_label"), file_name="proposed_gold.csv")

    st.subheader("Export as a calibration item set")
    with st.form("export"):
        level = st.selectbox("Level", [lv.id for lv in catalog.levels])
        instructions = st.text_input(
            "Instructions shown with each item", "Choose the label.", max_chars=500
        )
        use = st.radio(
            "Gold from",
            ["ds_label", "majority"],
            horizontal=True,
            format_func={"ds_label": "Dawid-Skene", "majority": "majority vote"}.get,
        )
        make = st.form_submit_button("Build YAML")
    if make:
        yaml_text = gold.gold_item_set_yaml(
            actor, report, labels, level=level, instructions=instructions, use=use
        )
        st.code(yaml_text[:3000], language="yaml")
        st.download_button("Download item set", yaml_text, "panel_gold.yaml", "application/yaml")
