"""Trainees challenge a practice item's gold; instructors accept or reject."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator_cert import grading
from evaluator_cert.content.loader import ContentError
from evaluator_cert.content.schema import FactCheckItem
from evaluator_cert.db.models import (
    Annotation,
    Attempt,
    Dispute,
    GoldOverride,
    Grade,
    User,
    utcnow,
)
from evaluator_cert.errors import ConflictError, InvalidInputError, NotAllowedError, NotFoundError
from evaluator_cert.services import audit
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import DUPLICATE_SUFFIX, grade_to_row, refresh_rolling

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog
    from evaluator_cert.content.schema import Item

MAX_REASON = 2000
MAX_EXPLANATION = 4000


def open_dispute(
    session: Session, actor: Actor, catalog: Catalog, item_id: str, reason: str
) -> Dispute:
    """Challenge the gold of a practice item the trainee has answered."""
    require_role(actor, "trainee")
    reason = reason.strip()
    if len(reason) < 15:
        raise InvalidInputError("Say why the gold looks wrong (at least 15 characters).")
    if len(reason) > MAX_REASON:
        raise InvalidInputError(f"Keep the reason under {MAX_REASON} characters.")
    annotation = session.scalar(
        select(Annotation)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(
            Annotation.user_id == actor.id,
            Annotation.item_id == item_id,
            Attempt.kind == "practice",
        )
        .order_by(Annotation.id.desc())
        .limit(1)
    )
    if annotation is None:
        raise NotAllowedError("You can challenge the gold of practice items you have answered.")
    if session.scalar(
        select(Dispute.id).where(
            Dispute.user_id == actor.id, Dispute.item_id == item_id, Dispute.status == "open"
        )
    ):
        raise ConflictError("You already have an open challenge on this item.")
    dispute = Dispute(user_id=actor.id, item_id=item_id, annotation_id=annotation.id, reason=reason)
    session.add(dispute)
    session.flush()
    audit.record(session, actor, "dispute.open", item_id, dispute=dispute.id)
    session.commit()
    return dispute


def my_disputes(session: Session, actor: Actor) -> pd.DataFrame:
    require_role(actor, "trainee")
    rows = session.scalars(
        select(Dispute).where(Dispute.user_id == actor.id).order_by(Dispute.created_at.desc())
    ).all()
    return pd.DataFrame(
        [
            {
                "item": d.item_id,
                "status": d.status,
                "your reason": d.reason,
                "outcome": d.resolution or "",
                "opened": d.created_at,
            }
            for d in rows
        ],
        columns=["item", "status", "your reason", "outcome", "opened"],
    )


# ------------------------------------------------------------------------- instructor side


def disputes_frame(
    session: Session, actor: Actor, catalog: Catalog, *, status: str | None = "open"
) -> pd.DataFrame:
    """Challenges to gold, oldest first, with the gold in words."""
    require_role(actor, "instructor", "admin")
    query = (
        select(Dispute, User.username)
        .join(User, User.id == Dispute.user_id)
        .order_by(Dispute.created_at, Dispute.id)
    )
    if status:
        query = query.where(Dispute.status == status)
    rows = []
    for d, username in session.execute(query).all():
        item = catalog.item(d.item_id) if catalog.has_item(d.item_id) else None
        rows.append(
            {
                "id": d.id,
                "item": d.item_id,
                "type": item.type if item else "",
                "gold": json.dumps(gold_value(item), ensure_ascii=False) if item else "",
                "trainee": username,
                "reason": d.reason,
                "status": d.status,
                "resolution": d.resolution or "",
                "opened": d.created_at,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "item",
            "type",
            "gold",
            "trainee",
            "reason",
            "status",
            "resolution",
            "opened",
        ],
    )


def gold_value(item: Item) -> Any:
    """The item's gold as plain data, in the shape a gold override takes."""
    if isinstance(item, FactCheckItem):
        return {c.id: c.gold for c in item.claims}
    return item.model_dump(mode="json")["gold"]


