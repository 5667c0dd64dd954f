"""Learn: a module's lesson, objectives and worked examples."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.db.models import utcnow
from evaluator_cert.services import attempts
from evaluator_cert.ui import state
from evaluator_cert.ui.trainee import gate_badge

actor = state.require("trainee", "instructor", "admin")
ctx = state.app()
catalog = ctx.catalog()

with ctx.session() as session:
    overview = attempts.trainee_overview(session, actor, catalog, now=utcnow())

ids = [m.id for m in catalog.modules]
wanted = st.query_params.get("module") or st.session_state.get("practice_module") or ids[0]
module_id = st.selectbox(
    "Module",
    ids,
    index=ids.index(wanted) if wanted in ids else 0,
    format_func=lambda m: f"{m} {catalog.module(m).title}",
)
st.query_params["module"] = module_id
module = catalog.module(module_id)
gate = overview.modules[module_id]

st.title(module.title)
st.markdown(f"{gate_badge(gate)} · about {module.estimated_minutes} min · {module.summary}")
with st.expander("Objectives", expanded=True):
    for objective in module.objectives:
        st.markdown(f"- {objective}")
rule = module.gate
st.caption(
    f"Pass: {rule.metric.replace('_', ' ')} ≥ {rule.threshold:.2f} over at least "
    f"{rule.min_items} graded practice items."
)
st.divider()
st.markdown(catalog.lesson_markdown(module_id))
st.divider()
if actor.role == "trainee":
    if gate.open:
        if st.button("Start practising", type="primary", icon=":material/edit_note:"):
            st.session_state["practice_module"] = module_id
            st.switch_page("app_pages/practice.py")
    else:
        st.info(gate.reason, icon=":material/lock:")
