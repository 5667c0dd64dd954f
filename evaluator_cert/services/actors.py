"""Who is acting: a small immutable view of a user, safe to keep in a UI session."""

from __future__ import annotations

from dataclasses import dataclass

from evaluator_cert.db.models import User
from evaluator_cert.errors import NotAllowedError

ROLE_NAMES = {"trainee": "trainees", "instructor": "instructors", "admin": "administrators"}


@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    username: str
    role: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.role, user.display_name)


def require_role(actor: Actor | None, *roles: str) -> Actor:
    """The one role check every service and page uses."""
    if actor is None:
        raise NotAllowedError("Please log in to continue.")
    if actor.role not in roles:
        allowed = " and ".join(ROLE_NAMES[r] for r in roles)
        raise NotAllowedError(f"This is only open to {allowed}.")
    return actor
