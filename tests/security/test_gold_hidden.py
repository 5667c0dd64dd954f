"""Gold and explanations never reach a trainee's screen before that trainee has answered,
exam gold never does, and the HTTP API never returns either.

Every practice and exam item of the shipped content is rendered through the real answer
widget; the rendered element tree (every string of every element) must contain none of the
feedback-only text.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from evaluator_cert.config import REPO_ROOT
from evaluator_cert.content.catalog import load_catalog
from evaluator_cert.content.schema import (
    FactCheckItem,
    Item,
    JustificationItem,
    TranscriptionItem,
)
from evaluator_cert.db.models import Attempt, utcnow
from evaluator_cert.services import attempts
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer
from evaluator_cert.ui.widgets import gold_text
from tests.app.conftest import app_as

CATALOG = load_catalog(REPO_ROOT)
ASSESSED: list[Item] = [
    *(i for m in CATALOG.modules for i in CATALOG.practice_items(m.id)),
    *(i for lv in CATALOG.levels for i in CATALOG.exam_bank(lv.id)),
    # calibration batches are answered blind too
    *(i for lv in CATALOG.levels for i in CATALOG.calibration_batch(lv.id)),
]
TYPES = sorted({i.type for i in ASSESSED})
TIMINGS: dict[str, float] = {}


def _widget_script() -> None:
    # Runs as its own Streamlit script: imports and caching live inside it.
    import streamlit as st

    from evaluator_cert.config import REPO_ROOT
    from evaluator_cert.content.catalog import load_catalog
    from evaluator_cert.ui.widgets import answer_widget

    @st.cache_resource
    def catalog():  # type: ignore[no-untyped-def]
        return load_catalog(REPO_ROOT)

    cat = catalog()
    item = cat.item(st.session_state["item_id"])
    answer_widget(item, seed=7, media=cat.media_path, key=f"w_{item.id}")


def _strings(message: Message) -> Iterator[str]:
    for _field, value in message.ListFields():
        scalar = isinstance(value, str | bytes | Message) or not hasattr(value, "__iter__")
        values = [value] if scalar else list(value)
        for v in values:
            if isinstance(v, Message):
                yield from _strings(v)
            elif isinstance(v, str):
                yield v
            elif isinstance(v, bytes):
                yield v.decode("utf-8", "replace")


def rendered_text(at: AppTest) -> str:
    """Every string in every element and block of the rendered page."""
    out: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            out.extend(_strings(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def feedback_only_text(item: Item) -> list[str]:
    """Text that appears only in feedback: gold in words, explanation, notes, key points.

    Raw gold values that are also the choices on screen (labels, A/B, verdicts, scores,
    span phrases from the visible text) are left out: they are shown as options.
    """
    texts = [item.explanation, gold_text(item), gold_text(item).replace("**", "")]
    if item.contested:
        texts.append(item.contested)
    if isinstance(item, TranscriptionItem):
        texts.append(item.gold)
    if isinstance(item, FactCheckItem):
        texts += [c.note for c in item.claims if c.note]
    if isinstance(item, JustificationItem):
        texts += [k.point for k in item.key_points]
    return [t for t in texts if t and len(t.strip()) >= 4]


def test_the_shipped_content_is_all_here() -> None:
    assert len(ASSESSED) >= 600
    assert len(TYPES) == 9


@pytest.mark.parametrize("task_type", TYPES)
def test_no_item_shows_gold_or_explanation_before_answering(task_type: str) -> None:
    items = [i for i in ASSESSED if i.type == task_type]
    at = AppTest.from_function(_widget_script, default_timeout=30)
    start = time.perf_counter()
    for item in items:
        at.session_state["item_id"] = item.id
        at.run()
        assert not at.exception, (item.id, at.exception)
        page = rendered_text(at)
        assert item.instructions in page  # the widget really rendered this item
        for secret in feedback_only_text(item):
            assert secret not in page, f"{item.id} shows feedback-only text: {secret[:80]!r}"
    TIMINGS[task_type] = time.perf_counter() - start


def test_the_check_would_catch_a_leak() -> None:
    """Guard against a vacuous check: the feedback view does contain the same text."""

    def script() -> None:
        import streamlit as st

        from evaluator_cert.config import REPO_ROOT
        from evaluator_cert.content.catalog import load_catalog
        from evaluator_cert.services.attempts import AnswerView
        from evaluator_cert.ui.widgets import show_feedback

        cat = load_catalog(REPO_ROOT)
        item = cat.item(st.session_state["item_id"])
        view = AnswerView(item.id, {}, 0.0, False, False, {"explanation": item.explanation})
        show_feedback(item, view, cat.media_path)

    at = AppTest.from_function(script, default_timeout=30)
    for task_type in TYPES:
        item = next(i for i in ASSESSED if i.type == task_type)
        at.session_state["item_id"] = item.id
        at.run()
        page = rendered_text(at)
        assert item.explanation in page and gold_text(item) in page


# ------------------------------------------------------------------------- the pages


def _exam_attempt(ctx: Any, user_id: int, level_id: str = "L1") -> int:
    bank = CATALOG.exam_bank(level_id)
    now = utcnow()
    with ctx.session() as s:
        exam = Attempt(
            user_id=user_id,
            kind="exam",
            level_id=level_id,
            content_version=CATALOG.version,
            form=attempts.draw_exam_form(bank, 12, 5),
            seed=5,
            started_at=now,
            deadline_at=now + timedelta(minutes=45),
        )
        s.add(exam)
        s.commit()
        return exam.id


def test_exam_page_never_shows_gold_even_after_answers(app_ctx, make_user) -> None:
    user = make_user("tess")
    actor = Actor.of(user)
    attempt_id = _exam_attempt(app_ctx, user.id)
    catalog = app_ctx.base_catalog
    rng = random.Random(2)
    with app_ctx.session() as s:
        form = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids
        for key in form[:6]:
            saved = attempts.record_answer(
                s, actor, catalog, attempt_id, key, simulated_answer(catalog.item(key), 0.5, rng)
            )
            assert saved.feedback is None
        view = attempts.attempt_view(s, actor, catalog, attempt_id)
    assert all(a.feedback is None for a in view.answers.values())
    at = app_as(user, "exam.py")
    at.run()
    assert not at.exception and not at.error
    page = rendered_text(at)
    assert catalog.item(form[6]).instructions in page  # the next item is on screen
    for key in form:
        for secret in feedback_only_text(catalog.item(key)):
            assert secret not in page, f"exam page shows {key}: {secret[:80]!r}"
    # After submission the result is shown, still without gold.
    with app_ctx.session() as s:
        attempts.submit_exam(s, actor, catalog, attempt_id)
    at = app_as(user, "exam.py")
    at.run()
    assert not at.exception
    page = rendered_text(at)
    for key in form:
        for secret in feedback_only_text(catalog.item(key)):
            assert secret not in page


def test_practice_page_shows_gold_only_after_the_answer(app_ctx, make_user) -> None:
    user = make_user("pia")
    actor = Actor.of(user)
    catalog = app_ctx.base_catalog
    module_id = catalog.modules_of("L1")[0].id
    with app_ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id)
        first = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids[0]
    item = catalog.item(attempts.base_item_id(first))
    at = app_as(user)  # through app.py: the page links to its siblings
    at.switch_page("app_pages/practice.py")
    at.run()
    assert not at.exception
    page = rendered_text(at)
    assert item.instructions in page
    assert item.explanation not in page and gold_text(item) not in page
    # once answered (through the service, as the form does) the feedback view shows it
    with app_ctx.session() as s:
        attempts.record_answer(
            s, actor, catalog, attempt_id, first, simulated_answer(item, 1.0, random.Random(0))
        )
    at.session_state[f"feedback_{attempt_id}"] = first
    at.run()
    assert item.explanation in rendered_text(at)