def _answer_key(task_type: str, answer: dict[str, Any]) -> str:
    """A short, comparable rendering of an answer for the cohort's distribution."""
    for key in ("label", "choice"):
        if key in answer and task_type != "justification":
            return str(answer[key])
    if task_type == "justification":
        return str(answer.get("choice"))
    if "ratings" in answer:
        return ", ".join(f"{k} {v}" for k, v in sorted(answer["ratings"].items()))
    if "verdicts" in answer:
        return ", ".join(f"{k}: {v}" for k, v in sorted(answer["verdicts"].items()))
    if "order" in answer:
        return " > ".join(answer["order"])
    return json.dumps(answer, sort_keys=True, ensure_ascii=False)[:120]


def answer_distribution(
    session: Session, actor: Actor, catalog: Catalog, item_id: str
) -> pd.DataFrame:
    """How the cohort answered a practice item: answer -> trainees, share."""
    require_role(actor, "instructor", "admin")
    item = catalog.item(item_id)
    answers = session.scalars(
        select(Annotation.answer)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(Annotation.item_id == item_id, Attempt.kind == "practice")
    ).all()
    counts = pd.Series([_answer_key(item.type, a) for a in answers], dtype=object).value_counts()
    frame = counts.rename_axis("answer").reset_index(name="answers")
    frame["share"] = frame["answers"] / max(1, int(frame["answers"].sum()))
    return frame


@dataclass(frozen=True)
class Regrade:
    dispute_id: int
    item_id: str
    content_version: str
    regraded: int  # practice answers of the item regraded
    changed: int  # of which the score or the correctness changed
    trainees: tuple[int, ...]


def _regrade_item(
    session: Session, catalog: Catalog, item_id: str, now: datetime
) -> tuple[int, int, set[int], set[tuple[int, str]]]:
    """Regrade every practice answer of an item (hidden duplicates too) against ``catalog``."""
    from evaluator_cert.services.reviews import final_score

    item = catalog.item(item_id)
    rows = session.execute(
        select(Annotation, Grade, Attempt.module_id)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(
            Attempt.kind == "practice",
            Annotation.item_id.in_([item_id, item_id + DUPLICATE_SUFFIX]),
        )
    ).all()
    changed = 0
    users: set[int] = set()
    modules: set[tuple[int, str]] = set()
    for ann, grade, module_id in rows:
        new = grading.grade_item(item, ann.answer)
        review = ((grade.details or {}).get("details") or {}).get("review")
        stored = grade_to_row(new)
        score, pending = new.score, new.pending_review
        if review:
            # Keep the instructors' rubric scores; only the choice's correctness moved.
            stored["details"] = {**stored["details"], "review": review}
            score = final_score(new.correct, [review["criterion_means"]])
            pending = False
        stored.update(score=score, pending_review=pending)
        if new.correct != grade.correct or not math.isclose(score, grade.score, abs_tol=1e-9):
            changed += 1
        grade.details = stored
        grade.score = score
        grade.correct = new.correct
        grade.pending_review = pending
        grade.content_version = catalog.version
        grade.graded_at = now
        users.add(ann.user_id)
        if module_id:
            modules.add((ann.user_id, module_id))
    return len(rows), changed, users, modules


