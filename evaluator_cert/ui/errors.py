"""The one place where errors become messages: never a traceback in front of a user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from evaluator_cert.content.loader import ContentError
from evaluator_cert.credentials.keys import SigningKeyError
from evaluator_cert.db.engine import DatabaseUnavailableError
from evaluator_cert.errors import DomainError

log = logging.getLogger("evaluator_cert")

UNEXPECTED = (
    "Something went wrong on our side and has been logged. Everything you already answered "
    "is saved; reload the page to continue."
)


def message_for(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return str(exc)
    if isinstance(exc, DatabaseUnavailableError):
        return f"The database is not available right now. {exc}"
    if isinstance(exc, ContentError):
        # Operators fix content by file and line; the first problem is enough to start.
        first = exc.problems[0] if exc.problems else "unknown problem"
        return (
            f"The course content has {len(exc.problems)} error(s), so this page cannot open; "
            f"the first is {first}. Run `python -m evaluator_cert validate-content` for all."
        )
    if isinstance(exc, SigningKeyError):
        return f"Credentials are unavailable right now: {exc}"
    return UNEXPECTED


def show_error(exc: BaseException) -> None:
    if not isinstance(exc, DomainError | DatabaseUnavailableError | ContentError):
        log.exception("unexpected error", exc_info=exc)
    st.error(message_for(exc), icon=":material/error:")


@contextmanager
def user_errors() -> Iterator[None]:
    """Show domain errors raised inside the block as a message and carry on."""
    try:
        yield
    except DomainError as exc:
        show_error(exc)


def on_script_error(exc: Exception) -> bool:
    """st.App hook: show one clear sentence instead of the default exception display."""
    show_error(exc)
    return True
