"""Grading: score one annotation against gold, and aggregate graded items into agreement.

Pure functions over the content schema's item models and the answer dicts documented in
docs/content-authoring.md ("What answers look like"). Malformed answers raise
:class:`InvalidAnswer`. Extra keys in an answer dict are ignored (the app may store more).

Undefined statistics (no data, or a kappa whose raters used one single category) are
reported as ``None`` and never pass a gate.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

from evaluator_cert import agreement
from evaluator_cert.content.schema import (
    VERDICTS,
    BoundingBoxItem,
    ClassificationItem,
    ExamRules,
    FactCheckItem,
    GateRule,
    JustificationItem,
    PairwiseItem,
    RankingItem,
    RubricRatingItem,
    SpanItem,
    TranscriptionItem,
)
from evaluator_cert.text import normalise_words, tokenize

# A ranking counts as agreeing with gold from this tau-b on: one adjacent swap among four
# responses (tau 0.67) still agrees, while any swap among three (tau 0.33) does not.
RANKING_CORRECT_TAU = 0.6
# A transcription counts as agreeing with gold at a word error rate of at most 10%.
TRANSCRIPTION_CORRECT_WER = 0.10
BOX_IOU = 0.5  # a box matches a gold box of the same label from this IoU on
_Z95 = NormalDist().inv_cdf(0.975)
# A dimension needs at least this many decisions, ratings or items before an exam can hold
# it below the bar (large-sample intervals say nothing about one or two observations).
MIN_DIMENSION_EVIDENCE = 3


class InvalidAnswer(ValueError):  # noqa: N818 - the name the services catch
    """The answer does not fit the item (unknown label, rating out of scale, ...)."""


@dataclass(frozen=True)
class ItemGrade:
    """One graded answer.

    ``decisions`` are categorical (trainee, gold) pairs pooled into Cohen's kappa;
    ``ratings`` are (dimension, trainee, gold) rubric scores pooled into quadratic weighted
    kappa on the item's ``scale`` (min, max). ``details`` is JSON-serialisable feedback.
    """

    item_id: str
    task_type: str
    score: float
    correct: bool
    decisions: tuple[tuple[str, str], ...] = ()
    ratings: tuple[tuple[str, int, int], ...] = ()
    pending_review: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    scale: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemGrade:
        return cls(
            item_id=data["item_id"],
            task_type=data["task_type"],
            score=float(data["score"]),
            correct=bool(data["correct"]),
            decisions=tuple((str(t), str(g)) for t, g in data.get("decisions", ())),
            ratings=tuple((str(d), int(t), int(g)) for d, t, g in data.get("ratings", ())),
            pending_review=bool(data.get("pending_review", False)),
            details=dict(data.get("details", {})),
            scale=tuple(data["scale"]) if data.get("scale") else None,  # type: ignore[arg-type]
        )


# ----------------------------------------------------------------------------- answer checks


def _field(answer: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(answer, Mapping):
        raise InvalidAnswer(f"an answer must be an object, not {type(answer).__name__}")
    if key not in answer:
        raise InvalidAnswer(f"the answer has no {key!r}")
    value = answer[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise InvalidAnswer(f"{key!r} has the wrong type ({type(value).__name__})")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _one_of(value: Any, allowed: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidAnswer(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return value


# ----------------------------------------------------------------------------- scorers


def grade_classification(item: ClassificationItem, answer: Mapping[str, Any]) -> ItemGrade:
    label = _one_of(_field(answer, "label", str), item.labels, "label")
    right = label == item.gold
    return ItemGrade(
        item.id,
        item.type,
        float(right),
        right,
        decisions=((label, item.gold),),
        details={"answer": label, "gold": item.gold},
    )


def grade_rubric_rating(item: RubricRatingItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Score = 1 - mean |trainee - gold| / (max - min); agrees if every dimension is within 1."""
    given = _field(answer, "ratings", Mapping)
    unknown = set(given) - set(item.dimensions)
    if unknown:
        raise InvalidAnswer(f"unknown dimension(s): {', '.join(sorted(map(str, unknown)))}")
    ratings = []
    for dim in item.dimensions:
        if dim not in given:
            raise InvalidAnswer(f"no rating for {dim}")
        value = given[dim]
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidAnswer(f"the rating for {dim} must be a whole number, not {value!r}")
        if not item.scale_min <= value <= item.scale_max:
            raise InvalidAnswer(
                f"the rating for {dim} is {value}, outside {item.scale_min}-{item.scale_max}"
            )
        ratings.append((dim, value, item.gold[dim]))
    diffs = {dim: t - g for dim, t, g in ratings}
    span = item.scale_max - item.scale_min
    score = 1.0 - sum(abs(d) for d in diffs.values()) / len(diffs) / span
    return ItemGrade(
        item.id,
        item.type,
        score,
        all(abs(d) <= 1 for d in diffs.values()),
        ratings=tuple(ratings),
        details={"answer": dict(given), "gold": dict(item.gold), "difference": diffs},
        scale=(item.scale_min, item.scale_max),
    )


