"""Every task type's widget: a right and a wrong answer are graded correctly, and neither the
gold nor the explanation is on the page before the answer is given."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from evaluator_cert.content.catalog import load_catalog
from evaluator_cert.content.schema import Item
from evaluator_cert.services import calibration
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.attempts import display_order
from evaluator_cert.simulation import simulated_answer
from evaluator_cert.text import tokenize
from evaluator_cert.ui.widgets import (
    VERDICT_LABELS,
    answer_text,
    escape_markdown,
    excerpt,
    gold_answer,
    gold_text,
    humanise,
    token_option_labels,
)
from tests.app.conftest import app_as, page_text

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


# ------------------------------------------------------------------- span labelling


def _answered(item_id: str, fill: Callable[[AppTest], None]) -> AppTest:
    """The harness after answering ``item_id`` with ``fill`` and submitting."""
    at = AppTest.from_function(harness, default_timeout=30)
    at.session_state["item_id"] = item_id
    at.run()
    fill(at)
    at.run()
    assert not at.exception, at.exception
    return at


def _mark_tokens(chosen: dict[str, list[int]]) -> Callable[[AppTest], None]:
    def fill(at: AppTest) -> None:
        for label, tokens in chosen.items():
            at.button_group(key=f"w_{label}").set_value(tokens)
        at.button(key="FormSubmitter:w-Submit answer").click()

    return fill


def test_the_first_of_two_identical_words_can_be_marked() -> None:
    """ "Canberra rejected … officials in Canberra": the first Canberra is the organisation."""
    at = _answered("L1_M001_P27", _mark_tokens({"ORG": [0]}))
    assert at.session_state["answer"]["spans"] == [{"start": 0, "end": 1, "label": "ORG"}]
    assert "Your spans: **“Canberra” ORG**" in [m.value for m in at.markdown]


@pytest.mark.parametrize("item_id", ["L1_M001_P27", "L1_M001_P26", "L3_M202_P16"])
def test_gold_spans_over_repeated_words_grade_as_right(item_id: str) -> None:
    item = CATALOG.item(item_id)
    chosen: dict[str, list[int]] = {label: [] for label in item.labels}
    for start, end, label in item.gold_spans:
        chosen[label].extend(range(start, end))
    at = _answered(item_id, _mark_tokens(chosen))
    saved = [(s["start"], s["end"], s["label"]) for s in at.session_state["answer"]["spans"]]
    assert saved == item.gold_spans
    assert at.session_state["graded"].correct


def test_every_span_token_is_its_own_option_and_reads_as_itself() -> None:
    for item in CATALOG.items:
        if item.type != "span":
            continue
        tokens = [t.text for t in tokenize(item.text)]
        labels = token_option_labels(tokens)
        assert len(set(labels)) == len(labels), item.id
        assert [label.replace("\u200b", "") for label in labels] == tokens


# ------------------------------------------------------------------- bounding boxes


def _select_box(at: AppTest, xs: list[float], ys: list[float]) -> None:
    """What the chart reports after a box drag (box select) on the image."""
    at.session_state["w_chart"] = {
        "selection": {
            "points": [],
            "point_indices": [],
            "box": [{"xref": "x", "yref": "y", "x": xs, "y": ys}],
            "lasso": [],
        }
    }
    at.run()
    assert not at.exception, at.exception


def _corners(at: AppTest) -> list[int]:
    return [at.number_input(key=f"w_{corner}").value for corner in ("x0", "y0", "x1", "y1")]


def test_dragging_a_box_fills_the_corner_inputs_and_adds_the_box() -> None:
    item = first_item("bounding_box")
    at = AppTest.from_function(harness, default_timeout=30)
    at.session_state["item_id"] = item.id
    at.run()
    assert _corners(at) == [0, 0, 0, 0]
    _select_box(at, [50.4, 10.2], [60.0, 20.0])  # dragged up and to the left
    assert _corners(at) == [10, 20, 50, 60]
    # Corners typed after the drag stick: the same selection is not copied again.
    at.number_input(key="w_x0").set_value(15)
    at.button(key="FormSubmitter:w_add-Add box").click()
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["w_boxes"] == [{"label": item.labels[0], "box": [15, 20, 50, 60]}]
    # A drag past the image's edge is held to the image.
    _select_box(at, [-30.0, item.width + 40.0], [5.0, item.height + 9.0])
    assert _corners(at) == [0, 5, item.width, item.height]


# ------------------------------------------------------------------ feedback, your answer


def _feedback_lines(at: AppTest) -> list[str]:
    return [e.value for e in [*at.markdown, *at.caption, *at.text]]


def test_ranking_feedback_shows_your_order_next_to_gold() -> None:
    item = first_item("ranking")
    at = _answered(item.id, lambda at: _fill_ranking(at, item, False))
    lines = _feedback_lines(at)
    assert f"Gold ranking: **{' > '.join(item.gold)}**" in lines
    assert f"Your ranking: **{' > '.join(reversed(item.gold))}**" in lines


def test_transcription_feedback_shows_your_text_next_to_the_reference() -> None:
    item = first_item("transcription")
    at = _answered(item.id, lambda at: _fill_transcription(at, item, False))
    lines = _feedback_lines(at)
    assert gold_text(item) in lines
    assert "something else entirely" in [t.value for t in at.text]
    assert any(line.startswith("word error rate:") for line in lines)


def test_justification_feedback_shows_your_choice_and_your_words() -> None:
    item = first_item("justification")
    at = _answered(item.id, lambda at: _fill_justification(at, item, False))
    answer = at.session_state["answer"]
    assert f"Your choice: **{humanise(answer['choice'])}**" in _feedback_lines(at)
    shown = [t.value for t in at.text]
    assert excerpt(answer["text"]) in shown
    assert excerpt(answer["text"]).endswith("…")  # long answers are cut to their start


def test_box_feedback_draws_your_boxes_and_gold_in_two_colours_with_a_legend() -> None:
    item = first_item("bounding_box")
    at = _answered(item.id, lambda at: _fill_bbox(at, item, False))
    yours = escape_markdown(f"{humanise(item.labels[0])} [0, 0, 5, 5]")
    assert f"Your boxes: **{yours}**" in _feedback_lines(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    legend = {t["name"]: t["line"]["color"] for t in spec["data"] if t.get("name")}
    assert set(legend) == {"Gold boxes", "Your boxes"}
    assert len(set(legend.values())) == 2
    assert spec["layout"]["showlegend"] is True
    outlines = [t for t in spec["data"] if t.get("mode") == "lines" and not t.get("name")]
    assert len(outlines) == len(item.gold) + 1  # every gold box and the one drawn


def test_fact_check_feedback_names_claims_by_their_text_never_their_ids() -> None:
    item = first_item("fact_check", lambda i: len(i.claims) >= 2)
    at = _answered(item.id, lambda at: _fill_fact_check(at, item, False))
    # The widget's own lines; the expert's explanation is content, written by hand.
    explanation = f"**Why:** {item.explanation}"
    lines = [line for line in _feedback_lines(at) if line != explanation]
    assert gold_text(item) in lines
    for claim in item.claims:
        assert escape_markdown(claim.text) in gold_text(item)
    ids = re.compile(r"\b(" + "|".join(re.escape(c.id) for c in item.claims) + r")\b")
    assert not [line for line in lines if ids.search(line)]


def test_labels_show_in_words_but_are_stored_as_given() -> None:
    item = first_item("classification", lambda i: "_" in i.gold)
    at = AppTest.from_function(harness, default_timeout=30)
    at.session_state["item_id"] = item.id
    at.run()
    radio = at.radio(key="w_l")
    assert humanise(item.gold) in radio.options and item.gold not in radio.options
    _fill_classification(at, item, True)
    at.run()
    assert at.session_state["answer"] == {"label": item.gold}
    assert f"Gold label: **{escape_markdown(humanise(item.gold))}**" in _feedback_lines(at)


def test_rubric_anchors_show_one_per_line() -> None:
    item = first_item("rubric_rating", lambda i: bool(i.anchors))
    at = AppTest.from_function(harness, default_timeout=30)
    at.session_state["item_id"] = item.id
    at.run()
    dim = next(d for d in item.dimensions if (item.anchors or {}).get(d))
    anchors = sorted(item.anchors[dim].items())  # type: ignore[index]
    assert at.radio(key=f"w_{dim}").help == "  \n".join(f"{k}: {v}" for k, v in anchors)


def test_pairwise_items_never_name_their_responses_as_the_screen_does_not() -> None:
    """The pair is shown as "Response 1 / 2" in a per-trainee order: an item that asks
    "A or B", or uses "Response 1/2" for something else, reads wrongly on screen."""
    clash = re.compile(r"\bA or B\b|\bResponse [AB12]\b")
    for item in CATALOG.items:
        if item.type != "pairwise":
            continue
        material = [item.instructions, item.prompt or "", *item.responses.values()]
        assert not [text for text in material if clash.search(text)], item.id


# --------------------------------------------------------- published calibration results


def test_published_calibration_results_read_like_practice_feedback(app_ctx, make_user) -> None:
    catalog = app_ctx.base_catalog
    batch = catalog.calibration_batch("L3")
    picked = {}
    for item in batch:
        picked.setdefault(item.type, item)
    classification = next(
        i for i in batch if i.type == "classification" and any("_" in x for x in i.labels)
    )
    picked["classification"] = classification
    ivy = make_user("ivy", "instructor")
    amy = make_user("amy")
    boss, actor = Actor.of(ivy), Actor.of(amy)
    rng = random.Random(3)
    answers = {item.id: simulated_answer(item, 0.5, rng) for item in picked.values()}
    adjudicated = next(x for x in classification.labels if "_" in x)
    with app_ctx.session() as s:
        sid = calibration.create_session(
            s,
            boss,
            catalog,
            level_id="L3",
            title="Mixed",
            item_ids=list(answers),
            user_ids=[amy.id],
        )
        attempt_id = calibration.start_calibration(s, actor, catalog, sid)
        for item_id, answer in answers.items():
            calibration.answer_calibration(s, actor, catalog, attempt_id, item_id, answer)
        calibration.save_note(
            s, boss, catalog, sid, classification.id, "Read it again.", adjudicated
        )
        calibration.publish(s, boss, sid)

    at = app_as(amy, "calibration.py", timeout=60)
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("item")
    for item in picked.values():
        row = table.loc[item.id]
        assert row["your answer"] == answer_text(item, answers[item.id])
        expected = (
            humanise(adjudicated)
            if item is classification
            else answer_text(item, gold_answer(item))
        )
        assert row["expert"] == expected
    cells = " ".join(str(v) for v in table[["your answer", "expert"]].to_numpy().ravel())
    assert "{'" not in cells and "['" not in cells  # no Python dicts or lists
    fact_check = picked["fact_check"]
    assert fact_check.claims[0].text in table.loc[fact_check.id, "expert"]
