"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator_cert.db.models import AuditLog
from evaluator_cert.services.actors import Actor, require_role


def record(
    session: Session, actor: Actor | None, action: str, target: str = "", **details: Any
) -> None:
    """Add an audit row to the caller's transaction (it commits with the change it records)."""
    session.add(
        AuditLog(
            actor_id=actor.id if actor else None,
            actor=actor.username if actor else "system",
            action=action,
            target=target,
            # Details may carry schema objects or datetimes: store them as plain JSON.
            details=to_jsonable_python(details),
        )
    )


def audit_frame(
    session: Session,
    actor: Actor,
    *,
    action: str | None = None,
    who: str | None = None,
    since: datetime | None = None,
    limit: int = 5000,
) -> pd.DataFrame:
    """The audit log, newest first, filtered (``who``: part of the actor's name); admins
    only."""
    require_role(actor, "admin")
    query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action == action)
    if who:
        # Part of a name finds it, in any case; "%" and "_" are taken literally.
        query = query.where(AuditLog.actor.icontains(who, autoescape=True))
    if since:
        query = query.where(AuditLog.at >= since)
    rows = session.scalars(query).all()
    return pd.DataFrame(
        [
            {
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "details": r.details,
            }
            for r in rows
        ],
        columns=["at", "actor", "action", "target", "details"],
    )


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))
