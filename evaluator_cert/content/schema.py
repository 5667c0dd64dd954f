"""The content model: levels, modules, item sets and one item model per task type.

Everything here is pure pydantic v2; the YAML/JSONL loader (``loader.py``) turns files
into these models and maps validation errors back to ``file:line``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evaluator_cert.text import find_token_span, tokenize

LevelId = Literal["L1", "L2", "L3"]
TaskType = Literal[
    "classification",
    "rubric_rating",
    "pairwise",
    "ranking",
    "justification",
    "fact_check",
    "span",
    "bounding_box",
    "transcription",
]
TASK_TYPES: tuple[str, ...] = TaskType.__args__  # type: ignore[attr-defined]
Difficulty = Literal["easy", "medium", "hard"]
Verdict = Literal["supported", "refuted", "not_enough_info"]
VERDICTS: tuple[str, ...] = Verdict.__args__  # type: ignore[attr-defined]
GateMetric = Literal["kappa", "qwk", "mean_score"]

ITEM_ID = r"^L[123]_[A-Z0-9_]+$"
MODULE_ID = r"^L[123]_M\d{3}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _unique(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must be unique")
    return values


# --------------------------------------------------------------------------- items


class ItemBase(_Model):
    """Fields every item has, whatever its task type."""

    id: Annotated[str, Field(pattern=ITEM_ID)]
    instructions: Annotated[str, Field(min_length=5)]
    explanation: Annotated[str, Field(min_length=20)]
    difficulty: Difficulty = "medium"
    tags: tuple[str, ...] = ()
    # Where experts could reasonably differ: the item says so and how the rubric settles it.
    contested: str | None = None
    # Optional material shown with the task (each task type says which it requires).
    prompt: str | None = None
    text: str | None = None
    response: str | None = None
    image: str | None = None  # path relative to the assessments/ folder
    audio: str | None = None  # path relative to the assessments/ folder


class ClassificationItem(ItemBase):
    type: Literal["classification"]
    labels: Annotated[tuple[str, ...], Field(min_length=2)]
    gold: str

    @model_validator(mode="after")
    def _gold_in_labels(self) -> ClassificationItem:
        _unique(self.labels, "labels")
        if self.gold not in self.labels:
            raise ValueError(f"classification gold {self.gold!r} is not one of the labels")
        if not (self.text or self.prompt or self.response or self.image or self.audio):
            raise ValueError(
                "classification needs material: text, prompt, response, image or audio"
            )
        return self


class RubricRatingItem(ItemBase):
    type: Literal["rubric_rating"]
    response: str
    dimensions: Annotated[tuple[str, ...], Field(min_length=1)]
    scale_min: int = 1
    scale_max: Literal[5, 7] = 5
    # Optional anchor text per score, e.g. {"1": "fabricated", "5": "fully correct"}.
    anchors: dict[str, dict[int, str]] | None = None
    gold: dict[str, int]

    @model_validator(mode="after")
    def _gold_per_dimension(self) -> RubricRatingItem:
        _unique(self.dimensions, "dimensions")
        if set(self.gold) != set(self.dimensions):
            raise ValueError("rubric_rating gold must rate every dimension, and only those")
        for dim, value in self.gold.items():
            if not self.scale_min <= value <= self.scale_max:
                raise ValueError(
                    f"rubric_rating gold for {dim} is {value}, outside "
                    f"{self.scale_min}-{self.scale_max}"
                )
        return self

    @property
    def scale(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


class PairwiseItem(ItemBase):
    type: Literal["pairwise"]
    prompt: str
    responses: dict[str, str]  # exactly {"A": ..., "B": ...}
    allow_tie: bool = True
    gold: Literal["A", "B", "tie"]

    @model_validator(mode="after")
    def _two_responses(self) -> PairwiseItem:
        if list(self.responses) != ["A", "B"]:
            raise ValueError("pairwise responses must be exactly A and B")
        if self.gold == "tie" and not self.allow_tie:
            raise ValueError("pairwise gold is tie but allow_tie is false")
        return self

    @property
    def choices(self) -> list[str]:
        return ["A", "B", "tie"] if self.allow_tie else ["A", "B"]


class RankingItem(ItemBase):
    type: Literal["ranking"]
    prompt: str
    responses: dict[str, str]  # {"A": ..., "B": ..., "C": ...}, three or more
    gold: tuple[str, ...]  # response ids, best first

    @model_validator(mode="after")
    def _permutation(self) -> RankingItem:
        if len(self.responses) < 3:
            raise ValueError("ranking needs at least 3 responses")
        if sorted(self.gold) != sorted(self.responses):
            raise ValueError(
                f"ranking gold must order all {len(self.responses)} responses exactly once"
            )
        return self


class KeyPoint(_Model):
    point: Annotated[str, Field(min_length=3)]
    # The point counts as covered when any keyword (case-insensitive, whole words) appears.
    keywords: Annotated[tuple[str, ...], Field(min_length=1)]


class JustificationItem(ItemBase):
    type: Literal["justification"]
    responses: dict[str, str] | None = None
    question: Annotated[str, Field(min_length=5)]
    choices: Annotated[tuple[str, ...], Field(min_length=2)]
    gold: str
    key_points: Annotated[tuple[KeyPoint, ...], Field(min_length=1)]
    min_words: int = 30
    # Criteria the instructor scores 0-4 when reviewing the written justification.
    review_criteria: tuple[str, ...] = ("evidence", "specificity", "rubric use", "clarity")

    @model_validator(mode="after")
    def _gold_in_choices(self) -> JustificationItem:
        _unique(self.choices, "choices")
        if self.gold not in self.choices:
            raise ValueError(f"justification gold {self.gold!r} is not one of the choices")
        if not (self.prompt or self.response or self.responses or self.text):
            raise ValueError("justification needs material: prompt, response(s) or text")
        return self


class Claim(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    text: Annotated[str, Field(min_length=3)]
    gold: Verdict
    note: str | None = None


class FactCheckItem(ItemBase):
    type: Literal["fact_check"]
    evidence: str | None = None  # source text the claims are checked against, if any
    claims: Annotated[tuple[Claim, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_claims(self) -> FactCheckItem:
        _unique(tuple(c.id for c in self.claims), "claim ids")
        return self


class GoldSpan(_Model):
    text: Annotated[str, Field(min_length=1)]  # the exact phrase as it appears in the item text
    label: str
    occurrence: int = 1  # which occurrence of the phrase, when it appears more than once


class SpanItem(ItemBase):
    type: Literal["span"]
    text: str
    labels: Annotated[tuple[str, ...], Field(min_length=1)]
    gold: tuple[GoldSpan, ...]  # may be empty: "nothing to mark" is a valid answer

    @model_validator(mode="after")
    def _spans_resolve(self) -> SpanItem:
        _unique(self.labels, "labels")
        taken: set[int] = set()
        for span in self.gold:
            if span.label not in self.labels:
                raise ValueError(f"span label {span.label!r} is not one of the labels")
            found = find_token_span(self.text, span.text, span.occurrence)
            if found is None:
                raise ValueError(
                    f"span {span.text!r} (occurrence {span.occurrence}) is not in the text "
                    "on token boundaries"
                )
            tokens = set(range(*found))
            if tokens & taken:
                raise ValueError(f"span {span.text!r} overlaps another gold span")
            taken |= tokens
        return self

    @property
    def tokens(self) -> list[str]:
        return [t.text for t in tokenize(self.text)]

    @property
    def gold_spans(self) -> list[tuple[int, int, str]]:
        """Gold as ``(start_token, end_token_exclusive, label)``."""
        out = []
        for span in self.gold:
            start, end = find_token_span(self.text, span.text, span.occurrence)  # type: ignore[misc]
            out.append((start, end, span.label))
        return sorted(out)


class GoldBox(_Model):
    label: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in image pixels

    @field_validator("box")
    @classmethod
    def _ordered(cls, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        if not (x0 < x1 and y0 < y1):
            raise ValueError("box must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1")
        return box


class BoundingBoxItem(ItemBase):
    type: Literal["bounding_box"]
    image: str
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]
    labels: Annotated[tuple[str, ...], Field(min_length=1)]
    gold: Annotated[tuple[GoldBox, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _boxes_inside(self) -> BoundingBoxItem:
        _unique(self.labels, "labels")
        for box in self.gold:
            if box.label not in self.labels:
                raise ValueError(f"box label {box.label!r} is not one of the labels")
            x0, y0, x1, y1 = box.box
            if x0 < 0 or y0 < 0 or x1 > self.width or y1 > self.height:
                raise ValueError(
                    f"box {list(box.box)} lies outside the {self.width}x{self.height} image"
                )
        return self


class TranscriptionItem(ItemBase):
    type: Literal["transcription"]
    audio: str
    gold: Annotated[str, Field(min_length=1)]


Item = Annotated[
    ClassificationItem
    | RubricRatingItem
    | PairwiseItem
    | RankingItem
    | JustificationItem
    | FactCheckItem
    | SpanItem
    | BoundingBoxItem
    | TranscriptionItem,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------- sets, modules


class GateRule(_Model):
    """What passes a module's practice set (DESIGN.md, gating rules)."""

    metric: GateMetric = "kappa"
    threshold: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.70
    min_items: Annotated[int, Field(ge=1)] = 20
    use_ci_lower: bool = False  # gate on the lower bound of the 95% interval instead


