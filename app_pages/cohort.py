"""Cohort dashboard: every trainee's level, progress, rolling agreement and status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from evaluator_cert.services import cohort as cohort_service
from evaluator_cert.ui import figures, state
from evaluator_cert.ui.instructor import PAGE_SIZE, table

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()
level0 = catalog.levels[0]
window = level0.drift_window


@st.cache_data(ttl=300, show_spinner=False)
def load(group: str | None, version: str, catalog_version: str) -> pd.DataFrame:
    # version and catalog_version are cache keys: answers (to the minute), audited changes
    # or a gold correction refresh it.
    del version, catalog_version
    with ctx.session() as session:
        return cohort_service.cohort_frame(session, actor, catalog, cohort=group)


with ctx.session() as session:
    groups = cohort_service.cohort_names(session, actor)
    version = cohort_service.coarse_version(session)

title, refresh = st.columns([5, 1], vertical_alignment="bottom")
title.title("Cohort")
if refresh.button("Refresh", icon=":material/refresh:", help="Reload the latest figures."):
    load.clear()
group = st.selectbox("Cohort", [None, *groups], format_func=lambda g: g or "All trainees")
frame = load(group, version, catalog.version)
if frame.empty:
    st.info("No trainees yet.")
    st.stop()

counts = frame["status"].value_counts()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Trainees", len(frame))
c2.metric("At risk", int(counts.get("at risk", 0)))
c3.metric("In remediation", int(counts.get("remediation", 0)))
c4.metric("Certified", int(counts.get("certified", 0)))

st.subheader("Rolling agreement across the cohort")
rolling = frame.dropna(subset=["rolling_agreement"])
if rolling.empty:
    st.caption("No trainee has graded practice answers yet.")
else:
    fig = figures.status_histogram(
        rolling,
        "rolling_agreement",
        level0.drift_threshold,
        f"agreement over the last {level0.drift_window} items",
    )
    st.plotly_chart(fig, key="cohort_hist")

st.subheader("Trainees (at risk first)")
view = frame.drop(columns=["user_id"])
table(
    view,
    "cohort",
    filters=("status", "level"),
    file_name="cohort.csv",
    page_size=PAGE_SIZE,
    column_config={
        "rolling_agreement": st.column_config.NumberColumn(
            f"agreement, last {window} items",
            format="%.2f",
            help="The figure remediation is decided on, as on the trainee's own dashboard.",
        ),
        "previous_agreement": st.column_config.NumberColumn(
            f"agreement, the {window} items before", format="%.2f"
        ),
        "rolling_kappa": st.column_config.NumberColumn(
            f"κ of label decisions, last {window} items",
            format="%.2f",
            help="Cohen's kappa over the categorical decisions alone, with its 95% interval.",
        ),
        "kappa_low": st.column_config.NumberColumn("95% low", format="%.2f"),
        "kappa_high": st.column_config.NumberColumn("95% high", format="%.2f"),
        "previous_kappa": st.column_config.NumberColumn(
            f"κ, the {window} items before", format="%.2f"
        ),
    },
    no_match="No trainee matches these filters.",
)

st.subheader("Open a trainee")
names = dict(zip(frame["user_id"], frame["trainee"] + " — " + frame["name"], strict=True))
picked = st.selectbox("Trainee", list(names), format_func=names.get, key="cohort_pick")
if st.button("Open trainee record", icon=":material/person_search:"):
    st.session_state["detail_user"] = int(picked)
    st.switch_page("app_pages/trainee_detail.py")
