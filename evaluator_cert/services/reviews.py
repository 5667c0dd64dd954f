"""The justification review queue: instructors score written justifications on the item's
review criteria; the grade and the trainee's module progress follow.

Final score of a reviewed justification = 0.5 x choice correctness + 0.5 x mean criterion
score / 4, the mean taken over every criterion of every review the answer has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from evaluator_cert import agreement, grading
from evaluator_cert.content.schema import JustificationItem
from evaluator_cert.db.models import (
    Annotation,
    Attempt,
    Grade,
    ModuleProgress,
    Review,
    User,
    utcnow,
)
from evaluator_cert.errors import ConflictError, InvalidInputError, NotFoundError
from evaluator_cert.services import audit
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import _attempt_grades, base_item_id, refresh_rolling

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

MAX_FEEDBACK = 4000
SCALE = (0, 4)


def recompute_module_progress(
    session: Session, catalog: Catalog, user_id: int, module_id: str, now: datetime
) -> ModuleProgress | None:
    """Re-derive a trainee's module progress from the grades of their latest practice attempt
    of that module (after a review or a regrade changed some grades)."""
    attempt = session.scalar(
        select(Attempt)
        .where(
            Attempt.user_id == user_id,
            Attempt.kind == "practice",
            Attempt.module_id == module_id,
        )
        .order_by(Attempt.id.desc())
        .limit(1)
    )
    if attempt is None:
        return None
    module = catalog.module(module_id)
    result = grading.grade_attempt(_attempt_grades(session, attempt.id, catalog), module.gate)
    stat = (
        None
        if result.statistic is None or result.statistic != result.statistic
        else float(result.statistic)
    )
    attempt.agreement = stat
    if attempt.status == "submitted" and attempt.result is not None:
        attempt.passed = result.passed
        attempt.result = {"statistic": stat, "reason": result.reason}
    progress = session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user_id, ModuleProgress.module_id == module_id
        )
    )
    if progress is None:
        progress = ModuleProgress(user_id=user_id, module_id=module_id)
        session.add(progress)
    progress.graded_items = result.n_items
    progress.agreement = stat
    progress.updated_at = now
    # A pass earned stays earned; a correction can only add passes.
    if result.passed and progress.passed_at is None:
        progress.passed_at = now
        user = session.get(User, user_id)
        audit.record(
            session,
            None,
            "module.passed",
            module_id,
            user=user.username if user else user_id,
            agreement=stat,
            after="regrade",
        )
    return progress


def review_queue(
    session: Session, actor: Actor, catalog: Catalog, *, include_reviewed: bool = False
) -> pd.DataFrame:
    """Justifications awaiting review, oldest first (with ``include_reviewed``, all of them)."""
    require_role(actor, "instructor", "admin")
    query = (
        select(Annotation, Grade, User.username)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(User, User.id == Annotation.user_id)
        .where(Grade.details["task_type"].as_string() == "justification")
        .order_by(Annotation.created_at, Annotation.id)
    )
    if not include_reviewed:
        query = query.where(Grade.pending_review.is_(True))
    reviewed: dict[int, int] = {}
    for ann_id in session.scalars(select(Review.annotation_id)):
        reviewed[ann_id] = reviewed.get(ann_id, 0) + 1
    rows = []
    for ann, grade, username in session.execute(query).all():
        details = (grade.details or {}).get("details", {})
        rows.append(
            {
                "annotation_id": ann.id,
                "item": base_item_id(ann.item_id),
                "trainee": username,
                "choice": ann.answer.get("choice"),
                "correct": grade.correct,
                "key_points_found": int(details.get("covered", 0)),
                "words": int(details.get("word_count", 0)),
                "reviews": reviewed.get(ann.id, 0),
                "pending": grade.pending_review,
                "submitted": ann.created_at,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "annotation_id",
            "item",
            "trainee",
            "choice",
            "correct",
            "key_points_found",
            "words",
            "reviews",
            "pending",
            "submitted",
        ],
    )


@dataclass(frozen=True)
class ReviewTask:
    annotation_id: int
    item: JustificationItem
    trainee: str
    choice: str
    text: str
    correct: bool
    key_points: list[dict[str, Any]]  # point, covered, matched (from the auto-check)
    criteria: tuple[str, ...]
    reviews: list[dict[str, Any]]  # reviewer, scores, feedback


def review_task(session: Session, actor: Actor, catalog: Catalog, annotation_id: int) -> ReviewTask:
    require_role(actor, "instructor", "admin")
    found = session.execute(
        select(Annotation, Grade, User.username)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.id == annotation_id)
    ).first()
    if found is None:
        raise NotFoundError("That answer does not exist.")
    ann, grade, username = found
    item = catalog.item(base_item_id(ann.item_id))
    if not isinstance(item, JustificationItem):
        raise InvalidInputError("Only written justifications are reviewed.")
    details = (grade.details or {}).get("details", {})
    reviews = [
        {"reviewer": name, "scores": r.scores, "feedback": r.feedback, "at": r.created_at}
        for r, name in session.execute(
            select(Review, User.username)
            .join(User, User.id == Review.reviewer_id)
            .where(Review.annotation_id == annotation_id)
            .order_by(Review.id)
        )
    ]
    return ReviewTask(
        ann.id,
        item,
        username,
        str(ann.answer.get("choice", "")),
        str(ann.answer.get("text", "")),
        grade.correct,
        list(details.get("key_points", [])),
        item.review_criteria,
        reviews,
    )


def final_score(correct: bool, reviews: list[dict[str, Any]]) -> float:
    values = [float(v) for r in reviews for v in r.values()]
    return 0.5 * float(correct) + 0.5 * (sum(values) / len(values)) / SCALE[1]


def submit_review(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    annotation_id: int,
    scores: dict[str, int],
    feedback: str,
    *,
    now: datetime | None = None,
) -> float:
    """Record one instructor's review; returns the answer's new score."""
    require_role(actor, "instructor", "admin")
    now = now or utcnow()
    task = review_task(session, actor, catalog, annotation_id)
    if set(scores) != set(task.criteria):
        raise InvalidInputError("Score every review criterion, and only those.")
    clean: dict[str, int] = {}
    for criterion, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InvalidInputError(f"The score for {criterion} must be a whole number.")
        if not SCALE[0] <= int(value) <= SCALE[1]:
            raise InvalidInputError(f"The score for {criterion} must be between 0 and 4.")
        clean[criterion] = int(value)
    feedback = (feedback or "").strip()
    if len(feedback) > MAX_FEEDBACK:
        raise InvalidInputError(f"Keep the feedback under {MAX_FEEDBACK} characters.")
    already = ConflictError(
        f"You have already reviewed answer #{annotation_id}; "
        "a second review must come from another instructor."
    )
    if session.scalar(
        select(Review.id).where(
            Review.annotation_id == annotation_id, Review.reviewer_id == actor.id
        )
    ):
        raise already
    session.add(
        Review(
            annotation_id=annotation_id,
            reviewer_id=actor.id,
            scores=clean,
            feedback=feedback,
            created_at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:  # the same reviewer, a moment ago in another tab
        session.rollback()
        raise already from None
    all_scores = [
        r.scores
        for r in session.scalars(select(Review).where(Review.annotation_id == annotation_id))
    ]
    grade = session.scalar(select(Grade).where(Grade.annotation_id == annotation_id))
    ann = session.get(Annotation, annotation_id)
    assert grade is not None and ann is not None
    score = final_score(grade.correct, all_scores)
    stored = dict(grade.details or {})
    inner = dict(stored.get("details", {}))
    feedbacks = [f for f in [*inner.get("review", {}).get("feedback", []), feedback] if f]
    inner["review"] = {
        "criterion_means": {
            c: sum(s[c] for s in all_scores) / len(all_scores) for c in task.criteria
        },
        "feedback": feedbacks,
        "reviews": len(all_scores),
    }
    stored.update(details=inner, score=score, pending_review=False)
    # A fresh dict: the JSON column only notices reassignment.
    grade.details = stored
    grade.score = score
    grade.pending_review = False
    grade.graded_at = now
    attempt = session.get(Attempt, ann.attempt_id)
    audit.record(
        session, actor, "review.submit", str(annotation_id), item=task.item.id, score=score
    )
    if attempt is not None and attempt.kind == "practice" and attempt.module_id:
        recompute_module_progress(session, catalog, ann.user_id, attempt.module_id, now)
        refresh_rolling(session, ann.user_id, catalog)
    session.commit()
    return score


@dataclass(frozen=True)
class ReviewerAgreement:
    answers: int  # answers reviewed by two or more instructors
    pairs: int  # criterion scores compared
    mean_abs_difference: float | None
    weighted_kappa: float | None  # quadratic, on the 0-4 scale


def reviewer_agreement(session: Session, actor: Actor) -> ReviewerAgreement:
    """How closely instructors agree when two of them review the same answer (first two
    reviews of each answer, compared criterion by criterion)."""
    require_role(actor, "instructor", "admin")
    by_answer: dict[int, list[dict[str, Any]]] = {}
    for r in session.scalars(select(Review).order_by(Review.id)):
        by_answer.setdefault(r.annotation_id, []).append(r.scores)
    first, second = [], []
    answers = 0
    for reviews in by_answer.values():
        if len(reviews) < 2:
            continue
        answers += 1
        a, b = reviews[0], reviews[1]
        for criterion in sorted(set(a) & set(b)):
            first.append(int(a[criterion]))
            second.append(int(b[criterion]))
    if not first:
        return ReviewerAgreement(answers, 0, None, None)
    mad = float(np.mean(np.abs(np.array(first) - np.array(second))))
    try:
        kappa = agreement.cohen_kappa(first, second, weights="quadratic", labels=range(5))
    except ValueError:
        kappa = None
    return ReviewerAgreement(answers, len(first), mad, kappa)
