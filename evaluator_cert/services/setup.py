"""First-run setup: a database with at least one admin."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from evaluator_cert.config import Settings
from evaluator_cert.db.models import User
from evaluator_cert.security import generate_password
from evaluator_cert.services import accounts


def ensure_admin(session: Session, settings: Settings) -> str | None:
    """Create ``admin`` with a generated password when no admin exists; return it (once)."""
    admins = session.scalar(select(func.count()).where(User.role == "admin")) or 0
    if admins:
        return None
    password = generate_password()
    accounts.create_user(
        session,
        settings,
        username="admin",
        password=password,
        role="admin",
        display_name="Administrator",
    )
    return password
