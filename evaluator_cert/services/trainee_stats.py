"""The figures behind a trainee's agreement dashboard (one read, no writes)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from evaluator_cert import grading
from evaluator_cert.content.schema import VERDICTS, GateRule
from evaluator_cert.db.models import Annotation, Attempt, Grade, ModuleProgress, User
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import base_item_id, grade_from_row, is_duplicate

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

# Decisions that read naturally in a confusion matrix (a label against the gold label).
LABEL_TYPES = ("classification", "pairwise", "fact_check", "justification")
TIMELINE_WINDOW = 20
TIMELINE_STEP = 5


@dataclass(frozen=True)
class TraineeDashboard:
    graded: int
    rolling: float | None
    timeline: pd.DataFrame  # at, items, agreement, low, high
    modules: pd.DataFrame  # module, title, agreement, graded, passed, threshold
    dimensions: pd.DataFrame  # dimension, kind, agreement, items
    # One gold (rows) x your label (columns) count table per label set, the most answered first:
    # sentiment labels, intents and A/B choices do not belong in one table.
    confusions: dict[str, pd.DataFrame]
    weakest_labels: pd.DataFrame  # label, label set, recall, items
    position_bias: grading.PositionBias
    consistency: tuple[int, int]  # consistent pairs, hidden-duplicate pairs answered
    percentile: float | None  # share of the cohort with lower mean module agreement


def _timeline(stamped: list[tuple[datetime, grading.ItemGrade]]) -> pd.DataFrame:
    """Agreement over a sliding window of graded items, with its 95% interval where kappa."""
    rows = []
    for end in range(TIMELINE_WINDOW, len(stamped) + 1, TIMELINE_STEP):
        window = stamped[end - TIMELINE_WINDOW : end]
        grades = [g for _, g in window]
        low = high = None
        # Only the pooled kappa (what grade_attempt reports as kappa) is needed here; the full
        # aggregate recomputed every per-type figure for each window and dominated the page.
        kappa = grading._pooled_kappa(grades) if all(g.decisions for g in grades) else None
        if kappa is not None:
            value, low, high = kappa
        else:
            value = grading.combined_agreement(grades)
        rows.append(
            {"at": window[-1][0], "items": end, "agreement": value, "low": low, "high": high}
        )
    return pd.DataFrame(rows, columns=["at", "items", "agreement", "low", "high"])


def _consistency(pairs: dict[int, dict[str, list[grading.ItemGrade]]]) -> tuple[int, int]:
    """Hidden duplicates: the same item answered twice in one attempt gets the same answer?"""
    consistent = total = 0
    for by_item in pairs.values():
        for grades in by_item.values():
            if len(grades) != 2:
                continue
            first, second = grades
            total += 1
            same = [t for t, _ in first.decisions] == [t for t, _ in second.decisions] and [
                r[1] for r in first.ratings
            ] == [r[1] for r in second.ratings]
            if not first.decisions and not first.ratings:
                same = abs(first.score - second.score) < 0.1
            consistent += int(same)
    return consistent, total


def trainee_dashboard(
    session: Session, actor: Actor, catalog: Catalog, *, user_id: int | None = None
) -> TraineeDashboard:
    """A trainee's own figures; instructors may look at any trainee's."""
    if actor is None or user_id is None or user_id == actor.id:
        require_role(actor, "trainee")
        user_id = actor.id
    else:
        require_role(actor, "instructor", "admin")
    rows = session.execute(
        select(Annotation.item_id, Annotation.attempt_id, Annotation.created_at, Grade)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(Annotation.user_id == user_id, Attempt.kind == "practice")
        .order_by(Annotation.created_at, Annotation.id)
    ).all()
    stamped: list[tuple[datetime, grading.ItemGrade]] = []
    duplicates: dict[int, dict[str, list[grading.ItemGrade]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for key, attempt_id, at, row in rows:
        base = base_item_id(key)
        if not catalog.has_item(base):
            continue
        grade = grade_from_row(base, catalog.item(base).type, row)
        duplicates[attempt_id][base].append(grade)
        if not is_duplicate(key):
            stamped.append((at, grade))
    grades = [g for _, g in stamped]
    # Keep only items answered twice in the same attempt for the consistency check.
    for attempt_id in list(duplicates):
        duplicates[attempt_id] = {k: v for k, v in duplicates[attempt_id].items() if len(v) == 2}

    overall = grading.grade_attempt(grades, GateRule(min_items=1)) if grades else None
    dims = []
    if overall is not None:
        for task_type, figures in overall.by_task_type.items():
            dims.append(
                {
                    "dimension": task_type.replace("_", " "),
                    "kind": "task type",
                    "agreement": figures.get("agreement"),
                    "items": figures.get("items"),
                    "measures": {k: v for k, v in figures.items() if k in grading.TYPE_MEASURES},
                }
            )
        for dim, value in overall.qwk_by_dimension.items():
            dims.append(
                {
                    "dimension": dim,
                    "kind": "rubric dimension",
                    "agreement": value,
                    "items": None,
                    "measures": {},
                }
            )
    confusions, weakest = _label_sets(grades, catalog)

    progress = {
        p.module_id: p
        for p in session.scalars(select(ModuleProgress).where(ModuleProgress.user_id == user_id))
    }
    modules = pd.DataFrame(
        [
            {
                "module": m.id,
                "title": m.title,
                "agreement": progress[m.id].agreement if m.id in progress else None,
                "graded": progress[m.id].graded_items if m.id in progress else 0,
                "passed": m.id in progress and progress[m.id].passed_at is not None,
                "threshold": m.gate.threshold,
            }
            for m in catalog.modules
        ]
    )
    return TraineeDashboard(
        graded=len(grades),
        rolling=grading.rolling_agreement(grades, catalog.levels[0].drift_window)
        if grades
        else None,
        timeline=_timeline(stamped),
        modules=modules,
        dimensions=pd.DataFrame(
            dims, columns=["dimension", "kind", "agreement", "items", "measures"]
        ),
        confusions=confusions,
        weakest_labels=weakest,
        position_bias=grading.position_bias(grades),
        consistency=_consistency(duplicates),
        percentile=_percentile(session, user_id),
    )


def _label_set(item: Any) -> tuple[str, ...]:
    """The labels an item's decisions are drawn from (its own list for classification)."""
    if item.type == "classification":
        return tuple(item.labels)
    if item.type == "fact_check":
        return tuple(VERDICTS)
    if item.type == "justification":
        return tuple(item.choices)
    return tuple(item.choices)  # pairwise


