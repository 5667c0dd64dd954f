"""Practice workspace: one item at a time, feedback after each answer, saved as given."""

from __future__ import annotations

import time

import streamlit as st

from evaluator_cert.db.models import utcnow
from evaluator_cert.errors import DomainError
from evaluator_cert.services import attempts, disputes
from evaluator_cert.ui import state
from evaluator_cert.ui.errors import show_error, user_errors
from evaluator_cert.ui.trainee import remediation_banner
from evaluator_cert.ui.widgets import TASK_TITLES, answer_widget, show_feedback, show_material

MIN_SHOWN_AGREEMENT = 8

actor = state.require("trainee")
ctx = state.app()
catalog = ctx.catalog()

with ctx.session() as session:
    record, overview = attempts.trainee_standing(session, actor, catalog, now=utcnow())
    resume_module = attempts.current_practice_module(session, actor)

st.title("Practice")
remediation_banner(record.remediation_modules)
open_ids = [m.id for m in catalog.modules if overview.modules[m.id].open]
if not open_ids:
    st.info("No module is open yet. " + overview.next_step)
    st.stop()
# Default to the module chosen elsewhere, else the first open module not yet passed.
todo = [m for m in open_ids if not overview.modules[m].passed]
wanted = (
    st.session_state.get("practice_module")
    or resume_module  # a reload or a new visit returns to the set in progress
    or (todo[0] if todo else open_ids[0])
)
# A keyed widget keeps the trainee's pick; an index that follows it would remount the widget
# under a new identity on the next run and silently undo a second change of module.
# Another page (home, lessons) hands a module over by changing practice_module.
handed_over = st.session_state.get("practice_module") != st.session_state.get("practice_synced")
if handed_over or st.session_state.get("practice_pick") not in open_ids:
    st.session_state["practice_pick"] = wanted if wanted in open_ids else open_ids[0]
module_id = st.selectbox(
    "Module",
    open_ids,
    key="practice_pick",
    # Title and pass state only: the answer area reruns on its own, so a running count here
    # would go stale (the progress bar below carries it).
    format_func=lambda m: (
        f"{m} {catalog.module(m).title}" + (" — passed" if overview.modules[m].passed else "")
    ),
)
st.session_state["practice_module"] = st.session_state["practice_synced"] = module_id
module = catalog.module(module_id)
st.page_link(
    "app_pages/learn.py", label=f"Read the {module_id} lesson", icon=":material/menu_book:"
)


def challenge_form(key: str) -> None:
    """Challenge the gold of the item just answered; the text stays when the send fails."""
    sent_key = f"dispute_sent_{key}"
    with st.expander("Challenge this gold", expanded=sent_key in st.session_state):
        if st.session_state.get(sent_key):
            st.success("Sent. You will see the outcome on your dashboard.")
            return
        with st.form(f"dispute_{key}"):
            reason = st.text_area(
                "Why do you think the gold is wrong?", max_chars=2000, key=f"dispute_text_{key}"
            )
            if st.form_submit_button("Send to an instructor"):
                with user_errors(), ctx.session() as session:
                    disputes.open_dispute(
                        session, actor, catalog, attempts.base_item_id(key), reason
                    )
                    st.session_state[sent_key] = True
                    st.rerun(scope="fragment")


def progress_news(module_id: str) -> bool:
    """Say what the last answer changed (module passed, modules opened, remediation started),
    against the page as last drawn in full. True when something did."""
    with ctx.session() as session:
        fresh_record, fresh = attempts.trainee_standing(session, actor, catalog, now=utcnow())
    now_reassigned = fresh_record.remediation_modules
    changed = False
    if fresh.modules[module_id].passed and not overview.modules[module_id].passed:
        opened = [
            m for m, gate in fresh.modules.items() if gate.open and not overview.modules[m].open
        ]
        more = f" Now open: {', '.join(opened)}." if opened else ""
        st.success(f"You passed {module_id} {module.title}.{more}", icon=":material/celebration:")
        changed = True
    if now_reassigned and not record.remediation_modules:
        st.warning(
            f"{fresh.next_step} Your rolling agreement fell below the bar, so "
            f"{', '.join(sorted(now_reassigned))} are reassigned; exams reopen once you pass "
            "them again. This set stays open.",
            icon=":material/school:",
        )
        changed = True
    return changed


