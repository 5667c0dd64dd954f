"""Engine and session factory, and the one place that migrates the schema."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
POOL_SIZE = 10
POOL_MAX = 60


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached or opened; the message is for people."""


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the pragmas SQLite needs for a multi-user app (WAL, FKs, busy timeout)."""
    sqlite_file = _sqlite_path(url)
    if sqlite_file is not None:
        try:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(
                f"Cannot create the data folder {sqlite_file.parent}: {exc.strerror}."
            ) from exc
        kwargs.setdefault("connect_args", {"timeout": 30})
    elif url.startswith("postgresql"):
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    if sqlite_file is not None or url.startswith("postgresql"):
        # One connection per concurrently running page: the default 5 + 10 made the 16th
        # simultaneous user wait 30 s and fail. PostgreSQL's max_connections must allow
        # POOL_MAX per app instance (see docs/operations.md).
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_MAX - POOL_SIZE)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_session_factory(engine: Engine, **info: Any) -> sessionmaker[Session]:
    """Sessions that carry ``info`` (the app's settings) to the use cases that need it."""
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


LOCK_RETRIES = 8
_SQLITE_WRITERS = threading.RLock()  # re-entrant: a wrapped use case may call another
P = ParamSpec("P")
R = TypeVar("R")


def _is_locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


def retry_if_locked(
    fn: Callable[Concatenate[Session, P], R],
) -> Callable[Concatenate[Session, P], R]:
    """Retry a unit of work that SQLite refused with "database is locked".

    WAL lets many read but one write; a transaction that read before another writer
    committed cannot upgrade to a write and fails at once, without waiting on busy_timeout.
    The work is rolled back and run again after a short, jittered backoff, so callers
    never see the error. Only for idempotent use cases whose first argument is the Session.
    """

    @wraps(fn)
    def wrapper(session: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        # SQLite has one writer at a time anyway; queueing this process's writers on a lock
        # replaces busy_timeout's sleep-and-poll, which collapses under many threads.
        serial = session.get_bind().dialect.name == "sqlite"
        for attempt in range(LOCK_RETRIES):
            try:
                if serial:
                    with _SQLITE_WRITERS:
                        return fn(session, *args, **kwargs)
                return fn(session, *args, **kwargs)
            except OperationalError as exc:
                if not _is_locked(exc) or attempt == LOCK_RETRIES - 1:
                    raise
                session.rollback()
                time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
        raise AssertionError("unreachable")  # the loop returns or raises

    return wrapper


def check_database(engine: Engine) -> None:
    """Raise DatabaseUnavailableError with one clear sentence if the database cannot be used."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, SQLAlchemyError) as exc:
        raise DatabaseUnavailableError(describe_db_error(engine, exc)) from exc


def describe_db_error(engine: Engine, exc: BaseException) -> str:
    where = engine.url.render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
    if engine.dialect.name == "sqlite":
        return f"The database file cannot be opened ({where}): {reason}."
    return f"The database at {where} is unreachable: {reason}."


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (the app does this on start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_engine"] = engine
    try:
        command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise DatabaseUnavailableError(describe_db_error(engine, exc)) from exc
