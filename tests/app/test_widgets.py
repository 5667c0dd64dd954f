"""Every task type's widget: a right and a wrong answer are graded correctly, and neither the
gold nor the explanation is on the page before the answer is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from evaluator_cert.content.catalog import load_catalog
from evaluator_cert.content.schema import Item
from evaluator_cert.services.attempts import display_order
from evaluator_cert.text import tokenize
from evaluator_cert.ui.widgets import VERDICT_LABELS, gold_text
from tests.app.conftest import page_text

SEED = 7
CATALOG = load_catalog()


def harness() -> None:
    import streamlit as st

    from evaluator_cert import grading
    from evaluator_cert.content.catalog import load_catalog
    from evaluator_cert.services.attempts import AnswerView
    from evaluator_cert.ui.widgets import answer_widget, show_feedback

    catalog = load_catalog()
    item = catalog.item(st.session_state["item_id"])
    if "graded" in st.session_state:
        grade = st.session_state["graded"]
        view = AnswerView(
            item.id,
            st.session_state["answer"],
            grade.score,
            grade.correct,
            grade.pending_review,
            {**grade.details, "explanation": item.explanation},
        )
        show_feedback(item, view, catalog.media_path)
    else:
        answer = answer_widget(item, seed=7, media=catalog.media_path, key="w")
        if answer is not None:
            st.session_state["answer"] = answer
            st.session_state["graded"] = grading.grade_item(item, answer)
            st.rerun()


def first_item(task_type: str, predicate: Callable[[Item], bool] = lambda i: True) -> Item:
    return next(
        i
        for i in CATALOG.items
        if i.type == task_type and CATALOG.item_origin(i.id).kind == "practice" and predicate(i)
    )


def _fill_classification(at: AppTest, item: Any, right: bool) -> None:
    label = item.gold if right else next(lbl for lbl in item.labels if lbl != item.gold)
    at.radio(key="w_l").set_value(label)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_rubric(at, item, right):
    for dim, gold in item.gold.items():
        value = gold if right else (item.scale_max if gold <= 2 else item.scale_min)
        at.radio(key=f"w_{dim}").set_value(value)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_pairwise(at, item, right):
    order = display_order(SEED, item.id, ["A", "B"])
    target = item.gold if right else ("A" if item.gold != "A" else "B")
    option = (
        "Tie: equally good" if target == "tie" else f"Response {order.index(target) + 1} is better"
    )
    at.radio(key="w_p").set_value(option)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_ranking(at, item, right):
    order = list(item.gold) if right else list(reversed(item.gold))
    at.multiselect(key="w_r").set_value(order)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_justification(at, item, right):
    choice = item.gold if right else next(c for c in item.choices if c != item.gold)
    words = " ".join(kp.keywords[0] for kp in item.key_points) if right else ""
    text = (words + " " + "this is my careful reasoning about the rubric " * 10).strip()
    at.radio(key="w_c").set_value(choice)
    at.text_area(key="w_t").input(text)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_fact_check(at, item, right):
    for claim in item.claims:
        value = claim.gold if right else next(v for v in VERDICT_LABELS if v != claim.gold)
        at.radio(key=f"w_{claim.id}").set_value(value)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_span(at, item, right):
    chosen: dict[str, list[int]] = {label: [] for label in item.labels}
    if right:
        for start, end, label in item.gold_spans:
            chosen[label].extend(range(start, end))
    else:
        n = len(tokenize(item.text))
        gold_tokens = {t for s, e, _ in item.gold_spans for t in range(s, e)}
        chosen[item.labels[0]] = [t for t in range(n) if t not in gold_tokens][:2]
    for label, tokens in chosen.items():
        at.button_group(key=f"w_{label}").set_value(tokens)
    at.button(key="FormSubmitter:w-Submit answer").click()


def _fill_bbox(at, item, right):
    boxes = [g.box for g in item.gold] if right else [(0, 0, 5, 5)]
    labels = [g.label for g in item.gold] if right else [item.labels[0]]
    for label, (x0, y0, x1, y1) in zip(labels, boxes, strict=True):
        at.selectbox(key="w_label").set_value(label)
        for name, value in zip(("x0", "y0", "x1", "y1"), (x0, y0, x1, y1), strict=True):
            at.number_input(key=f"w_{name}").set_value(round(value))
        at.button(key="FormSubmitter:w_add-Add box").click()
        at.run()
    at.button(key="w_submit").click()


def _fill_transcription(at, item, right):
    at.text_area(key="w_t").input(item.gold if right else "something else entirely")
    at.button(key="FormSubmitter:w-Submit answer").click()


FILLERS = {
    "classification": _fill_classification,
    "rubric_rating": _fill_rubric,
    "pairwise": _fill_pairwise,
    "ranking": _fill_ranking,
    "justification": _fill_justification,
    "fact_check": _fill_fact_check,
    "span": _fill_span,
    "bounding_box": _fill_bbox,
    "transcription": _fill_transcription,
}


def _item_for(task_type: str) -> Item:
    if task_type == "span":
        return first_item("span", lambda i: bool(i.gold))
    if task_type == "pairwise":
        return first_item("pairwise", lambda i: i.gold != "tie")
    return first_item(task_type)


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
@pytest.mark.parametrize("task_type", sorted(FILLERS))
def test_widget_grades_right_and_wrong_without_leaking_gold(task_type: str, right: bool) -> None:
    item = _item_for(task_type)
    at = AppTest.from_function(harness, default_timeout=30)
    at.session_state["item_id"] = item.id
    at.run()
    assert not at.exception
    before = page_text(at)
    assert item.explanation not in before
    assert gold_text(item) not in before
    assert "Gold" not in before

    FILLERS[task_type](at, item, right)
    at.run()
    assert not at.exception, at.exception
    grade = at.session_state["graded"]
    assert grade.correct is right, (item.id, at.session_state["answer"], grade.details)
    after = page_text(at)
    assert item.explanation in after
    if right:
        assert at.success or at.info  # justification: the written part awaits review
    else:
        assert at.error
