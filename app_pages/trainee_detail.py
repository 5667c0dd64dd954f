"""One trainee, as an instructor sees them: agreement, attempts, remediation, overrides,
disputes; and the overrides an instructor may grant."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.services import attempts, cohort, overrides
from evaluator_cert.services.trainee_stats import trainee_dashboard
from evaluator_cert.ui import figures, state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.instructor import fmt, table
from evaluator_cert.ui.notices import flash, form_key, reset_form

actor = state.require("instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()
threshold = catalog.levels[0].drift_threshold
window = catalog.levels[0].drift_window

with ctx.session() as session:
    trainees = cohort.cohort_frame(session, actor, catalog)
if trainees.empty:
    st.info("No trainees yet.")
    st.stop()
ids = [int(i) for i in trainees.sort_values("trainee")["user_id"]]
labels = dict(zip(trainees["user_id"], trainees["trainee"], strict=True))
wanted = st.session_state.get("detail_user")
user_id = st.selectbox(
    "Trainee", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=labels.get
)
st.session_state["detail_user"] = user_id

with user_errors(), ctx.session() as session:
    detail = cohort.trainee_detail(session, actor, user_id)
    dash = trainee_dashboard(session, actor, catalog, user_id=user_id)
    overview = attempts.trainee_overview(session, actor, catalog, user_id=user_id)

    st.title(f"{detail.display_name} ({detail.username})")
    st.caption(f"Cohort: {detail.cohort or '—'} · next step: {overview.next_step}")
    c1, c2, c3 = st.columns(3)
    c1.metric("Graded practice items", dash.graded)
    c2.metric(f"Rolling agreement, last {window} items", fmt(dash.rolling))
    c3.metric("Modules passed", int(dash.modules["passed"].sum()))

    if not dash.timeline.empty:
        st.subheader("Agreement over time")
        st.plotly_chart(figures.agreement_timeline(dash.timeline, threshold), key="timeline")
    modules = dash.modules.dropna(subset=["agreement"])
    if not modules.empty:
        st.subheader("By module")
        st.plotly_chart(
            figures.threshold_bars(modules, "agreement", "module", threshold), key="modules"
        )

    tabs = st.tabs(["Attempts", "Remediation", "Overrides", "Disputes", "Credentials"])
    with tabs[0]:
        table(detail.attempts, "t_attempts", filters=("kind", "status"), file_name="attempts.csv")
    with tabs[1]:
        table(detail.remediations, "t_remediation", file_name="remediation.csv")
    with tabs[2]:
        table(detail.overrides, "t_overrides", filters=("kind",), file_name="overrides.csv")
    with tabs[3]:
        table(detail.disputes, "t_disputes", filters=("status",), file_name="disputes.csv")
    with tabs[4]:
        table(detail.credentials, "t_credentials", file_name="credentials.csv")

st.subheader("Overrides and remediation")
st.caption("Each needs a reason; it is recorded in the audit log and shown to the trainee.")
kind = st.radio(
    "Action",
    ["Unlock a module", "Grant an extra exam attempt", "Assign remediation", "Lift remediation"],
    horizontal=True,
)
override_form = form_key("override")
with st.form(override_form):
    target = None
    if kind == "Unlock a module":
        target = st.selectbox(
            "Module", [m.id for m in catalog.modules], key=f"{override_form}_module"
        )
    elif kind == "Grant an extra exam attempt":
        target = st.selectbox(
            "Level", [lv.id for lv in catalog.levels], key=f"{override_form}_level"
        )
    elif kind == "Assign remediation":
        # Offered first: the modules where this trainee is furthest below the bar.
        weakest = dash.modules.dropna(subset=["agreement"]).sort_values("agreement")
        below = [str(m) for m in weakest.loc[weakest["agreement"] < threshold, "module"]]
        target = st.multiselect(
            "Modules to pass again",
            [m.id for m in catalog.modules],
            default=below[:2],
            key=f"{override_form}_modules",
            help="They count as not passed, and exams close, until the trainee passes them again.",
        )
    reason = st.text_area("Reason", max_chars=overrides.MAX_REASON, key=f"{override_form}_reason")
    applied = st.form_submit_button(
        "Assign remediation" if kind == "Assign remediation" else "Apply override", type="primary"
    )
if applied:
    with user_errors(), ctx.session() as session:
        if kind == "Unlock a module":
            overrides.unlock_module(session, actor, catalog, user_id, str(target), reason)
            done = f"{target} unlocked"
        elif kind == "Grant an extra exam attempt":
            overrides.grant_extra_attempt(session, actor, catalog, user_id, str(target), reason)
            done = f"an extra {target} exam attempt granted"
        elif kind == "Assign remediation":
            modules = list(target or [])
            overrides.assign_remediation(session, actor, catalog, user_id, modules, reason)
            done = f"{', '.join(modules)} reassigned"
        else:
            overrides.lift_remediation(session, actor, user_id, reason)
            done = "remediation lifted"
        flash(f"Recorded for {labels[user_id]}: {done}.")
        reset_form("override")
        st.rerun()
