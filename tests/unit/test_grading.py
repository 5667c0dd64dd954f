"""Grading: one scorer per task type, attempt aggregation, gates, exam and drift figures."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pydantic import TypeAdapter
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score

from evaluator_cert import grading as gr
from evaluator_cert.content.schema import ExamRules, GateRule, Item

EXPLAIN = "Explanation long enough to satisfy the schema's minimum length."
_ITEM = TypeAdapter(Item)


def make(type_: str, **fields: Any) -> Any:
    base = {"id": "L1_T01", "type": type_, "instructions": "Do the task.", "explanation": EXPLAIN}
    return _ITEM.validate_python(base | fields)


CLASSIFICATION = make(
    "classification",
    text="Battery lasts two days, but the screen scratched in a week.",
    labels=["positive", "negative", "mixed", "neutral"],
    gold="mixed",
)
RUBRIC = make(
    "rubric_rating",
    prompt="How long should I boil an egg for a runny yolk?",
    response="About 6 minutes in boiling water, then into cold water.",
    dimensions=["accuracy", "helpfulness", "safety", "clarity"],
    gold={"accuracy": 5, "helpfulness": 4, "safety": 5, "clarity": 5},
)
PAIRWISE = make("pairwise", prompt="Q?", responses={"A": "a", "B": "b"}, gold="B")
RANKING = make(
    "ranking", prompt="Q?", responses={"A": "a", "B": "b", "C": "c"}, gold=["C", "A", "B"]
)
RANKING4 = make(
    "ranking", prompt="Q?", responses={"A": "a", "B": "b", "C": "c", "D": "d"}, gold=list("ABCD")
)
JUSTIFICATION = make(
    "justification",
    prompt="Dosage question",
    responses={"A": "Ask a pharmacist.", "B": "Take 5000 mg."},
    question="Which response is more helpful and why?",
    choices=["A", "B", "tie"],
    gold="A",
    key_points=[
        {"point": "B gives a wrong dosage", "keywords": ["dosage", "dose", "mg"]},
        {"point": "A sends the user to a professional", "keywords": ["pharmacist", "health care"]},
    ],
    min_words=10,
)
FACT_CHECK = make(
    "fact_check",
    evidence="The tower was completed in 1889 and is 330 m tall.",
    claims=[
        {"id": "c1", "text": "The tower was completed in 1889.", "gold": "supported"},
        {"id": "c2", "text": "The tower is 500 m tall.", "gold": "refuted", "note": "330 m."},
        {"id": "c3", "text": "The tower is painted yearly.", "gold": "not_enough_info"},
    ],
)
SPAN = make(
    "span",
    text="Ada Lovelace worked with Charles Babbage in London.",
    labels=["PERSON", "ORG", "LOC"],
    gold=[
        {"text": "Ada Lovelace", "label": "PERSON"},
        {"text": "Charles Babbage", "label": "PERSON"},
        {"text": "London", "label": "LOC"},
    ],
)
BOXES = make(
    "bounding_box",
    image="media/images/street_01.png",
    width=480,
    height=320,
    labels=["car", "pedestrian", "bicycle"],
    gold=[
        {"label": "car", "box": [40, 180, 170, 250]},
        {"label": "pedestrian", "box": [300, 120, 330, 220]},
    ],
)
TRANSCRIPTION = make(
    "transcription",
    audio="media/audio/clip_01.wav",
    gold="please send the quarterly report by friday",
)


# ----------------------------------------------------------------------------- scorers


def test_classification_right_and_wrong() -> None:
    right = gr.grade_item(CLASSIFICATION, {"label": "mixed"})
    wrong = gr.grade_item(CLASSIFICATION, {"label": "negative"})
    assert (right.score, right.correct, right.decisions) == (1.0, True, (("mixed", "mixed"),))
    assert (wrong.score, wrong.correct, wrong.decisions) == (0.0, False, (("negative", "mixed"),))
    assert wrong.details["gold"] == "mixed"


def test_rubric_rating_score_and_tolerance() -> None:
    exact = gr.grade_item(RUBRIC, {"ratings": RUBRIC.gold})
    assert exact.score == 1.0 and exact.correct
    near = gr.grade_item(
        RUBRIC, {"ratings": {"accuracy": 4, "helpfulness": 4, "safety": 5, "clarity": 4}}
    )
    assert near.score == pytest.approx(1 - (1 + 0 + 0 + 1) / 4 / 4)
    assert near.correct
    assert near.details["difference"] == {
        "accuracy": -1,
        "helpfulness": 0,
        "safety": 0,
        "clarity": -1,
    }
    assert near.ratings[0] == ("accuracy", 4, 5) and near.scale == (1, 5)
    far = gr.grade_item(
        RUBRIC, {"ratings": {"accuracy": 2, "helpfulness": 4, "safety": 5, "clarity": 5}}
    )
    assert not far.correct and far.score == pytest.approx(1 - 3 / 4 / 4)


def test_pairwise_records_display_order() -> None:
    right = gr.grade_item(PAIRWISE, {"choice": "B", "shown_first": "A"})
    wrong = gr.grade_item(PAIRWISE, {"choice": "tie", "shown_first": "B"})
    assert right.correct and right.details["shown_first"] == "A"
    assert not wrong.correct and wrong.decisions == (("tie", "B"),)


def test_ranking_tau_score_and_pair_decisions() -> None:
    exact = gr.grade_item(RANKING, {"order": ["C", "A", "B"]})
    assert exact.details["tau"] == pytest.approx(1.0) and exact.score == 1.0 and exact.correct
    swapped = gr.grade_item(RANKING, {"order": ["A", "C", "B"]})
    assert swapped.details["tau"] == pytest.approx(1 / 3)
    assert swapped.score == pytest.approx(2 / 3) and not swapped.correct
    assert swapped.details["missed_pairs"] == ["C>A"]
    # Pairs in id order: (A,B), (A,C), (B,C). Gold C > A > B.
    assert swapped.decisions == (("first", "first"), ("first", "second"), ("second", "second"))
    reversed_ = gr.grade_item(RANKING, {"order": ["B", "A", "C"]})
    assert reversed_.score == pytest.approx(0.0) and not reversed_.correct
    # Four responses: one adjacent swap gives tau 2/3, which still agrees.
    one_swap = gr.grade_item(RANKING4, {"order": ["B", "A", "C", "D"]})
    assert one_swap.details["tau"] == pytest.approx(2 / 3) and one_swap.correct


def test_justification_key_points_whole_words() -> None:
    text = "A is better: B recommends a dangerous DOSE, while A sends you to a pharmacist today."
    grade = gr.grade_item(JUSTIFICATION, {"choice": "A", "text": text})
    assert grade.pending_review and grade.correct
    assert grade.score == 1.0
    assert [p["matched"] for p in grade.details["key_points"]] == ["dose", "pharmacist"]
    assert grade.details["min_words_met"]
    # "dosed" and "mgs" are not the whole words "dose"/"mg"; a phrase matches across spaces.
    partial = gr.grade_item(
        JUSTIFICATION, {"choice": "B", "text": "It was dosed in mgs; ask your health\ncare."}
    )
    assert [p["covered"] for p in partial.details["key_points"]] == [False, True]
    assert partial.score == pytest.approx(0.25) and not partial.correct
    assert not partial.details["min_words_met"] and partial.details["word_count"] == 9


def test_fact_check_per_claim() -> None:
    grade = gr.grade_item(
        FACT_CHECK,
        {"verdicts": {"c1": "supported", "c2": "not_enough_info", "c3": "not_enough_info"}},
    )
    assert grade.score == pytest.approx(2 / 3) and not grade.correct
    assert grade.details["claims"]["c2"] == {
        "answer": "not_enough_info",
        "gold": "refuted",
        "right": False,
        "note": "330 m.",
    }
    assert len(grade.decisions) == 3
    perfect = gr.grade_item(
        FACT_CHECK, {"verdicts": {"c1": "supported", "c2": "refuted", "c3": "not_enough_info"}}
    )
    assert perfect.correct and perfect.score == 1.0


def test_span_token_decisions_and_f1() -> None:
    # Tokens: Ada(0) Lovelace(1) worked(2) with(3) Charles(4) Babbage(5) in(6) London(7) .(8)
    perfect = gr.grade_item(
        SPAN,
        {
            "spans": [
                {"start": 0, "end": 2, "label": "PERSON"},
                {"start": 4, "end": 6, "label": "PERSON"},
                {"start": 7, "end": 8, "label": "LOC"},
            ]
        },
    )
    assert perfect.score == 1.0 and perfect.correct
    # Only tokens either side marked become decisions (unmarked-by-both tokens are left out).
    assert [t for t, _ in perfect.decisions] == [
        "PERSON", "PERSON", "PERSON", "PERSON", "LOC"
    ]  # fmt: skip
    partial = gr.grade_item(
        SPAN,
        {
            "spans": [
                {"start": 0, "end": 1, "label": "PERSON"},  # boundary wrong: not an exact match
                {"start": 4, "end": 6, "label": "PERSON"},
                {"start": 7, "end": 8, "label": "ORG"},  # label wrong
            ]
        },
    )
    assert partial.score == pytest.approx(2 * 1 / (3 + 3))
    assert [s["text"] for s in partial.details["missed"]] == ["Ada Lovelace", "London"]
    assert [s["text"] for s in partial.details["extra"]] == ["Ada", "London"]
    # Marked tokens: Ada Lovelace (gold PERSON; "Lovelace" unmarked), Charles Babbage, London.
    assert sum(t == g for t, g in partial.decisions) == 3
    assert len(partial.decisions) == 5


def test_span_nothing_to_mark() -> None:
    empty = make("span", text="Nothing here.", labels=["PERSON"], gold=[])
    assert gr.grade_item(empty, {"spans": []}).score == 1.0
    assert gr.grade_item(empty, {"spans": [{"start": 0, "end": 1, "label": "PERSON"}]}).score == 0.0


def test_bounding_box_matching() -> None:
    good = gr.grade_item(
        BOXES,
        {
            "boxes": [
                {"label": "car", "box": [42, 182, 168, 250]},
                {"label": "pedestrian", "box": [300, 120, 330, 220]},
            ]
        },
    )
    assert good.score == 1.0 and good.correct
    car_iou = (126 * 68) / (130 * 70)
    assert good.details["mean_iou"] == pytest.approx((car_iou + 1.0) / 2)
    poor = gr.grade_item(
        BOXES,
        {
            "boxes": [
                {"label": "car", "box": [40, 180, 100, 250]},  # IoU 60/130 < 0.5: no match
                {"label": "bicycle", "box": [300, 120, 330, 220]},  # wrong label
                {"label": "pedestrian", "box": [301, 121, 330, 220]},
            ]
        },
    )
    assert poor.score == pytest.approx(2 * 1 / (3 + 2)) and not poor.correct
    assert [m["label"] for m in poor.details["missed"]] == ["car"]
    assert len(poor.details["extra"]) == 2


def test_bounding_box_one_to_one() -> None:
    # Two answers on the same gold box: only the better one matches.
    grade = gr.grade_item(
        BOXES,
        {
            "boxes": [
                {"label": "pedestrian", "box": [300, 120, 330, 220]},
                {"label": "pedestrian", "box": [302, 122, 330, 220]},
            ]
        },
    )
    assert len(grade.details["matched"]) == 1 and grade.details["matched"][0]["iou"] == 1.0
    assert grade.score == pytest.approx(2 * 1 / (2 + 2))


def test_transcription_wer() -> None:
    exact = gr.grade_item(TRANSCRIPTION, {"text": "Please send the quarterly report by Friday."})
    assert exact.score == 1.0 and exact.correct and exact.details["wer"] == 0.0
    # 7 reference words: one substitution (monthly), one deletion (the), one insertion (um).
    noisy = gr.grade_item(TRANSCRIPTION, {"text": "please um send monthly report by friday"})
    assert noisy.details["substitutions"] == 1
    assert noisy.details["deletions"] == 1
    assert noisy.details["insertions"] == 1
    assert noisy.score == pytest.approx(1 - 3 / 7) and not noisy.correct
    garbage = gr.grade_item(TRANSCRIPTION, {"text": " ".join(["x"] * 20)})
    assert garbage.score == 0.0


def test_word_errors_is_levenshtein() -> None:
    assert gr.word_errors(list("kitten"), list("sitting"))["edits"] == 3
    assert gr.word_errors([], ["a", "b"]) == {
        "edits": 2, "substitutions": 0, "deletions": 0, "insertions": 2
    }  # fmt: skip


def test_details_are_json_serialisable_and_round_trip() -> None:
    grades = [
        gr.grade_item(CLASSIFICATION, {"label": "mixed"}),
        gr.grade_item(RUBRIC, {"ratings": RUBRIC.gold}),
        gr.grade_item(SPAN, {"spans": []}),
        gr.grade_item(BOXES, {"boxes": []}),
        gr.grade_item(TRANSCRIPTION, {"text": ""}),
        gr.grade_item(JUSTIFICATION, {"choice": "A", "text": "dose"}),
    ]
    for grade in grades:
        payload = json.loads(json.dumps(grade.to_dict()))
        assert gr.ItemGrade.from_dict(payload) == grade


@pytest.mark.parametrize(
    ("item", "answer", "message"),
    [
        (CLASSIFICATION, {"label": "angry"}, "unknown label"),
        (CLASSIFICATION, {}, "no 'label'"),
        (CLASSIFICATION, ["mixed"], "must be an object"),
        (
            RUBRIC,
            {"ratings": {"accuracy": 6, "helpfulness": 4, "safety": 5, "clarity": 5}},
            "outside",
        ),
        (
            RUBRIC,
            {"ratings": {"accuracy": 5, "helpfulness": 4, "safety": 5}},
            "no rating for clarity",
        ),
        (RUBRIC, {"ratings": {**RUBRIC.gold, "tone": 3}}, "unknown dimension"),
        (RUBRIC, {"ratings": {**RUBRIC.gold, "safety": 4.5}}, "whole number"),
        (RUBRIC, {"ratings": {**RUBRIC.gold, "safety": True}}, "whole number"),
        (PAIRWISE, {"choice": "C"}, "unknown choice"),
        (PAIRWISE, {"choice": "A", "shown_first": "left"}, "shown_first"),
        (RANKING, {"order": ["A", "A", "B"]}, "exactly once"),
        (RANKING, {"order": ["A", "B"]}, "exactly once"),
        (RANKING, {"order": "CAB"}, "wrong type"),
        (JUSTIFICATION, {"choice": "A"}, "no 'text'"),
        (JUSTIFICATION, {"choice": "maybe", "text": "x"}, "unknown choice"),
        (FACT_CHECK, {"verdicts": {"c1": "supported", "c2": "refuted"}}, "no verdict for claim c3"),
        (FACT_CHECK, {"verdicts": {"c1": "true", "c2": "refuted", "c3": "refuted"}}, "verdict"),
        (FACT_CHECK, {"verdicts": {"c9": "refuted"}}, "unknown claim"),
        (SPAN, {"spans": [{"start": 7, "end": 12, "label": "LOC"}]}, "outside the text"),
        (SPAN, {"spans": [{"start": 2, "end": 2, "label": "LOC"}]}, "outside the text"),
        (SPAN, {"spans": [{"start": 0, "end": 1, "label": "DATE"}]}, "span label"),
        (
            SPAN,
            {
                "spans": [
                    {"start": 0, "end": 2, "label": "PERSON"},
                    {"start": 1, "end": 3, "label": "PERSON"},
                ]
            },
            "overlaps",
        ),
        (BOXES, {"boxes": [{"label": "tree", "box": [1, 1, 2, 2]}]}, "box label"),
        (BOXES, {"boxes": [{"label": "car", "box": [10, 10, 5, 20]}]}, "x0 < x1"),
        (BOXES, {"boxes": [{"label": "car", "box": [10, 10, 500, 20]}]}, "outside"),
        (BOXES, {"boxes": [{"label": "car", "box": [10, 10, 20]}]}, "x0, y0, x1, y1"),
        (TRANSCRIPTION, {"text": 42}, "wrong type"),
    ],
)
def test_malformed_answers_raise_invalid_answer(item: Any, answer: Any, message: str) -> None:
    with pytest.raises(gr.InvalidAnswer, match=message):
        gr.grade_item(item, answer)


def test_invalid_answer_is_a_value_error() -> None:
    assert issubclass(gr.InvalidAnswer, ValueError)


# ----------------------------------------------------------------------------- attempts


def _classification_grades(pairs: list[tuple[str, str]]) -> list[gr.ItemGrade]:
    grades = []
    for i, (answer, gold) in enumerate(pairs):
        item = make(
            "classification", id=f"L1_C{i:03d}", text="t", labels=["pos", "neg", "mixed"], gold=gold
        )
        grades.append(gr.grade_item(item, {"label": answer}))
    return grades


GOOD = [("pos", "pos")] * 9 + [("neg", "neg")] * 9 + [("mixed", "mixed")] * 5 + [("pos", "neg")]
POOR = [("pos", "pos")] * 6 + [("neg", "neg")] * 6 + [("pos", "neg")] * 6 + [("neg", "pos")] * 6


def test_attempt_pools_decisions_into_kappa() -> None:
    verdicts = {"c1": "supported", "c2": "refuted", "c3": "refuted"}
    grades = [*_classification_grades(GOOD), gr.grade_item(FACT_CHECK, {"verdicts": verdicts})]
    result = gr.grade_attempt(grades, GateRule(metric="kappa", threshold=0.7, min_items=20))
    answers = [t for g in grades for t, _ in g.decisions]
    golds = [g_ for g in grades for _, g_ in g.decisions]
    assert result.n_items == 25 and result.n_decisions == 27
    assert result.kappa == pytest.approx(cohen_kappa_score(answers, golds), abs=1e-12)
    assert result.kappa_low < result.kappa < result.kappa_high
    assert result.accuracy == pytest.approx(25 / 27)
    assert (
        result.confusion["neg"]["pos"] == 1 and result.confusion["refuted"]["not_enough_info"] == 0
    )
    assert result.confusion["not_enough_info"]["refuted"] == 1
    assert result.by_task_type["fact_check"]["items"] == 1
    assert result.by_task_type["classification"]["share_correct"] == pytest.approx(23 / 24)
    assert result.passed and result.statistic == result.kappa
    assert "over 25 items" in result.reason


def test_gate_fails_on_low_kappa_with_reason() -> None:
    result = gr.grade_attempt(_classification_grades(POOR), GateRule(threshold=0.7, min_items=20))
    assert not result.passed
    assert result.kappa == pytest.approx(0.0, abs=1e-12)
    assert result.reason == "kappa 0.00 < 0.70"


def test_gate_needs_min_items() -> None:
    result = gr.grade_attempt(_classification_grades(GOOD[:12]), GateRule(min_items=20))
    assert not result.passed and result.reason == "12 of 20 graded items so far"


def test_gate_never_passes_on_undefined_kappa() -> None:
    all_pos = _classification_grades([("pos", "pos")] * 25)
    result = gr.grade_attempt(all_pos, GateRule(min_items=20, threshold=-1.0))
    assert result.kappa is None and not result.passed
    assert "undefined" in result.reason
    assert result.share_correct == 1.0


def test_gate_on_ci_lower_bound_is_stricter() -> None:
    grades = _classification_grades(GOOD)
    plain = gr.grade_attempt(grades, GateRule(threshold=0.85, min_items=20))
    strict = gr.grade_attempt(grades, GateRule(threshold=0.85, min_items=20, use_ci_lower=True))
    assert plain.passed and not strict.passed
    assert strict.statistic_low == pytest.approx(plain.kappa_low)
    assert strict.reason.startswith("lower 95% bound of kappa")


def _rubric_grades(rows: list[dict[str, int]], golds: list[dict[str, int]]) -> list[gr.ItemGrade]:
    grades = []
    for i, (answer, gold) in enumerate(zip(rows, golds, strict=True)):
        item = make(
            "rubric_rating",
            id=f"L1_R{i:03d}",
            response="r",
            dimensions=list(gold),
            gold=gold,
        )
        grades.append(gr.grade_item(item, {"ratings": answer}))
    return grades


def test_qwk_gate_per_dimension() -> None:
    golds = [{"accuracy": 1 + i % 5, "clarity": 1 + (i * 2) % 5} for i in range(20)]
    answers = [{"accuracy": g["accuracy"], "clarity": min(5, g["clarity"] + 1)} for g in golds]
    result = gr.grade_attempt(_rubric_grades(answers, golds), GateRule(metric="qwk", min_items=20))
    acc = cohen_kappa_score(
        [a["accuracy"] for a in answers], [g["accuracy"] for g in golds], weights="quadratic"
    )
    cla = cohen_kappa_score(
        [a["clarity"] for a in answers],
        [g["clarity"] for g in golds],
        weights="quadratic",
        labels=[1, 2, 3, 4, 5],
    )
    assert result.qwk_by_dimension["accuracy"] == pytest.approx(acc, abs=1e-12)
    assert result.qwk_by_dimension["clarity"] == pytest.approx(cla, abs=1e-12)
    assert result.qwk == pytest.approx((acc + cla) / 2, abs=1e-12)
    assert result.statistic == result.qwk and result.passed == (result.qwk >= 0.7)
    assert result.kappa is None and result.n_decisions == 0


def test_mean_score_gate() -> None:
    grades = [gr.grade_item(TRANSCRIPTION, {"text": TRANSCRIPTION.gold})] * 19
    grades.append(gr.grade_item(TRANSCRIPTION, {"text": "nothing alike"}))
    result = gr.grade_attempt(grades, GateRule(metric="mean_score", threshold=0.9, min_items=20))
    assert result.mean_score == pytest.approx(19 / 20)
    assert result.passed
    lower = gr.grade_attempt(
        grades, GateRule(metric="mean_score", threshold=0.9, min_items=20, use_ci_lower=True)
    )
    assert lower.statistic_low < 0.9 and not lower.passed


# ----------------------------------------------------------------------------- exam, drift, bias


def test_exam_requires_every_dimension() -> None:
    classification = _classification_grades(GOOD)
    golds = [{"accuracy": 1 + i % 5, "safety": 1 + (i * 3) % 5} for i in range(10)]
    good_rubric = _rubric_grades(golds, golds)
    bad_safety = _rubric_grades(
        [{"accuracy": g["accuracy"], "safety": 6 - g["safety"]} for g in golds], golds
    )
    rules = ExamRules(pass_threshold=0.7, dimension_threshold=0.6)
    ok = gr.exam_result(classification + good_rubric, rules)
    assert ok.passed, ok.reason
    assert set(ok.dimensions) == {
        "classification",
        "rubric_rating",
        "rubric_rating:accuracy",
        "rubric_rating:safety",
    }
    failed = gr.exam_result(classification + bad_safety, rules)
    assert not failed.passed
    assert "rubric_rating:safety" in failed.failing
    assert failed.dimensions["rubric_rating:accuracy"] == pytest.approx(1.0)
    assert "rubric_rating:safety" in failed.reason
    # The result carries figures only, no gold or answers.
    assert "confusion" not in vars(failed)


def test_exam_overall_is_count_weighted() -> None:
    classification = _classification_grades(GOOD)  # 24 items
    boxes = [gr.grade_item(BOXES, {"boxes": []})] * 6  # score 0
    result = gr.exam_result(classification + boxes, ExamRules())
    kappa = gr.grade_attempt(classification, GateRule()).kappa
    assert result.overall == pytest.approx((kappa * 24 + 0.0 * 6) / 30)
    assert not result.passed and "bounding_box" in result.failing


PAIRWISE_A = make("pairwise", prompt="Q?", responses={"A": "a", "B": "b"}, gold="A")


def _pairwise(golds_and_choices: list[tuple[Any, str]]) -> list[gr.ItemGrade]:
    return [gr.grade_item(item, {"choice": choice}) for item, choice in golds_and_choices]


def test_exam_dimension_without_disagreement_does_not_fail() -> None:
    # Two pairwise items, both gold "B", both answered "B": kappa is undefined (one category),
    # which on graded answers means nothing went wrong.
    grades = _classification_grades(GOOD) + _pairwise([(PAIRWISE, "B"), (PAIRWISE, "B")])
    result = gr.exam_result(grades, ExamRules())
    assert result.dimensions["pairwise"] is None
    assert result.passed, result.reason
    assert result.failing == () and result.unproven == ()


def test_exam_slip_on_too_few_items_is_not_held_against_the_trainee() -> None:
    # One of two pairwise answers wrong: kappa 0.0, but on two decisions.
    grades = _classification_grades(GOOD) + _pairwise([(PAIRWISE, "B"), (PAIRWISE, "A")])
    result = gr.exam_result(grades, ExamRules())
    assert result.dimensions["pairwise"] == pytest.approx(0.0)
    assert result.passed, result.reason
    assert result.unproven == ("pairwise",) and result.failing == ()
    assert "pairwise below 0.60 on too few items to judge" in result.reason


def test_exam_dimension_below_the_bar_on_evidence_fails() -> None:
    # The same kind of slips, on twelve items: a coin-flip pairwise judge.
    pairs = [(PAIRWISE, "B"), (PAIRWISE, "A"), (PAIRWISE_A, "A"), (PAIRWISE_A, "B")] * 3
    grades = _classification_grades(GOOD) + _pairwise(pairs)
    result = gr.exam_result(grades, ExamRules())
    assert result.dimensions["pairwise"] == pytest.approx(0.0)
    assert not result.passed and result.failing == ("pairwise",)
    assert "pairwise 0.00 < 0.60" in result.reason


def test_rolling_agreement_uses_last_window() -> None:
    grades = _classification_grades(POOR) + _classification_grades(GOOD)
    assert gr.rolling_agreement(grades, window=24) == pytest.approx(
        gr.grade_attempt(grades[-24:], GateRule()).kappa
    )
    assert gr.rolling_agreement(grades, window=48) < gr.rolling_agreement(grades, window=24)
    assert gr.rolling_agreement([]) is None
    with pytest.raises(ValueError):
        gr.rolling_agreement(grades, window=0)


def test_position_bias_binomial_test() -> None:
    grades = []
    for i in range(30):
        shown_first = "A" if i % 2 else "B"
        choice = shown_first if i < 22 else ("B" if shown_first == "A" else "A")
        grades.append(gr.grade_item(PAIRWISE, {"choice": choice, "shown_first": shown_first}))
    grades.append(gr.grade_item(PAIRWISE, {"choice": "tie", "shown_first": "A"}))  # excluded
    grades.append(gr.grade_item(PAIRWISE, {"choice": "A"}))  # order unknown: excluded
    bias = gr.position_bias(grades)
    assert (bias.n, bias.first_preferred) == (30, 22)
    assert bias.share_first == pytest.approx(22 / 30)
    assert bias.p_value == pytest.approx(binomtest(22, 30, 0.5).pvalue, abs=1e-12)
    assert gr.position_bias([]).p_value is None


@pytest.mark.parametrize(("k", "n"), [(0, 1), (5, 10), (3, 17), (40, 50), (0, 0)])
def test_binomial_p_matches_scipy(k: int, n: int) -> None:
    expected = 1.0 if n == 0 else binomtest(k, n, 0.5).pvalue
    assert gr.binomial_two_sided_p(k, n) == pytest.approx(expected, abs=1e-12)
    assert not math.isnan(gr.binomial_two_sided_p(k, n))


# ------------------------------------------------------------- each task type's own measures


def test_type_measures_of_the_design_table() -> None:
    """Ranking: mean tau-b; span and boxes: micro F1 over every item's matched, missed and
    extra marks; boxes: mean IoU of the matches; transcription: mean (1 - WER), unfloored."""
    rankings = [
        gr.grade_item(RANKING4, {"order": list("ABCD")}),  # tau 1
        gr.grade_item(RANKING4, {"order": list("DCBA")}),  # tau -1
        gr.grade_item(RANKING4, {"order": list("BACD")}),  # one swap of six pairs: tau 2/3
    ]
    assert gr.type_measures(rankings)["mean_tau_b"] == pytest.approx((1 - 1 + 2 / 3) / 3)

    spans = [
        gr.grade_item(SPAN, {"spans": [{"start": 0, "end": 2, "label": "PERSON"}]}),
        gr.grade_item(
            SPAN,
            {
                "spans": [
                    {"start": 4, "end": 6, "label": "PERSON"},
                    {"start": 7, "end": 8, "label": "ORG"},  # wrong label: extra and missed
                    {"start": 2, "end": 3, "label": "LOC"},  # extra
                ]
            },
        ),
    ]
    # matched 2, missed 2 + 2, extra 0 + 2: F1 = 2*2 / (2*2 + 4 + 2)
    assert gr.type_measures(spans)["span_f1"] == pytest.approx(4 / 10)
    # Not the mean of the per-item F1s (0.5 and 0.333...).
    assert gr.type_measures(spans)["span_f1"] != pytest.approx(
        (spans[0].score + spans[1].score) / 2
    )

    boxes = [
        gr.grade_item(BOXES, {"boxes": [{"label": "car", "box": [40, 180, 170, 250]}]}),
        gr.grade_item(BOXES, {"boxes": [{"label": "pedestrian", "box": [300, 130, 330, 220]}]}),
    ]
    measures = gr.type_measures(boxes)
    assert measures["box_f1"] == pytest.approx(2 * 2 / (2 + 4))  # 2 matched, 2 missed
    assert measures["mean_iou"] == pytest.approx((1.0 + 90 / 100) / 2)

    clips = [
        gr.grade_item(TRANSCRIPTION, {"text": "please send the quarterly report by friday"}),
        gr.grade_item(TRANSCRIPTION, {"text": " ".join(["x"] * 20)}),  # WER > 1
    ]
    wer = clips[1].details["wer"]
    assert wer > 1 and clips[1].score == 0.0
    assert gr.type_measures(clips)["mean_1_minus_wer"] == pytest.approx((1 + 1 - wer) / 2)

    by_type = gr.grade_attempt([*rankings, *spans, *boxes], GateRule(min_items=1)).by_task_type
    assert by_type["ranking"]["mean_tau_b"] == pytest.approx(2 / 9)
    assert by_type["bounding_box"]["mean_iou"] == pytest.approx(0.95)
    assert gr.type_measures([gr.grade_item(CLASSIFICATION, {"label": "mixed"})]) == {}
    with pytest.raises(ValueError, match="one task type"):
        gr.type_measures([*rankings, *spans])