def accept_dispute(
    session: Session,
    actor: Actor,
    base_catalog: Catalog,
    dispute_id: int,
    corrected_gold: Any,
    resolution: str,
    *,
    explanation: str | None = None,
    now: datetime | None = None,
) -> Regrade:
    """Correct the gold (a new content version), regrade every trainee's practice answers to
    the item, recompute their module progress and tell them.

    ``explanation``, when given and different, rewrites the expert explanation trainees see
    after answering the item, so it agrees with the corrected gold.
    """
    from evaluator_cert.services.content import corrections
    from evaluator_cert.services.overrides import notify
    from evaluator_cert.services.reviews import recompute_module_progress

    require_role(actor, "instructor", "admin")
    now = now or utcnow()
    dispute = _open_dispute(session, dispute_id)
    resolution = _resolution(resolution)
    gold, explanations = corrections(session)
    gold[dispute.item_id] = corrected_gold
    explanation = _new_explanation(explanation, explanations, base_catalog, dispute.item_id)
    if explanation is not None:
        explanations[dispute.item_id] = explanation
    try:
        catalog = base_catalog.with_gold_overrides(gold, explanations=explanations)
    except ContentError as exc:
        raise InvalidInputError(
            f"That correction does not fit the item: {exc.problems[0].message}"
        ) from exc
    # Gold may hold schema objects (spans, boxes, claims): store plain JSON.
    stored: dict[str, Any] = {"gold": to_jsonable_python(corrected_gold)}
    if explanation is not None:
        stored["explanation"] = explanation
    session.add(
        GoldOverride(
            item_id=dispute.item_id,
            gold=stored,
            dispute_id=dispute.id,
            created_by=actor.id,
            created_at=now,
        )
    )
    dispute.status = "accepted"
    dispute.resolution = resolution
    dispute.resolved_by = actor.id
    dispute.resolved_at = now
    regraded, changed, users, modules = _regrade_item(session, catalog, dispute.item_id, now)
    for user_id, module_id in sorted(modules):
        recompute_module_progress(session, catalog, user_id, module_id, now)
    for user_id in sorted(users):
        refresh_rolling(session, user_id, catalog)  # the regraded decisions move their kappa
    audit.record(
        session,
        actor,
        "dispute.accept",
        dispute.item_id,
        dispute=dispute.id,
        gold=corrected_gold,
        explanation_rewritten=explanation is not None,
        content_version=catalog.version,
        regraded=regraded,
        changed=changed,
    )
    others = users - {dispute.user_id}
    notify(
        session,
        actor,
        others,
        f"The gold of practice item {dispute.item_id} was corrected after a trainee's challenge; "
        "your answer to it has been regraded and your module agreement updated.",
    )
    session.commit()
    return Regrade(
        dispute.id, dispute.item_id, catalog.version, regraded, changed, tuple(sorted(users))
    )


def reject_dispute(
    session: Session,
    actor: Actor,
    dispute_id: int,
    resolution: str,
    *,
    now: datetime | None = None,
) -> None:
    require_role(actor, "instructor", "admin")
    now = now or utcnow()
    dispute = _open_dispute(session, dispute_id)
    dispute.status = "rejected"
    dispute.resolution = _resolution(resolution)
    dispute.resolved_by = actor.id
    dispute.resolved_at = now
    audit.record(session, actor, "dispute.reject", dispute.item_id, dispute=dispute.id)
    session.commit()


def _open_dispute(session: Session, dispute_id: int) -> Dispute:
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFoundError("That challenge does not exist.")
    if dispute.status != "open":
        raise ConflictError(
            f"Challenge #{dispute_id} was already {dispute.status}; nothing was changed."
        )
    return dispute


def _new_explanation(
    text: str | None, explanations: dict[str, str], base_catalog: Catalog, item_id: str
) -> str | None:
    """The rewritten explanation, or None when there is none or it is the one in force."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if len(text) > MAX_EXPLANATION:
        raise InvalidInputError(f"Keep the explanation under {MAX_EXPLANATION} characters.")
    in_force = explanations.get(item_id, base_catalog.item(item_id).explanation)
    return None if text == in_force.strip() else text


def _resolution(text: str) -> str:
    text = (text or "").strip()
    if len(text) < 10:
        raise InvalidInputError("Explain the decision to the trainee (at least 10 characters).")
    if len(text) > MAX_REASON:
        raise InvalidInputError(f"Keep the explanation under {MAX_REASON} characters.")
    return text
