"""Export attempts, annotations and grades for analysis, as CSV or JSON Lines.

One row per annotation with its attempt and grade. Accounts appear by id, username and
cohort only: no password hashes, e-mail addresses or session data leave the database.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from evaluator_cert.db.models import Annotation, Attempt, Grade, User
from evaluator_cert.errors import DomainError, InvalidInputError

T = TypeVar("T")
Progress = Callable[[Iterable[Any], int, str], Iterator[Any]]
Format = Literal["csv", "jsonl"]

COLUMNS = (
    "annotation_id",
    "attempt_id",
    "kind",
    "level_id",
    "module_id",
    "attempt_status",
    "attempt_started_at",
    "attempt_submitted_at",
    "attempt_agreement",
    "attempt_passed",
    "user_id",
    "username",
    "cohort",
    "item_id",
    "answer",
    "answered_at",
    "duration_ms",
    "score",
    "correct",
    "pending_review",
    "grade_details",
    "content_version",
    "graded_at",
)
_BATCH = 1000


class ExportError(DomainError):
    """The export file could not be written."""


def _no_progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    yield from items


def export_format(out: Path, fmt: str | None) -> Format:
    """The format asked for, or the one the file name implies."""
    chosen = fmt or {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(out.suffix.lower())
    if chosen not in ("csv", "jsonl"):
        raise InvalidInputError(
            "Choose the export format with --format csv or --format jsonl, or name the file "
            "*.csv or *.jsonl."
        )
    return chosen  # type: ignore[return-value]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every annotation with its attempt, grade and author, oldest first, streamed."""
    query = (
        select(Annotation, Attempt, Grade, User.username, User.cohort)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .join(User, User.id == Annotation.user_id)
        .outerjoin(Grade, Grade.annotation_id == Annotation.id)
        .order_by(Annotation.id)
        .execution_options(yield_per=_BATCH)
    )
    for ann, attempt, grade, username, cohort in session.execute(query):
        yield {
            "annotation_id": ann.id,
            "attempt_id": attempt.id,
            "kind": attempt.kind,
            "level_id": attempt.level_id,
            "module_id": attempt.module_id,
            "attempt_status": attempt.status,
            "attempt_started_at": _iso(attempt.started_at),
            "attempt_submitted_at": _iso(attempt.submitted_at),
            "attempt_agreement": attempt.agreement,
            "attempt_passed": attempt.passed,
            "user_id": ann.user_id,
            "username": username,
            "cohort": cohort,
            "item_id": ann.item_id,
            "answer": ann.answer,
            "answered_at": _iso(ann.created_at),
            "duration_ms": ann.duration_ms,
            "score": grade.score if grade else None,
            "correct": grade.correct if grade else None,
            "pending_review": grade.pending_review if grade else None,
            "grade_details": grade.details if grade else None,
            "content_version": grade.content_version if grade else None,
            "graded_at": _iso(grade.graded_at) if grade else None,
        }


def _csv_cell(value: Any) -> Any:
    # Nested values (answers, grade details) go into one cell as JSON text.
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "" if value is None else value


def export_annotations(
    session: Session,
    out: Path,
    fmt: str | None = None,
    *,
    progress: Progress = _no_progress,
) -> int:
    """Write every annotation to ``out``; returns how many were written.

    The file appears only when complete (written beside it, then renamed), so an
    interrupted export never looks like a finished one.
    """
    out = out.expanduser()
    chosen = export_format(out, fmt)
    total = session.scalar(select(func.count()).select_from(Annotation)) or 0
    partial = out.with_name(f".{out.name}.partial")
    count = 0
    try:
        with open(partial, "w", encoding="utf-8", newline="") as fh:
            rows = progress(export_rows(session), total, "export")
            if chosen == "csv":
                writer = csv.DictWriter(fh, fieldnames=COLUMNS)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: _csv_cell(v) for k, v in row.items()})
                    count += 1
            else:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                    count += 1
        partial.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise ExportError(
            f"The export could not be written to {out}: {exc.strerror or exc}. "
            "Free some space or choose another folder, then run it again."
        ) from exc
    return count
