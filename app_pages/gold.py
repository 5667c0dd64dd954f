"""Gold from an expert panel: import labels, compare majority vote with Dawid-Skene, flag
contested items, export the proposed gold as an item set."""

from __future__ import annotations

import hashlib

import plotly.express as px
import streamlit as st

from evaluator_cert.errors import DomainError
from evaluator_cert.services import gold
from evaluator_cert.ui import state
from evaluator_cert.ui.instructor import fmt, table
from evaluator_cert.ui.widgets import escape_markdown

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()
BUILT = "panel_gold_yaml"  # (fingerprint of what it was built from, the YAML text)


def show_plain_error(exc: DomainError) -> None:
    # Ids and labels from the CSV are in the message: no Markdown reading of them.
    st.error(escape_markdown(str(exc)), icon=":material/error:")


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


try:
    labels = gold.parse_panel_csv(raw)
    report = gold.propose_gold(actor, labels)
except DomainError as exc:
    show_plain_error(exc)
    st.stop()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Items", len(report.items))
c2.metric("Flagged", int(report.items["flagged"].sum()))
c3.metric("Krippendorff's alpha", fmt(report.alpha, 3))
c4.metric("Fleiss' kappa", fmt(report.fleiss, 3))
for warning in report.warnings:
    st.warning(escape_markdown(warning), icon=":material/warning:")
id_problem = gold.item_id_problem(report.items["item_id"].tolist())
if id_problem:
    st.warning(
        escape_markdown(f"{id_problem} Until then the item set below cannot be exported."),
        icon=":material/warning:",
    )

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
# The built YAML stays on screen (after Download too) while the panel and choices it came
# from are unchanged.
built_from = hashlib.sha256(repr((raw, level, instructions, use)).encode()).hexdigest()
if make:
    try:
        yaml_text = gold.gold_item_set_yaml(
            actor, report, labels, level=level, instructions=instructions, use=use
        )
    except DomainError as exc:
        st.session_state.pop(BUILT, None)
        show_plain_error(exc)
    else:
        st.session_state[BUILT] = (built_from, yaml_text)
built = st.session_state.get(BUILT)
if built and built[0] == built_from:
    st.code(built[1][:3000], language="yaml")
    st.download_button(
        "Download item set",
        built[1],
        "panel_gold.yaml",
        "application/yaml",
        on_click="ignore",
        icon=":material/download:",
    )
