"""Calibration (trainee): annotate a session's items blind; see the results once published.
Also recertification on a level's calibration batch."""

from __future__ import annotations

import streamlit as st

from evaluator_cert.services import calibration
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import user_errors
from evaluator_cert.ui.widgets import (
    TASK_TITLES,
    answer_text,
    answer_widget,
    escape_markdown,
    published_expert_text,
)

actor = state.require("trainee")
ctx = state.app()
catalog = ctx.catalog()

st.title("Calibration")
st.caption(
    "Calibration items are answered blind: you see no gold and no feedback until your "
    "instructor publishes the session's results."
)


def answer_flow(attempt_id: int, key: str) -> None:
    with user_errors(), ctx.session() as session:
        view = calibration.blind_attempt(session, actor, attempt_id)
        total = len(view.item_ids)
        st.progress(len(view.answered) / max(1, total), text=f"{len(view.answered)} of {total}")
        item_id = view.next_item_id
        if item_id is None or view.status != "open":
            st.success("All answered. Thank you.")
            if view.result:
                st.info(view.result["reason"])
            return
        item = catalog.item(item_id)
        st.caption(TASK_TITLES[item.type])
        answer = answer_widget(
            item, seed=view.seed, media=catalog.media_path, key=f"{key}_{item_id}"
        )
        if answer is not None:
            calibration.answer_calibration(session, actor, catalog, attempt_id, item_id, answer)
            st.rerun()


def show_results(session_id: int, attempt_id: int | None) -> None:
    """The published results, each answer worded as practice feedback words gold."""
    with user_errors(), ctx.session() as session:
        results = calibration.published_feedback(session, actor, catalog, session_id)
        given = calibration.blind_attempt(session, actor, attempt_id).answered if attempt_id else {}
        items = [catalog.item(item_id) for item_id in results["item"]]
        results["your answer"] = [
            answer_text(item, given[item.id]) if item.id in given else "(not answered)"
            for item in items
        ]
        results["expert"] = [
            published_expert_text(item, expert)
            for item, expert in zip(items, results["expert"], strict=True)
        ]
        st.dataframe(results, hide_index=True, key=f"fb_{session_id}")
        noted = results[results["note"] != ""]
        if not noted.empty:
            st.markdown("**Notes from your instructor**")
        for row in noted.itertuples(index=False):
            st.caption(escape_markdown(f"{row.item} · yours: {row[1]} · expert: {row.expert}"))
            st.text(row.note)


with ctx.session() as session:
    mine = calibration.my_calibrations(session, actor)

if not mine:
    st.info("You are not part of any calibration session yet.")
for cal in mine:
    with st.expander(f"{cal.title} ({cal.level_id}) — {cal.status}", expanded=True):
        if cal.status == "published":
            show_results(cal.session_id, cal.attempt_id)
        elif cal.status == "open":
            if cal.attempt_id is None:
                if st.button("Start", key=f"start_{cal.session_id}"):
                    with user_errors(), ctx.session() as session:
                        calibration.start_calibration(session, actor, catalog, cal.session_id)
                        st.rerun()
            else:
                answer_flow(cal.attempt_id, f"cal{cal.session_id}")
        else:
            st.caption("This session is closed; results will appear when published.")

st.header("Recertification")
level_id = st.selectbox("Level", [lv.id for lv in catalog.levels], key="recert_level")
threshold = catalog.level(level_id).recertification_threshold
st.caption(
    f"Renew your {level_id} credential by agreeing with the experts at {threshold:.2f} or more "
    "on the level's calibration batch."
)
attempt_key = f"recert_{level_id}"
if attempt_key not in st.session_state:
    if st.button("Start recertification", key="recert_start"):
        with user_errors(), ctx.session() as session:
            st.session_state[attempt_key] = calibration.start_recertification(
                session, actor, catalog, level_id
            )
            st.rerun()
else:
    answer_flow(int(st.session_state[attempt_key]), attempt_key)
