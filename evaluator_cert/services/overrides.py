"""Instructor exceptions to the gates (unlock a module, an extra exam attempt, lift
remediation), remediation an instructor assigns, and the short notices a trainee sees about
them and about regraded answers.

Every override needs a reason, lands in the Override table (progression reads it) and in the
audit log; notices are audit rows too, so the trail and the trainee's view cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator_cert import progression
from evaluator_cert.db.models import AuditLog, Override, Remediation, User, utcnow
from evaluator_cert.errors import ConflictError, InvalidInputError, NotFoundError
from evaluator_cert.services import audit
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import start_remediation, trainee_record

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

MIN_REASON = 10
MAX_REASON = 2000
NOTICE_ACTION = "trainee.notice"
KINDS = {
    "unlock_module": "unlocked module {target}",
    "extra_attempt": "granted an extra {target} exam attempt",
    "lift_remediation": "lifted your remediation",
}


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise InvalidInputError(f"Give a reason (at least {MIN_REASON} characters).")
    if len(reason) > MAX_REASON:
        raise InvalidInputError(f"Keep the reason under {MAX_REASON} characters.")
    return reason


def _trainee(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role != "trainee":
        raise NotFoundError("There is no such trainee.")
    return user


def _add(
    session: Session,
    actor: Actor,
    user: User,
    kind: str,
    target: str,
    reason: str,
    now: datetime,
) -> Override:
    row = Override(
        user_id=user.id,
        kind=kind,
        target=target,
        reason=reason,
        created_by=actor.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, f"override.{kind}", user.username, on=target, reason=reason, id=row.id
    )
    return row


def unlock_module(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    user_id: int,
    module_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> Override:
    """Open a module whose prerequisites the trainee has not passed."""
    require_role(actor, "instructor", "admin")
    reason = _reason(reason)
    now = now or utcnow()
    try:
        module = catalog.module(module_id)
    except KeyError:
        raise NotFoundError(f"There is no module {module_id}.") from None
    user = _trainee(session, user_id)
    record = trainee_record(session, user_id, catalog)
    if progression.module_gate(catalog, record, module, now).open:
        how = "unlocked for" if module_id in record.unlocked_modules else "open to"
        raise ConflictError(f"{module_id} is already {how} {user.display_name}: nothing to unlock.")
    row = _add(session, actor, user, "unlock_module", module_id, reason, now)
    session.commit()
    return row


def grant_extra_attempt(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    user_id: int,
    level_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> Override:
    """One more exam attempt in the current window for a level."""
    require_role(actor, "instructor", "admin")
    reason = _reason(reason)
    if level_id not in {lv.id for lv in catalog.levels}:
        raise NotFoundError(f"There is no level {level_id}.")
    row = _add(
        session,
        actor,
        _trainee(session, user_id),
        "extra_attempt",
        level_id,
        reason,
        now or utcnow(),
    )
    session.commit()
    return row


def lift_remediation(
    session: Session, actor: Actor, user_id: int, reason: str, *, now: datetime | None = None
) -> Override:
    """End the trainee's active remediation: its modules count as passed again."""
    require_role(actor, "instructor", "admin")
    reason = _reason(reason)
    now = now or utcnow()
    user = _trainee(session, user_id)
    active = session.scalars(
        select(Remediation).where(Remediation.user_id == user_id, Remediation.released_at.is_(None))
    ).all()
    if not active:
        raise InvalidInputError(f"{user.display_name} is not in remediation.")
    for remediation in active:
        remediation.released_at = now
        remediation.released_by = actor.id
    row = _add(
        session, actor, user, "lift_remediation", f"remediation {active[-1].id}", reason, now
    )
    session.commit()
    return row


def assign_remediation(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    user_id: int,
    module_ids: Iterable[str],
    reason: str,
    *,
    now: datetime | None = None,
) -> Remediation:
    """Reassign modules by an instructor's judgement (drift does it by the numbers): they
    count as not passed, and exams close, until the trainee passes them again."""
    require_role(actor, "instructor", "admin")
    reason = _reason(reason)
    now = now or utcnow()
    wanted = list(dict.fromkeys(module_ids))
    if not wanted:
        raise InvalidInputError("Choose at least one module to reassign.")
    known = {m.id for m in catalog.modules}
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise NotFoundError(f"There is no module {', '.join(unknown)}.")
    user = _trainee(session, user_id)
    remediation = start_remediation(session, actor, user.id, wanted, reason, now=now)
    notify(
        session,
        actor,
        [user.id],
        # A reason need not end its sentence: the notice ends it before going on.
        f"{actor.display_name} reassigned {', '.join(wanted)} on {now:%Y-%m-%d}: "
        f"{reason.rstrip('.')}. Pass them again to reopen your exams.",
    )
    session.commit()
    return remediation


def overrides_frame(session: Session, actor: Actor, *, user_id: int | None = None) -> pd.DataFrame:
    require_role(actor, "instructor", "admin")
    author = User.__table__.alias("author")
    trainee = User.__table__.alias("trainee")
    query = (
        select(
            Override.created_at,
            trainee.c.username.label("trainee"),
            Override.kind,
            Override.target,
            Override.reason,
            author.c.username.label("by"),
        )
        .join(trainee, trainee.c.id == Override.user_id)
        .join(author, author.c.id == Override.created_by)
        .order_by(Override.created_at.desc(), Override.id.desc())
    )
    if user_id is not None:
        query = query.where(Override.user_id == user_id)
    rows = session.execute(query).all()
    return pd.DataFrame(
        [r._asdict() for r in rows],
        columns=["created_at", "trainee", "kind", "target", "reason", "by"],
    ).rename(columns={"created_at": "at"})


def notify(session: Session, actor: Actor | None, user_ids: Iterable[int], text: str) -> int:
    """Leave a short notice for each trainee (joins the caller's transaction)."""
    if actor is not None:  # None: the system itself (e.g. a gold correction's regrade)
        require_role(actor, "instructor", "admin")
    count = 0
    for user_id in sorted(set(user_ids)):
        audit.record(session, actor, NOTICE_ACTION, str(user_id), text=text)
        count += 1
    return count


def notices_for(session: Session, actor: Actor, *, limit: int = 10) -> list[str]:
    """Sentences for the trainee's home page: overrides granted to them and notices, newest
    first."""
    require_role(actor, "trainee")
    dated: list[tuple[datetime, str]] = []
    rows = session.execute(
        select(Override, User.display_name)
        .join(User, User.id == Override.created_by)
        .where(Override.user_id == actor.id)
        .order_by(Override.id.desc())
        .limit(limit)
    ).all()
    for o, by in rows:
        what = KINDS.get(o.kind, o.kind).format(target=o.target)
        dated.append((o.created_at, f"{by} {what} on {o.created_at:%Y-%m-%d}: {o.reason}"))
    for row in session.scalars(
        select(AuditLog)
        .where(AuditLog.action == NOTICE_ACTION, AuditLog.target == str(actor.id))
        .order_by(AuditLog.id.desc())
        .limit(limit)
    ):
        dated.append((row.at, str(row.details.get("text", ""))))
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return [text for _, text in dated[:limit]]