class ItemSet(_Model):
    """One file of items: a module's practice set, a level's exam bank or calibration batch.

    Several files may declare the same (kind, module/level); the catalog merges them.
    """

    kind: Literal["practice", "exam", "calibration"]
    level: LevelId
    module: Annotated[str, Field(pattern=MODULE_ID)] | None = None
    title: str | None = None
    items: Annotated[tuple[Item, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _module_for_practice(self) -> ItemSet:
        if self.kind == "practice" and self.module is None:
            raise ValueError("a practice set must name its module")
        if self.kind != "practice" and self.module is not None:
            raise ValueError(f"a {self.kind} set belongs to a level, not a module")
        if self.module is not None and not self.module.startswith(self.level + "_"):
            raise ValueError(f"module {self.module} is not in level {self.level}")
        return self


class Module(_Model):
    id: Annotated[str, Field(pattern=MODULE_ID)]
    level: LevelId
    title: Annotated[str, Field(min_length=3)]
    summary: Annotated[str, Field(min_length=10)]
    objectives: Annotated[tuple[str, ...], Field(min_length=1)]
    lesson: str  # Markdown file, relative to the module's YAML file
    prerequisites: tuple[str, ...] = ()
    # Skills/dimensions this module trains; remediation reassigns modules by these.
    skills: tuple[str, ...] = ()
    estimated_minutes: int = 45
    gate: GateRule = GateRule()


class ExamRules(_Model):
    form_size: Annotated[int, Field(ge=5)] = 30
    time_limit_minutes: Annotated[int, Field(ge=1)] = 45
    max_attempts: Annotated[int, Field(ge=1)] = 3
    window_days: Annotated[int, Field(ge=1)] = 30
    cooldown_hours: Annotated[float, Field(ge=0)] = 24
    pass_threshold: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.70
    dimension_threshold: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.60


class Level(_Model):
    id: LevelId
    title: str
    description: str
    requires: LevelId | None = None  # an active credential of this level is required
    credential_valid_months: int = 12
    recertification_threshold: float = 0.70
    drift_window: int = 50  # graded items in the rolling agreement
    drift_threshold: float = 0.70
    exam: ExamRules = ExamRules()