def grade_pairwise(item: PairwiseItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Correct or not; ``shown_first`` (optional) is kept for the position-bias check."""
    choice = _one_of(_field(answer, "choice", str), item.choices, "choice")
    shown_first = answer.get("shown_first")
    if shown_first is not None:
        _one_of(shown_first, ("A", "B"), "shown_first")
    right = choice == item.gold
    return ItemGrade(
        item.id,
        item.type,
        float(right),
        right,
        decisions=((choice, item.gold),),
        details={"answer": choice, "gold": item.gold, "shown_first": shown_first},
    )


def grade_ranking(item: RankingItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Kendall tau-b vs gold; score (tau + 1) / 2; agrees from tau >= RANKING_CORRECT_TAU.

    Decisions: for every pair X < Y of response ids, whether X is ranked above Y ("first")
    or below it ("second"), by the trainee and by gold.
    """
    order = _field(answer, "order", (list, tuple))
    ids = sorted(item.responses)
    if not all(isinstance(r, str) for r in order) or sorted(order) != ids:
        raise InvalidAnswer(f"the order must rank each of {', '.join(ids)} exactly once")
    mine = {r: i for i, r in enumerate(order)}
    gold = {r: i for i, r in enumerate(item.gold)}
    tau = agreement.kendall_tau_b([mine[r] for r in ids], [gold[r] for r in ids])
    decisions, flipped = [], []
    for i, x in enumerate(ids):
        for y in ids[i + 1 :]:
            t = "first" if mine[x] < mine[y] else "second"
            g = "first" if gold[x] < gold[y] else "second"
            decisions.append((t, g))
            if t != g:
                flipped.append(f"{x}>{y}" if g == "first" else f"{y}>{x}")
    return ItemGrade(
        item.id,
        item.type,
        (tau + 1.0) / 2.0,
        tau >= RANKING_CORRECT_TAU - 1e-12,
        decisions=tuple(decisions),
        details={
            "answer": list(order),
            "gold": list(item.gold),
            "tau": tau,
            "missed_pairs": flipped,  # gold preferences the trainee reversed
        },
    )


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Whole words, case-insensitive; a multi-word keyword matches the phrase with any spacing.
    words = keyword.split()
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def grade_justification(item: JustificationItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Score = 0.5 * (choice right) + 0.5 * share of key points covered; awaits review.

    The word count is reported against ``min_words`` but does not change the score: the
    instructor's review judges the writing.
    """
    choice = _one_of(_field(answer, "choice", str), item.choices, "choice")
    text = _field(answer, "text", str)
    points = []
    for kp in item.key_points:
        hit = next((kw for kw in kp.keywords if _keyword_pattern(kw).search(text)), None)
        points.append({"point": kp.point, "covered": hit is not None, "matched": hit})
    covered = sum(p["covered"] for p in points)
    words = len(normalise_words(text))
    right = choice == item.gold
    return ItemGrade(
        item.id,
        item.type,
        0.5 * float(right) + 0.5 * covered / len(points),
        right,
        decisions=((choice, item.gold),),
        pending_review=True,
        details={
            "answer": choice,
            "gold": item.gold,
            "key_points": points,
            "covered": covered,
            "word_count": words,
            "min_words": item.min_words,
            "min_words_met": words >= item.min_words,
        },
    )


def grade_fact_check(item: FactCheckItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Score = share of claims right; agrees when every claim is right."""
    verdicts = _field(answer, "verdicts", Mapping)
    ids = [c.id for c in item.claims]
    unknown = set(verdicts) - set(ids)
    if unknown:
        raise InvalidAnswer(f"unknown claim(s): {', '.join(sorted(map(str, unknown)))}")
    decisions, claims = [], {}
    for claim in item.claims:
        if claim.id not in verdicts:
            raise InvalidAnswer(f"no verdict for claim {claim.id}")
        verdict = _one_of(verdicts[claim.id], VERDICTS, f"verdict for {claim.id}")
        decisions.append((verdict, claim.gold))
        claims[claim.id] = {
            "answer": verdict,
            "gold": claim.gold,
            "right": verdict == claim.gold,
            "note": claim.note,
        }
    right = sum(c["right"] for c in claims.values())
    return ItemGrade(
        item.id,
        item.type,
        right / len(ids),
        right == len(ids),
        decisions=tuple(decisions),
        details={"claims": claims},
    )


def _f1(matched: int, predicted: int, expected: int) -> float:
    # Nothing to mark and nothing marked is full agreement.
    return 1.0 if predicted + expected == 0 else 2.0 * matched / (predicted + expected)


def grade_span(item: SpanItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Score = span-level exact-match F1; decisions = one per token that either side marked.

    Tokens neither the trainee nor gold marked are left out of the decisions: pooled with
    other items, the many easy "O"/"O" agreements would otherwise swamp the kappa. An item
    with nothing to mark that the trainee leaves unmarked contributes one ("O", "O")."""
    tokens = tokenize(item.text)
    n = len(tokens)
    raw = _field(answer, "spans", (list, tuple))
    spans: list[tuple[int, int, str]] = []
    mine = ["O"] * n
    for span in raw:
        if not isinstance(span, Mapping):
            raise InvalidAnswer("each span must be an object with start, end and label")
        start, end = span.get("start"), span.get("end")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise InvalidAnswer("span start and end must be token indices")
        if not 0 <= start < end <= n:
            raise InvalidAnswer(f"span {start}-{end} lies outside the text's {n} tokens")
        label = _one_of(span.get("label"), item.labels, "span label")
        if any(mine[i] != "O" for i in range(start, end)):
            raise InvalidAnswer(f"span {start}-{end} overlaps another span")
        mine[start:end] = [label] * (end - start)
        spans.append((start, end, label))
    gold_spans = item.gold_spans
    gold = ["O"] * n
    for start, end, label in gold_spans:
        gold[start:end] = [label] * (end - start)

    def describe(s: tuple[int, int, str]) -> dict[str, Any]:
        text = item.text[tokens[s[0]].start : tokens[s[1] - 1].end]
        return {"start": s[0], "end": s[1], "label": s[2], "text": text}

    mine_set, gold_set = set(spans), set(gold_spans)
    matched = sorted(mine_set & gold_set)
    f1 = _f1(len(matched), len(mine_set), len(gold_set))
    return ItemGrade(
        item.id,
        item.type,
        f1,
        mine_set == gold_set,
        decisions=tuple((m, g) for m, g in zip(mine, gold, strict=True) if m != "O" or g != "O")
        or (("O", "O"),),
        details={
            "f1": f1,
            "matched": [describe(s) for s in matched],
            "missed": [describe(s) for s in sorted(gold_set - mine_set)],
            "extra": [describe(s) for s in sorted(mine_set - gold_set)],
        },
    )


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def grade_bounding_box(item: BoundingBoxItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Greedy one-to-one matching per label, highest IoU first, at IoU >= 0.5; score = F1.

    Greedy matching is what COCO-style detection scoring uses; with a 0.5 threshold it rarely
    differs from an optimal assignment, and it needs no solver.
    """
    raw = _field(answer, "boxes", (list, tuple))
    boxes: list[tuple[str, tuple[float, ...]]] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise InvalidAnswer("each box must be an object with label and box")
        label = _one_of(entry.get("label"), item.labels, "box label")
        box = entry.get("box")
        if (
            not isinstance(box, (list, tuple))
            or len(box) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
            or not all(math.isfinite(v) for v in box)
        ):
            raise InvalidAnswer("a box must be [x0, y0, x1, y1] in pixels")
        x0, y0, x1, y1 = (float(v) for v in box)
        if not (x0 < x1 and y0 < y1):
            raise InvalidAnswer(f"box {list(box)} must have x0 < x1 and y0 < y1")
        if x0 < 0 or y0 < 0 or x1 > item.width or y1 > item.height:
            raise InvalidAnswer(
                f"box {list(box)} lies outside the {item.width}x{item.height} image"
            )
        boxes.append((label, (x0, y0, x1, y1)))
    candidates = []
    for i, (label, box) in enumerate(boxes):
        for j, gold in enumerate(item.gold):
            if gold.label == label:
                iou = _iou(box, gold.box)
                if iou >= BOX_IOU:
                    candidates.append((-iou, i, j))
    used_mine, used_gold, matches = set(), set(), []
    for neg_iou, i, j in sorted(candidates):
        if i not in used_mine and j not in used_gold:
            used_mine.add(i)
            used_gold.add(j)
            matches.append((i, j, -neg_iou))
    f1 = _f1(len(matches), len(boxes), len(item.gold))
    ious = [iou for _, _, iou in matches]
    return ItemGrade(
        item.id,
        item.type,
        f1,
        len(matches) == len(boxes) == len(item.gold),
        details={
            "f1": f1,
            "mean_iou": sum(ious) / len(ious) if ious else None,
            "matched": [
                {
                    "label": boxes[i][0],
                    "box": list(boxes[i][1]),
                    "gold": list(item.gold[j].box),
                    "iou": iou,
                }
                for i, j, iou in matches
            ],
            "missed": [
                {"label": g.label, "box": list(g.box)}
                for j, g in enumerate(item.gold)
                if j not in used_gold
            ],
            "extra": [
                {"label": label, "box": list(box)}
                for i, (label, box) in enumerate(boxes)
                if i not in used_mine
            ],
        },
    )


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> dict[str, int]:
    """Word-level Levenshtein alignment: substitutions, deletions and insertions."""
    # Each cell holds (edits, substitutions, deletions, insertions) of the best alignment.
    prev = [(j, 0, 0, j) for j in range(len(hypothesis) + 1)]
    for i, ref_word in enumerate(reference, start=1):
        cur = [(i, 0, i, 0)]
        for j, hyp_word in enumerate(hypothesis, start=1):
            e, s, d, n = prev[j - 1]
            options = [(e, s, d, n) if ref_word == hyp_word else (e + 1, s + 1, d, n)]
            e, s, d, n = prev[j]
            options.append((e + 1, s, d + 1, n))
            e, s, d, n = cur[j - 1]
            options.append((e + 1, s, d, n + 1))
            cur.append(min(options))
        prev = cur
    edits, subs, dels, ins = prev[-1]
    return {"edits": edits, "substitutions": subs, "deletions": dels, "insertions": ins}


def grade_transcription(item: TranscriptionItem, answer: Mapping[str, Any]) -> ItemGrade:
    """Score = max(0, 1 - WER) over normalised words; agrees at WER <= 10%."""
    text = _field(answer, "text", str)
    ref, hyp = normalise_words(item.gold), normalise_words(text)
    errors = word_errors(ref, hyp)
    # A gold of no words: only an empty transcript agrees.
    wer = errors["edits"] / len(ref) if ref else float(bool(hyp))
    return ItemGrade(
        item.id,
        item.type,
        max(0.0, 1.0 - wer),
        wer <= TRANSCRIPTION_CORRECT_WER + 1e-12,
        details={"wer": wer, **errors, "gold": " ".join(ref), "answer": " ".join(hyp)},
    )


_SCORERS: dict[str, Callable[[Any, Mapping[str, Any]], ItemGrade]] = {
    "classification": grade_classification,
    "rubric_rating": grade_rubric_rating,
    "pairwise": grade_pairwise,
    "ranking": grade_ranking,
    "justification": grade_justification,
    "fact_check": grade_fact_check,
    "span": grade_span,
    "bounding_box": grade_bounding_box,
    "transcription": grade_transcription,
}


def grade_item(item: Any, answer: Mapping[str, Any]) -> ItemGrade:
    """Grade one answer with the scorer of the item's task type."""
    scorer = _SCORERS.get(getattr(item, "type", None))  # type: ignore[arg-type]
    if scorer is None:
        raise TypeError(f"no scorer for {type(item).__name__}")
    if not isinstance(answer, Mapping):
        raise InvalidAnswer(f"an answer must be an object, not {type(answer).__name__}")
    return scorer(item, answer)


# ----------------------------------------------------------------------------- aggregation


def _pooled_kappa(grades: Sequence[ItemGrade]) -> tuple[float, float, float] | None:
    pairs = [d for g in grades for d in g.decisions]
    if not pairs:
        return None
    try:
        return agreement.cohen_kappa_ci([t for t, _ in pairs], [g for _, g in pairs])
    except ValueError:  # one single category throughout: no evidence of agreement beyond chance
        return None


def _qwk_by_dimension(grades: Sequence[ItemGrade]) -> dict[str, tuple[float, float] | None]:
    """QWK and its standard error per rubric dimension, on that dimension's widest scale."""
    rows: dict[str, list[tuple[int, int]]] = defaultdict(list)
    scales: dict[str, tuple[int, int]] = {}
    for g in grades:
        for dim, t, gold in g.ratings:
            rows[dim].append((t, gold))
            lo, hi = g.scale or (min(t, gold), max(t, gold))
            old = scales.get(dim, (lo, hi))
            scales[dim] = (min(lo, old[0]), max(hi, old[1]))
    out: dict[str, tuple[float, float] | None] = {}
    for dim in sorted(rows):
        lo, hi = scales[dim]
        try:
            out[dim] = agreement.cohen_kappa_se(
                [t for t, _ in rows[dim]],
                [g for _, g in rows[dim]],
                weights="quadratic",
                labels=list(range(lo, hi + 1)),
            )
        except ValueError:
            out[dim] = None
    return out


def _mean_qwk(per_dim: Mapping[str, tuple[float, float] | None]) -> tuple[float, float] | None:
    """Mean QWK over defined dimensions, with the mean of their standard errors.

    The mean of the SEs bounds the SE of the mean whatever the correlation between dimensions,
    so an interval from it is conservative.
    """
    defined = [v for v in per_dim.values() if v is not None]
    if not defined:
        return None
    return (
        sum(k for k, _ in defined) / len(defined),
        sum(se for _, se in defined) / len(defined),
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _mean_with_se(values: Sequence[float]) -> tuple[float, float | None] | None:
    if not values:
        return None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var / len(values))


@dataclass(frozen=True)
class DimensionFigure:
    """One exam dimension: its figure, the upper end of its 95% interval, and the evidence.

    ``value`` is ``None`` when it is undefined, which on graded answers means no disagreement
    at all (every decision or rating matched gold, in one single category). ``high`` is
    ``None`` when the form holds too little to estimate an interval.
    """

    value: float | None
    high: float | None
    n: int  # decisions, ratings or items behind the figure

    def held_below(self, floor: float) -> bool:
        """Below ``floor`` on enough evidence to hold it against the trainee."""
        return (
            self.value is not None
            and self.value < floor
            and self.n >= MIN_DIMENSION_EVIDENCE
            and self.high is not None
            and self.high < floor
        )


def _type_dimension(grades: Sequence[ItemGrade]) -> DimensionFigure:
    """One task type: kappa over its decisions, mean QWK of rubric items, or mean item score."""
    if any(g.decisions for g in grades):
        kappa = _pooled_kappa(grades)
        n = sum(len(g.decisions) for g in grades)
        return (
            DimensionFigure(None, None, n)
            if kappa is None
            else DimensionFigure(kappa[0], kappa[2], n)
        )
    if any(g.ratings for g in grades):
        qwk = _mean_qwk(_qwk_by_dimension(grades))
        n = sum(len(g.ratings) for g in grades)
        if qwk is None:
            return DimensionFigure(None, None, n)
        return DimensionFigure(qwk[0], qwk[0] + _Z95 * qwk[1], n)
    mean = _mean_with_se([g.score for g in grades])
    if mean is None:
        return DimensionFigure(None, None, 0)
    high = None if mean[1] is None else mean[0] + _Z95 * mean[1]
    return DimensionFigure(mean[0], high, len(grades))


def _type_figure(grades: Sequence[ItemGrade]) -> float | None:
    """The agreement figure of one task type: kappa, mean QWK or mean item score."""
    return _type_dimension(grades).value


# What each key of type_measures is called where people read it.
TYPE_MEASURES = {
    "mean_tau_b": "mean Kendall tau-b",
    "span_f1": "span F1",
    "box_f1": "F1 at IoU 0.5",
    "mean_iou": "mean IoU",
    "mean_1_minus_wer": "mean (1 - WER)",
}


def type_measures(grades: Sequence[ItemGrade]) -> dict[str, float | None]:
    """The measures a task type is read by, besides its agreement figure.

    ranking: ``mean_tau_b``, the mean Kendall tau-b against gold; span: ``span_f1``;
    bounding_box: ``box_f1`` (matching at IoU >= BOX_IOU) and ``mean_iou`` of the matched
    boxes; transcription: ``mean_1_minus_wer``. F1 is micro-averaged, pooling the matched,
    missed and extra spans or boxes of every item, as in CoNLL span scoring.
    """
    types = {g.task_type for g in grades}
    if len(types) != 1:
        raise ValueError("type_measures takes the grades of one task type")
    (task_type,) = types
    if task_type == "ranking":
        taus = [g.details["tau"] for g in grades if g.details.get("tau") is not None]
        return {"mean_tau_b": _mean(taus)}
    if task_type in ("span", "bounding_box"):
        matched = sum(len(g.details.get("matched", ())) for g in grades)
        missed = sum(len(g.details.get("missed", ())) for g in grades)
        extra = sum(len(g.details.get("extra", ())) for g in grades)
        f1 = _f1(matched, matched + extra, matched + missed)
        if task_type == "span":
            return {"span_f1": f1}
        ious = [m["iou"] for g in grades for m in g.details.get("matched", ())]
        return {"box_f1": f1, "mean_iou": _mean(ious)}
    if task_type == "transcription":
        # From the stored WER, not the item score, which is floored at 0.
        return {
            "mean_1_minus_wer": _mean(
                [1.0 - g.details["wer"] if "wer" in g.details else g.score for g in grades]
            )
        }
    return {}


def exam_dimensions(grades: Sequence[ItemGrade]) -> dict[str, DimensionFigure]:
    """The task types present, and each rubric dimension keyed ``rubric_rating:<dimension>``
    (its QWK)."""
    dims = {
        task_type: _type_dimension([g for g in grades if g.task_type == task_type])
        for task_type in sorted({g.task_type for g in grades})
    }
    counts = Counter(dim for g in grades for dim, _, _ in g.ratings)
    for dim, value in _qwk_by_dimension(grades).items():
        dims[f"rubric_rating:{dim}"] = (
            DimensionFigure(None, None, counts[dim])
            if value is None
            else DimensionFigure(value[0], value[0] + _Z95 * value[1], counts[dim])
        )
    return dims


def combined_agreement(grades: Sequence[ItemGrade]) -> float | None:
    """One agreement figure over mixed task types.

    Kappa over the pooled decisions of items that have them, mean QWK over rubric items and
    mean item score over the rest, averaged with weights equal to their item counts. A part
    whose kappa is undefined is left out: that only happens when every decision in it agreed
    with gold in one single category, which carries no disagreement to weigh. ``None`` when no
    part is defined.
    """
    with_decisions = [g for g in grades if g.decisions]
    rubric = [g for g in grades if g.ratings and not g.decisions]
    rest = [g for g in grades if not g.decisions and not g.ratings]
    parts = []
    if with_decisions:
        kappa = _pooled_kappa(with_decisions)
        if kappa is not None:
            parts.append((kappa[0], len(with_decisions)))
    if rubric:
        qwk = _mean_qwk(_qwk_by_dimension(rubric))
        if qwk is not None:
            parts.append((qwk[0], len(rubric)))
    if rest:
        parts.append((sum(g.score for g in rest) / len(rest), len(rest)))
    if not parts:
        return None
    return sum(v * n for v, n in parts) / sum(n for _, n in parts)


def format_against(value: float, threshold: float) -> str:
    """Two decimals, or as many more (up to six) as it takes for a figure that is not the
    threshold not to read as it (0.698 or 0.69996 against 0.70)."""
    if value == threshold:
        return f"{value:.2f}"
    for decimals in range(2, 7):
        text = f"{value:.{decimals}f}"
        if float(text) != threshold:
            return text
    # Closer than a millionth: round away from the threshold, so the side stays right.
    step = 1e6
    edge = math.floor(value * step) if value < threshold else math.ceil(value * step)
    return f"{edge / step:.6f}"


@dataclass(frozen=True)
class AttemptResult:
    """Agreement of a set of graded items with gold, and the gate decision.

    ``confusion[gold][answer]`` counts decisions (``pd.DataFrame.from_dict(confusion,
    orient="index")`` has gold as rows). Undefined figures are ``None``.
    """

    n_items: int
    n_pending_review: int
    n_decisions: int
    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None
    accuracy: float | None  # share of decisions equal to gold
    share_correct: float | None  # share of items that agree with gold
    qwk: float | None
    qwk_by_dimension: dict[str, float | None]
    mean_score: float | None
    by_task_type: dict[str, dict[str, Any]]
    confusion: dict[str, dict[str, int]]
    metric: str
    statistic: float | None
    statistic_low: float | None
    threshold: float
    min_items: int
    passed: bool
    reason: str


_METRIC_NAMES = {"kappa": "kappa", "qwk": "QWK", "mean_score": "mean score"}


def gate_passes(n: int, value: float | None, rule: GateRule) -> bool:
    """The pass decision alone (the bulk seed asks it after every simulated answer)."""
    # NaN compares False: an undefined figure never passes.
    return n >= rule.min_items and value is not None and value >= rule.threshold


def gate_decision(n: int, value: float | None, rule: GateRule) -> tuple[bool, str]:
    """Whether ``n`` graded items at gate figure ``value`` pass ``rule``, and the sentence
    that says why (``value`` is the lower 95% bound when the rule gates on it)."""
    name = _METRIC_NAMES[rule.metric]
    if rule.use_ci_lower:
        name = f"lower 95% bound of {name}"
    if n < rule.min_items:
        return False, f"{n} of {rule.min_items} graded items so far"
    if value is None or math.isnan(value):
        return False, (
            f"{name} is undefined: not enough evidence yet (needs more than one category)"
        )
    shown = format_against(value, rule.threshold)
    if not gate_passes(n, value, rule):
        return False, f"{name} {shown} < {rule.threshold:.2f}"
    return True, f"{name} {shown} >= {rule.threshold:.2f} over {n} items"


def grade_attempt(grades: Sequence[ItemGrade], rule: GateRule) -> AttemptResult:
    """Aggregate an attempt's graded items and apply a module's gate rule.

    Passes when the rule's statistic (or its 95% lower bound, with ``use_ci_lower``) is at least
    the threshold over at least ``min_items`` graded items. Lower bounds: the analytic kappa
    interval; for QWK the mean QWK minus 1.96 x the mean of the per-dimension SEs; for the mean
    score the normal interval of a mean.
    """
    n = len(grades)
    pairs = [d for g in grades for d in g.decisions]
    kappa = _pooled_kappa(grades)
    per_dim = _qwk_by_dimension(grades)
    qwk = _mean_qwk(per_dim)
    mean = _mean_with_se([g.score for g in grades])

    labels = sorted({label for pair in pairs for label in pair})
    counts = Counter(pairs)
    confusion = {gold: {t: counts[(t, gold)] for t in labels} for gold in labels}

    by_type: dict[str, dict[str, Any]] = {}
    for task_type in sorted({g.task_type for g in grades}):
        subset = [g for g in grades if g.task_type == task_type]
        figures: dict[str, Any] = {
            "items": len(subset),
            "mean_score": _mean([g.score for g in subset]),
            "share_correct": _mean([float(g.correct) for g in subset]),
            "agreement": _type_figure(subset),
            **type_measures(subset),
        }
        if any(g.decisions for g in subset):
            k = _pooled_kappa(subset)
            figures["kappa"] = None if k is None else k[0]
        if any(g.ratings for g in subset):
            q = _mean_qwk(_qwk_by_dimension(subset))
            figures["qwk"] = None if q is None else q[0]
        by_type[task_type] = figures

    if rule.metric == "kappa":
        stat = None if kappa is None else kappa[0]
        low = None if kappa is None else kappa[1]
    elif rule.metric == "qwk":
        stat = None if qwk is None else qwk[0]
        low = None if qwk is None else max(-1.0, qwk[0] - _Z95 * qwk[1])
    else:
        stat = None if mean is None else mean[0]
        low = None if mean is None or mean[1] is None else mean[0] - _Z95 * mean[1]

    passed, reason = gate_decision(n, low if rule.use_ci_lower else stat, rule)

    return AttemptResult(
        n_items=n,
        n_pending_review=sum(g.pending_review for g in grades),
        n_decisions=len(pairs),
        kappa=None if kappa is None else kappa[0],
        kappa_low=None if kappa is None else kappa[1],
        kappa_high=None if kappa is None else kappa[2],
        accuracy=_mean([float(t == g) for t, g in pairs]),
        share_correct=_mean([float(g.correct) for g in grades]),
        qwk=None if qwk is None else qwk[0],
        qwk_by_dimension={d: None if v is None else v[0] for d, v in per_dim.items()},
        mean_score=None if mean is None else mean[0],
        by_task_type=by_type,
        confusion=confusion,
        metric=rule.metric,
        statistic=stat,
        statistic_low=low,
        threshold=rule.threshold,
        min_items=rule.min_items,
        passed=passed,
        reason=reason,
    )


@dataclass(frozen=True)
class ExamResult:
    """An exam's outcome: overall and per-dimension agreement only (no gold, no answers)."""

    n_items: int
    overall: float | None
    dimensions: dict[str, float | None]
    failing: tuple[str, ...]
    passed: bool
    reason: str
    # Below the dimension bar on this form, but on too little evidence to hold against anyone.
    unproven: tuple[str, ...] = ()


def exam_result(grades: Sequence[ItemGrade], rules: ExamRules) -> ExamResult:
    """Pass at overall agreement >= pass_threshold and no dimension held below
    dimension_threshold.

    Overall agreement is :func:`combined_agreement`. Dimensions are :func:`exam_dimensions`.
    A 30-item form holds two to four items of each task type, so one slip can put a
    dimension's point estimate anywhere; a dimension therefore fails only when the evidence
    says it is below the bar: at least ``MIN_DIMENSION_EVIDENCE`` observations and the upper
    end of its 95% interval under the bar. A dimension that is undefined had no disagreement
    at all and never fails. The overall figure has no such allowance.
    """
    overall = combined_agreement(grades)
    figures = exam_dimensions(grades)
    floor = rules.dimension_threshold
    failing = tuple(d for d, f in figures.items() if f.held_below(floor))
    unproven = tuple(
        d
        for d, f in figures.items()
        if f.value is not None and f.value < floor and d not in failing
    )
    reasons = []
    if not grades:
        reasons.append("no graded items")
    elif overall is None:
        reasons.append("overall agreement is undefined")
    elif overall < rules.pass_threshold:
        reasons.append(
            f"overall agreement {format_against(overall, rules.pass_threshold)} "
            f"< {rules.pass_threshold:.2f}"
        )
    for d in failing:
        value = figures[d].value
        assert value is not None  # held_below implies a value
        reasons.append(f"{d} {format_against(value, floor)} < {floor:.2f}")
    passed = not reasons
    if passed:
        assert overall is not None
        reason = f"overall agreement {overall:.2f} >= {rules.pass_threshold:.2f}"
        reason += (
            f"; {', '.join(unproven)} below {floor:.2f} on too few items to judge"
            if unproven
            else f" and every dimension >= {floor:.2f}"
        )
    else:
        reason = "; ".join(reasons)
    dims = {d: f.value for d, f in figures.items()}
    return ExamResult(len(grades), overall, dims, failing, passed, reason, unproven)


def rolling_agreement(grades: Sequence[ItemGrade], window: int = 50) -> float | None:
    """:func:`combined_agreement` over the last ``window`` grades (oldest first in ``grades``).

    ``None`` when nothing in the window is defined; callers must not read that as drift or as
    agreement, only as "not enough evidence".
    """
    if window < 1:
        raise ValueError("window must be positive")
    return combined_agreement(list(grades)[-window:])


@dataclass(frozen=True)
class PositionBias:
    n: int  # pairwise answers with a known display order and a non-tie choice
    first_preferred: int
    share_first: float | None
    p_value: float | None  # exact two-sided binomial test against 0.5


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided binomial test p-value of k successes in n trials at p = 0.5.

    At p = 0.5 the distribution is symmetric, so the outcomes at most as likely as k are the
    two tails beyond min(k, n - k): p = min(1, 2 * P(X <= min(k, n - k))).
    """
    if not 0 <= k <= n:
        raise ValueError("need 0 <= k <= n")
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(k, n - k) + 1))
    return min(1.0, 2 * tail / 2**n)


def position_bias(grades: Sequence[ItemGrade]) -> PositionBias:
    """Share of pairwise choices (ties excluded) preferring the response shown first."""
    shown = [
        g.details
        for g in grades
        if g.task_type == "pairwise"
        and g.details.get("shown_first") in ("A", "B")
        and g.details.get("answer") in ("A", "B")
    ]
    n = len(shown)
    first = sum(d["answer"] == d["shown_first"] for d in shown)
    if n == 0:
        return PositionBias(0, 0, None, None)
    return PositionBias(n, first, first / n, binomial_two_sided_p(first, n))
