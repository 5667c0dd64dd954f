"""Domain errors. Each carries one sentence meant for the person using the app; the UI
turns them into messages in one place (``ui.errors``)."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``str(error)`` is a complete, user-facing sentence."""


class InvalidInputError(DomainError, ValueError):
    """The input breaks a rule (too long, wrong type, weak password...)."""


class NotFoundError(DomainError, LookupError):
    pass


class NotAllowedError(DomainError, PermissionError):
    """The role or ownership does not permit this."""


class AuthenticationError(DomainError):
    pass


class AccountLockedError(AuthenticationError):
    pass


class NotEligibleError(DomainError):
    """A gate is closed: the message says why and what opens it."""


class AttemptClosedError(DomainError):
    """The attempt was submitted or ran out of time."""


class ConflictError(DomainError):
    """The request contradicts the current state (e.g. removing the last admin)."""