def _label_set_name(task_type: str, labels: tuple[str, ...]) -> str:
    shown = ", ".join(label.replace("_", " ") for label in labels[:4])
    more = ", …" if len(labels) > 4 else ""
    return f"{task_type.replace('_', ' ').capitalize()}: {shown}{more}"


def _label_sets(
    grades: Sequence[grading.ItemGrade], catalog: Catalog
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Confusion tables per label set, and every gold label's recall (weakest first)."""
    groups: dict[tuple[str, tuple[str, ...]], list[grading.ItemGrade]] = defaultdict(list)
    for g in grades:
        if g.task_type in LABEL_TYPES and g.decisions:
            groups[(g.task_type, _label_set(catalog.item(g.item_id)))].append(g)
    confusions: dict[str, pd.DataFrame] = {}
    recall = []
    for (task_type, labels), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for g in members:
            for given, gold in g.decisions:
                counts[str(gold)][str(given)] += 1
        table = pd.DataFrame.from_dict(counts, orient="index").fillna(0).astype(int)
        table = table.reindex(
            index=sorted(table.index),
            columns=sorted(set(table.columns) | set(table.index)),
            fill_value=0,
        )
        name = _label_set_name(task_type, labels)
        confusions[name] = table
        recall.extend(
            {
                "label": gold.replace("_", " "),
                "label set": name,
                "recall": table.loc[gold, gold] / table.loc[gold].sum(),
                "items": int(table.loc[gold].sum()),
            }
            for gold in table.index
            if table.loc[gold].sum() > 0
        )
    weakest = pd.DataFrame(recall, columns=["label", "label set", "recall", "items"])
    if not weakest.empty:
        weakest = weakest.sort_values(["recall", "items"], ascending=[True, False])
    return confusions, weakest


def _percentile(session: Session, user_id: int) -> float | None:
    """Share of trainees (with any graded module) whose mean module agreement is lower.

    Counted in SQL: only two numbers come back, not every trainee's mean."""
    mine = session.scalar(
        select(func.avg(ModuleProgress.agreement))
        .join(User, User.id == ModuleProgress.user_id)
        .where(
            ModuleProgress.user_id == user_id,
            ModuleProgress.agreement.is_not(None),
            User.role == "trainee",
        )
    )
    if mine is None:
        return None
    means = (
        select(func.avg(ModuleProgress.agreement).label("mean"))
        .join(User, User.id == ModuleProgress.user_id)
        .where(ModuleProgress.agreement.is_not(None), User.role == "trainee")
        .group_by(ModuleProgress.user_id)
        .subquery()
    )
    total, lower = session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((means.c.mean < mine, 1), else_=0)), 0)
        ).select_from(means)
    ).one()
    if total < 2:
        return None
    return int(lower) / (total - 1)
