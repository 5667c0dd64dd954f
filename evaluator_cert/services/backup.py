"""Backups of the SQLite database (online, while the app runs) and restore into an empty one.

PostgreSQL installations back up with PostgreSQL's own tools; these functions say how.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

from evaluator_cert.config import Settings
from evaluator_cert.db.engine import DatabaseUnavailableError, make_engine, migrate
from evaluator_cert.errors import DomainError

if TYPE_CHECKING:
    from evaluator_cert.runtime import AppContext

# Tables whose rows say "this database is in use"; restore refuses when any has a row.
_DATA_TABLES = ("users", "attempts", "annotations", "credentials", "audit_log")
_PAGES_PER_STEP = 256  # copy in steps so the app keeps writing while a backup runs


class BackupError(DomainError):
    """A backup or restore could not be done; the message says why and what to do."""


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up or restored.")
    return Path(url.database)


def _pg_hint(database_url: str, verb: str, path: Path) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    shown = url.render_as_string(hide_password=True)
    if verb == "backup":
        command = f"pg_dump --format=custom --file={path} '{shown}'"
        return (
            "This installation uses PostgreSQL, which is backed up with its own tools: "
            f"run {command}"
        )
    command = f"pg_restore --no-owner --dbname='{shown}' {path}"
    return (
        "This installation uses PostgreSQL, which is restored with its own tools into an "
        f"empty database: run {command}"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _remove_quietly(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-journal")):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    # Table names come from our own fixed list, never from input.
    return {
        t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
        for t in _DATA_TABLES
        if t in tables
    }


def backup(ctx: AppContext, out: Path) -> str:
    """Copy the live SQLite database to ``out`` with SQLite's online backup API.

    The copy is written beside ``out`` and renamed into place only when complete, so a
    failure (disk full, no permission) never leaves a truncated file that looks like a backup.
    """
    source = _sqlite_file(ctx.settings.database_url)
    if source is None:
        raise BackupError(_pg_hint(ctx.settings.database_url, "backup", out))
    out = out.expanduser()
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name for the backup.")
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist; create it first.")
    partial = out.with_name(f".{out.name}.partial")
    try:
        src = sqlite3.connect(source, timeout=30)
    except sqlite3.Error as exc:
        raise BackupError(f"The database {source} cannot be read: {_reason(exc)}.") from exc
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=_PAGES_PER_STEP)
            # The copy is a standalone file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
            counts = _row_counts(dst)
        finally:
            dst.close()
        if check != "ok":
            raise BackupError(f"The backup failed its integrity check ({check}); try again.")
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        partial.replace(out)
    except (sqlite3.Error, OSError) as exc:
        _remove_quietly(partial)
        raise BackupError(
            f"The backup could not be written to {out}: {_reason(exc)}. Nothing was written; "
            "free some space or choose another folder, then run it again."
        ) from exc
    except BaseException:
        _remove_quietly(partial)
        raise
    finally:
        src.close()
    size_mb = out.stat().st_size / 1e6
    return (
        f"Backed up {counts.get('users', 0)} users and {counts.get('annotations', 0)} "
        f"annotations to {out} ({size_mb:.1f} MB)."
    )


def _check_backup_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not an evaluator-cert backup: {_reason(exc)}.") from exc
    if check != "ok":
        raise BackupError(f"{path} is damaged ({check}); restore an older backup.")
    if not {"alembic_version", "users", "annotations"} <= tables:
        raise BackupError(f"{path} is not an evaluator-cert backup (its tables do not match).")


def restore(settings: Settings, input: Path) -> str:
    """Copy a backup into the configured database, which must be empty (or not exist yet).

    Restoring over data would silently mix or lose answers, so a database with any user,
    attempt, annotation, credential or audit row is refused.
    """
    input = input.expanduser()
    target = _sqlite_file(settings.database_url)
    if target is None:
        raise BackupError(_pg_hint(settings.database_url, "restore", input))
    _check_backup_file(input)
    if target.exists() and target.stat().st_size > 0:
        try:
            conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True, timeout=30)
            try:
                counts = _row_counts(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise BackupError(f"The database {target} cannot be read: {_reason(exc)}.") from exc
        used = {t: n for t, n in counts.items() if n}
        if used:
            shown = ", ".join(f"{n} {t}" for t, n in used.items())
            raise BackupError(
                f"Restore only goes into an empty database, and {target} holds {shown}. "
                "Point EVALUATOR_CERT_DATA_DIR or EVALUATOR_CERT_DATABASE_URL at a new "
                "location, or move this file away first."
            )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(f"file:{input}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst, pages=_PAGES_PER_STEP)
            counts = _row_counts(dst)
        finally:
            dst.close()
            src.close()
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(
            f"The backup could not be restored into {target}: {_reason(exc)}."
        ) from exc
    # A backup from an older release is brought up to the current schema.
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
    except DatabaseUnavailableError as exc:
        raise BackupError(str(exc)) from exc
    finally:
        engine.dispose()
    return (
        f"Restored {counts.get('users', 0)} users and {counts.get('annotations', 0)} "
        f"annotations from {input} into {target}."
    )
