"""Trainee home: where I am, what is next, what is locked and why."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.db.models import utcnow
from evaluator_cert.services import attempts, overrides
from evaluator_cert.ui import state
from evaluator_cert.ui.trainee import gate_badge, remediation_banner

actor = state.require("trainee")
ctx = state.app()
catalog = ctx.catalog()
now = utcnow()

with ctx.session() as session:
    record, overview = attempts.trainee_standing(session, actor, catalog, now=now)
    notices = overrides.notices_for(session, actor)

st.title(f"Welcome, {actor.display_name}")
remediation_banner(record.remediation_modules)
st.info(f"**Next step:** {overview.next_step}", icon=":material/flag:")
if notices:
    with st.expander(f"Notices from your instructors ({len(notices)})", expanded=True):
        for notice in notices:
            st.text(notice)

for level in catalog.levels:
    modules = catalog.modules_of(level.id)
    passed = sum(overview.modules[m.id].passed for m in modules)
    gate = overview.levels[level.id]
    with st.container(border=True):
        head, stat = st.columns([3, 1])
        head.subheader(f"{level.id} {level.title}")
        head.caption(level.description)
        stat.metric("Modules passed", f"{passed} / {len(modules)}")
        st.progress(passed / max(1, len(modules)))
        if not gate.open:
            st.caption(f":material/lock: {gate.reason}")
        for module in modules:
            mg = overview.modules[module.id]
            c1, c2, c3 = st.columns([4, 4, 2])
            c1.markdown(f"{gate_badge(mg)} **{module.id}** {module.title}")
            c2.caption(mg.reason)
            if mg.open and c3.button(
                "Practise", key=f"go_{module.id}", icon=":material/edit_note:"
            ):
                st.session_state["practice_module"] = module.id
                st.switch_page("app_pages/practice.py")
        exam = overview.exams[level.id]
        st.markdown(f"**{level.id} exam** — {exam.reason}")
        if exam.open and st.button(f"Go to the {level.id} exam", key=f"exam_{level.id}"):
            st.session_state["exam_level"] = level.id
            st.switch_page("app_pages/exam.py")
