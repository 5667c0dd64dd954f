"""The one place where errors become messages: never a traceback in front of a user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

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
    return UNEXPECTED


def show_error(exc: BaseException) -> None:
    if not isinstance(exc, DomainError | DatabaseUnavailableError):
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