@st.fragment
def workspace(module_id: str) -> None:
    """Answering reruns only this part of the page."""
    try:
        with ctx.session() as session:
            attempt_id = attempts.open_attempt_id(
                session, actor, kind="practice", module_id=module_id
            )
            if attempt_id is None:
                gate = overview.modules[module_id]
                label = "Practise again" if gate.passed else "Start the practice set"
                if gate.passed:
                    st.success(f"{module_id} is passed. You can practise it again at any time.")
                st.caption(
                    f"{attempts.practice_set_size(catalog, module_id)} items, one at a time, "
                    "with the expert's answer and explanation after each. Each answer is saved "
                    "the moment you submit it."
                )
                if not st.button(label, type="primary", icon=":material/play_arrow:"):
                    return
                attempts.start_practice(session, actor, catalog, module_id)
                # Rerun so the start button and its caption do not linger above the first item.
                st.rerun()
            view = attempts.attempt_view(session, actor, catalog, attempt_id)
    except DomainError as exc:
        show_error(exc)
        return
    total = len(view.item_ids)
    st.progress(view.answered / max(1, total), text=f"{view.answered} of {total} answered")
    # A kappa over a handful of answers says little; show it once there is some evidence.
    if view.agreement is not None and view.answered >= MIN_SHOWN_AGREEMENT:
        st.caption(
            f"Agreement so far: {view.agreement:.2f} (passes at {module.gate.threshold:.2f} "
            f"over at least {module.gate.min_items} items)"
        )

    shown_key = f"feedback_{attempt_id}"
    seen_key = f"feedback_seen_{attempt_id}"
    shown = st.session_state.get(shown_key)
    if shown and shown in view.answers:
        item = catalog.item(attempts.base_item_id(shown))
        st.subheader(f"{TASK_TITLES[item.type]} · {item.id}")
        with st.expander("The item", expanded=False):
            show_material(item, catalog.media_path)
        show_feedback(item, view.answers[shown], catalog.media_path)
        st.session_state[seen_key] = shown
        challenge_form(shown)
        changed = progress_news(module_id)
        if st.button("Next item", type="primary", icon=":material/arrow_forward:"):
            st.session_state.pop(shown_key, None)
            # When this answer changed the trainee's standing, or ended the set, refresh the
            # whole page so the module picker and the banners show it.
            st.rerun(scope="app" if changed or view.next_item_id is None else "fragment")
        return

    item_id = view.next_item_id
    if item_id is None:
        if view.passed:
            st.success(f"Set complete and passed (agreement {view.agreement:.2f}).")
        else:
            reason = (view.result or {}).get("reason", "")
            st.warning(f"Set complete. {reason}")
        if st.button("Practise this module again (fresh order)"):
            with user_errors(), ctx.session() as session:
                attempts.restart_practice(session, actor, catalog, module_id)
            st.rerun(scope="fragment")
        return

    last = next(reversed(view.answers), None)
    if last is not None and st.session_state.get(seen_key) != last:
        # Back after a reload or a break: the explanation of the last answer was never shown.
        with st.expander("Your last answer and the expert's explanation", expanded=True):
            show_feedback(catalog.item(attempts.base_item_id(last)), view.answers[last],
                          catalog.media_path)  # fmt: skip
        st.session_state[seen_key] = last
    item = catalog.item(attempts.base_item_id(item_id))
    st.subheader(f"{TASK_TITLES[item.type]} · item {view.answered + 1} of {total}")
    started_key = f"started_{attempt_id}_{item_id}"
    st.session_state.setdefault(started_key, time.monotonic())
    answer = answer_widget(
        item, seed=view.seed, media=catalog.media_path, key=f"w_{attempt_id}_{item_id}"
    )
    if answer is not None:
        elapsed = int((time.monotonic() - st.session_state.pop(started_key)) * 1000)
        with user_errors(), ctx.session() as session:
            attempts.record_answer(
                session, actor, catalog, attempt_id, item_id, answer, duration_ms=elapsed
            )
            st.session_state[shown_key] = item_id
            st.rerun(scope="fragment")


workspace(module_id)
