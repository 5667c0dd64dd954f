"""Level exams: a fresh form per attempt, timed, saved as given; gold never shown."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from evaluator_cert.db.models import utcnow
from evaluator_cert.errors import DomainError
from evaluator_cert.services import attempts
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import show_error, user_errors
from evaluator_cert.ui.trainee import remediation_banner, time_left
from evaluator_cert.ui.widgets import TASK_TITLES, answer_widget

actor = state.require("trainee")
ctx = state.app()
catalog = ctx.catalog()
now = utcnow()

with ctx.session() as session:
    record, overview = attempts.trainee_standing(session, actor, catalog, now=now)

st.title("Exams")
remediation_banner(record.remediation_modules)
levels = [lv.id for lv in catalog.levels]
wanted = st.session_state.get("exam_level")
level_id = (
    st.segmented_control(
        "Level", levels, default=wanted if wanted in levels else levels[0], key="exam_level_pick"
    )
    or levels[0]
)
level = catalog.level(level_id)
rules = level.exam
gate = overview.exams[level_id]
st.caption(
    f"{rules.form_size} items drawn fresh for each attempt, {rules.time_limit_minutes} minutes, "
    f"{rules.max_attempts} attempts per {rules.window_days} days with a {rules.cooldown_hours:g} h "
    f"cooldown. Pass: agreement ≥ {rules.pass_threshold:.2f} overall, and no dimension (task "
    f"type or rubric dimension) shown below {rules.dimension_threshold:.2f} on enough items to "
    "judge."
)

STATUS_COLOURS = {
    "met": "#2e7d32",
    "too few items to judge": "#9e9e9e",
    "below the bar": "#c62828",
}


def show_result(result: dict, passed: bool) -> None:
    if passed:
        st.success(
            f"Passed with overall agreement {result.get('overall', 0):.2f}.",
            icon=":material/workspace_premium:",
        )
        st.page_link(
            "app_pages/my_credentials.py",
            label="See your credential",
            icon=":material/workspace_premium:",
        )
    else:
        st.error(f"Not passed. {result.get('reason', '')}")
    dims = result.get("dimensions") or {}
    failing = set(result.get("failing") or ())
    unproven = set(result.get("unproven") or ())
    floor = rules.dimension_threshold
    rows = [
        {
            "dimension": name,
            "agreement": value,
            "status": "below the bar"
            if name in failing or (value < floor and name not in unproven)
            else "too few items to judge"
            if name in unproven
            else "met",
        }
        for name, value in dims.items()
        if value is not None
    ]
    if rows:
        frame = pd.DataFrame(rows)
        fig = px.bar(
            frame,
            x="agreement",
            y="dimension",
            color="status",
            color_discrete_map=STATUS_COLOURS,
            orientation="h",
            range_x=[min(-0.2, frame.agreement.min()), 1],
        )
        fig.add_vline(x=floor, line_dash="dash", annotation_text="dimension bar")
        fig.update_layout(height=120 + 40 * len(frame), margin={"t": 30}, legend_title_text="")
        st.plotly_chart(fig, key=f"dims_{result.get('items')}_{result.get('overall')}")
    perfect = [name for name, value in dims.items() if value is None]
    if perfect:
        st.caption(
            "No disagreement to measure on "
            + ", ".join(perfect)
            + ": every answer there matched the expert."
        )
    if result.get("timed_out"):
        st.caption("The time limit closed this attempt; the answers saved by then were graded.")


with ctx.session() as session:
    open_id = attempts.open_attempt_id(session, actor, kind="exam", level_id=level_id)

if open_id is None:
    if gate.open:
        st.info(gate.reason)
        if st.button(f"Start the {level_id} exam now", type="primary", icon=":material/timer:"):
            with user_errors(), ctx.session() as session:
                attempts.start_exam(session, actor, catalog, level_id)
                st.rerun()
    else:
        st.info(gate.reason, icon=":material/lock:")
    with ctx.session() as session:
        history = attempts.exam_history(session, actor, level_id)
    if history:
        st.subheader("Your attempts")
        last = history[0]
        if last.result:
            show_result(last.result, bool(last.passed))
        st.dataframe(
            [
                {
                    "started": h.started_at,
                    "overall agreement": h.agreement,
                    "passed": h.passed,
                    "answered": (h.result or {}).get("answered"),
                }
                for h in history
            ],
            hide_index=True,
        )
    st.stop()


@st.fragment(run_every=30)
def clock(attempt_id: int) -> None:
    with ctx.session() as session:
        view = attempts.attempt_view(session, actor, catalog, attempt_id)
    if view.status != "open":
        st.rerun()
    st.metric("Time left", time_left(view.deadline_at, utcnow()))


@st.fragment
def exam(attempt_id: int) -> None:
    try:
        with ctx.session() as session:
            view = attempts.attempt_view(session, actor, catalog, attempt_id)
    except DomainError as exc:
        show_error(exc)
        return
    if view.status != "open":
        st.rerun()
    total = len(view.item_ids)
    st.progress(
        view.answered / total, text=f"{view.answered} of {total} answered (each saved as you go)"
    )
    item_id = view.next_item_id
    if item_id is not None:
        item = catalog.item(item_id)
        st.subheader(
            f"{TASK_TITLES[item.type]} · item {view.item_ids.index(item_id) + 1} of {total}"
        )
        answer = answer_widget(
            item, seed=view.seed, media=catalog.media_path, key=f"x_{attempt_id}_{item_id}"
        )
        if answer is not None:
            with user_errors(), ctx.session() as session:
                attempts.record_answer(session, actor, catalog, attempt_id, item_id, answer)
                st.toast("Saved.")
                st.rerun(scope="fragment")
    else:
        st.success("All items answered. Submit when you are ready.")
    with st.popover("Submit exam", icon=":material/send:"):
        unanswered = total - view.answered
        if unanswered:
            st.warning(f"{unanswered} items are unanswered and will count as wrong.")
        if st.button("Yes, submit now", type="primary", key="confirm_submit"):
            with user_errors(), ctx.session() as session:
                attempts.submit_exam(session, actor, catalog, attempt_id)
                st.rerun()


clock(open_id)
exam(open_id)
