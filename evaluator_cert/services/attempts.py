"""Practice sets and exams: serve items, record each answer the moment it is given (graded,
saved and progression updated in one transaction), close exams at their time limit."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from evaluator_cert import grading, progression
from evaluator_cert.db.engine import retry_if_locked
from evaluator_cert.db.models import (
    Annotation,
    Attempt,
    Credential,
    Grade,
    ModuleProgress,
    Override,
    Remediation,
    TraineeRolling,
    User,
    utcnow,
)
from evaluator_cert.errors import (
    AttemptClosedError,
    InvalidInputError,
    NotAllowedError,
    NotEligibleError,
    NotFoundError,
)
from evaluator_cert.services import audit, rolling
from evaluator_cert.services.actors import Actor, require_role

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog
    from evaluator_cert.content.schema import Item

MAX_TEXT = 5000  # characters in any free-text answer
MAX_ANSWER_CHARS = 50_000  # the whole answer as JSON (free text plus spans, boxes, ratings)
# Practice sets re-serve a few earlier items unannounced, to measure self-consistency.
DUPLICATE_SUFFIX = "#dup"
HIDDEN_DUPLICATES = 2
MIN_ITEMS_FOR_DUPLICATES = 10  # smaller sets are too short to hide a repeat


def base_item_id(key: str) -> str:
    """The catalog id behind a served item key (a hidden duplicate carries a suffix)."""
    return key.removesuffix(DUPLICATE_SUFFIX)


def is_duplicate(key: str) -> bool:
    return key.endswith(DUPLICATE_SUFFIX)


def counted_practice() -> tuple[ColumnElement[bool], ...]:
    """The practice answers that count as graded items, for trainees and instructors alike:
    hidden re-served duplicates measure self-consistency and are not counted twice."""
    return (Attempt.kind == "practice", Annotation.item_id.not_like(f"%{DUPLICATE_SUFFIX}"))


# ------------------------------------------------------------------------- grade storage


def grade_to_row(grade: grading.ItemGrade) -> dict[str, Any]:
    """What a Grade row's ``details`` column keeps: enough to rebuild the ItemGrade."""
    return grade.to_dict()


class GradeFields(Protocol):
    """What a stored grade needs to become an ItemGrade: a Grade, or a plain row of its
    columns."""

    details: dict[str, Any] | None
    score: float
    correct: bool
    pending_review: bool


def grade_from_row(item_id: str, task_type: str, row: GradeFields) -> grading.ItemGrade:
    """The stored grade; the row's score columns win (a review may have updated them)."""
    stored = dict(row.details or {})
    stored.update(
        item_id=item_id,
        task_type=task_type,
        score=row.score,
        correct=row.correct,
        pending_review=row.pending_review,
    )
    return grading.ItemGrade.from_dict(stored)


# ---------------------------------------------------------------------------- the record


def trainee_record(session: Session, user_id: int, catalog: Catalog) -> progression.TraineeRecord:
    progress = session.scalars(select(ModuleProgress).where(ModuleProgress.user_id == user_id))
    passed: set[str] = set()
    module_progress: dict[str, tuple[int, float | None]] = {}
    for p in progress:
        module_progress[p.module_id] = (p.graded_items, p.agreement)
        if p.passed_at is not None:
            passed.add(p.module_id)
    creds = [
        progression.CredentialFact(c.level_id, c.issued_at, c.valid_until, c.revoked_at is not None)
        for c in session.scalars(select(Credential).where(Credential.user_id == user_id))
    ]
    exams = [
        progression.ExamFact(a.level_id, a.started_at, a.submitted_at, a.passed)
        for a in session.scalars(
            select(Attempt).where(Attempt.user_id == user_id, Attempt.kind == "exam")
        )
    ]
    remediation = _active_remediation(session, user_id)
    unlocked: set[str] = set()
    extra: dict[str, int] = defaultdict(int)
    for o in session.scalars(select(Override).where(Override.user_id == user_id)):
        if o.kind == "unlock_module":
            unlocked.add(o.target)
        elif o.kind == "extra_attempt":
            extra[o.target] += 1
    return progression.TraineeRecord(
        passed_modules=frozenset(passed),
        module_progress=module_progress,
        credentials=creds,
        exams=exams,
        remediation_modules=frozenset(remediation.module_ids) if remediation else None,
        unlocked_modules=frozenset(unlocked),
        extra_exam_attempts=dict(extra),
    )


def _active_remediation(session: Session, user_id: int) -> Remediation | None:
    return session.scalar(
        select(Remediation)
        .where(Remediation.user_id == user_id, Remediation.released_at.is_(None))
        .order_by(Remediation.id.desc())
        .limit(1)
    )


def trainee_overview(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> progression.Overview:
    """Where a trainee stands. Trainees see their own; instructors may pass ``user_id``."""
    return trainee_standing(session, actor, catalog, user_id=user_id, now=now)[1]


def trainee_standing(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
) -> tuple[progression.TraineeRecord, progression.Overview]:
    """The trainee's record and where it puts them (:func:`trainee_overview`), from one
    read of the record: pages that show both ran its five queries twice."""
    target = _target_user(actor, user_id)
    record = trainee_record(session, target, catalog)
    return record, progression.overview(catalog, record, now or utcnow())


def _target_user(actor: Actor, user_id: int | None) -> int:
    if actor is None or user_id is None or user_id == actor.id:
        require_role(actor, "trainee", "instructor", "admin")
        return actor.id
    require_role(actor, "instructor", "admin")
    return user_id


# ---------------------------------------------------------------------------- attempts


def display_order(seed: int, item_id: str, ids: Sequence[str]) -> list[str]:
    """The order responses are shown in, fixed per trainee and item (position bias control)."""
    order = list(ids)
    random.Random(f"{seed}:{item_id}").shuffle(order)
    return order


@dataclass(frozen=True)
class AnswerView:
    item_id: str
    answer: dict[str, Any]
    score: float
    correct: bool
    pending_review: bool
    feedback: dict[str, Any] | None  # None on exams: gold never reaches the trainee


@dataclass(frozen=True)
class AttemptView:
    id: int
    kind: str
    level_id: str
    module_id: str | None
    status: str
    seed: int
    item_ids: list[str]
    answers: dict[str, AnswerView]
    started_at: datetime
    deadline_at: datetime | None
    agreement: float | None
    passed: bool | None
    result: dict[str, Any] | None

    @property
    def next_item_id(self) -> str | None:
        return next((i for i in self.item_ids if i not in self.answers), None)

    @property
    def answered(self) -> int:
        return len(self.answers)

    @property
    def complete(self) -> bool:
        return self.next_item_id is None


def _own_attempt(session: Session, actor: Actor, attempt_id: int, *, lock: bool = False) -> Attempt:
    require_role(actor, "trainee", "instructor", "admin")
    query = select(Attempt).where(Attempt.id == attempt_id)
    if lock:
        query = query.with_for_update()
    attempt = session.scalar(query)
    if attempt is None:
        raise NotFoundError("That attempt does not exist.")
    if attempt.user_id != actor.id:
        raise NotAllowedError("That attempt belongs to someone else.")
    return attempt


def _feedback(item: Item, grade: Grade, kind: str) -> dict[str, Any] | None:
    if kind == "exam":
        return None
    stored = (grade.details or {}).get("details", {})
    return {**stored, "explanation": item.explanation}


def _answer_views(session: Session, attempt: Attempt, catalog: Catalog) -> dict[str, AnswerView]:
    rows = session.execute(
        select(Annotation, Grade)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .where(Annotation.attempt_id == attempt.id)
    ).all()
    views = {}
    for ann, grade in rows:
        base = base_item_id(ann.item_id)
        item = catalog.item(base) if catalog.has_item(base) else None
        views[ann.item_id] = AnswerView(
            ann.item_id,
            ann.answer,
            grade.score,
            grade.correct,
            grade.pending_review,
            _feedback(item, grade, attempt.kind) if item else None,
        )
    return views


def attempt_view(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    attempt_id: int,
    *,
    now: datetime | None = None,
) -> AttemptView:
    attempt = _own_attempt(session, actor, attempt_id)
    if attempt.kind == "exam" and attempt.status == "open":
        _close_if_overdue(session, attempt, catalog, now or utcnow())
    return _view(session, attempt, catalog)


def _view(session: Session, attempt: Attempt, catalog: Catalog) -> AttemptView:
    return AttemptView(
        id=attempt.id,
        kind=attempt.kind,
        level_id=attempt.level_id,
        module_id=attempt.module_id,
        status=attempt.status,
        seed=attempt.seed,
        item_ids=list(attempt.form),
        answers=_answer_views(session, attempt, catalog),
        started_at=attempt.started_at,
        deadline_at=attempt.deadline_at,
        agreement=attempt.agreement,
        passed=attempt.passed,
        result=attempt.result,
    )


def _new_seed() -> int:
    return random.SystemRandom().randrange(1, 2**31 - 1)


@retry_if_locked
def start_practice(
    session: Session, actor: Actor, catalog: Catalog, module_id: str, *, now: datetime | None = None
) -> int:
    """Open (or resume) the trainee's practice attempt for a module; returns its id."""
    require_role(actor, "trainee")
    now = now or utcnow()
    try:
        module = catalog.module(module_id)
    except KeyError:
        raise NotFoundError(f"There is no module {module_id}.") from None
    existing = session.scalar(_open_practice(actor.id, module_id))
    if existing is not None:
        return existing.id
    record = trainee_record(session, actor.id, catalog)
    gate = progression.module_gate(catalog, record, module, now)
    if not gate.open:
        raise NotEligibleError(gate.reason)
    seed = _new_seed()
    items = _practice_form(catalog, module_id, seed)
    attempt = Attempt(
        user_id=actor.id,
        kind="practice",
        level_id=module.level,
        module_id=module_id,
        content_version=catalog.version,
        form=items,
        seed=seed,
        started_at=now,
    )
    session.add(attempt)
    session.commit()
    return attempt.id


def practice_set_size(catalog: Catalog, module_id: str) -> int:
    """How many answers a practice set of the module asks for, re-served items included."""
    items = len(catalog.practice_items(module_id))
    return items + (HIDDEN_DUPLICATES if items >= MIN_ITEMS_FOR_DUPLICATES else 0)


def _practice_form(catalog: Catalog, module_id: str, seed: int) -> list[str]:
    """The set in a per-trainee order, with a few earlier items re-served later, unmarked."""
    rng = random.Random(seed)
    items = [i.id for i in catalog.practice_items(module_id)]
    rng.shuffle(items)
    if len(items) >= MIN_ITEMS_FOR_DUPLICATES:
        half = len(items) // 2
        for original in rng.sample(items[: half - 1], HIDDEN_DUPLICATES):
            items.insert(rng.randrange(half + 2, len(items) + 1), original + DUPLICATE_SUFFIX)
    return items


def restart_practice(
    session: Session, actor: Actor, catalog: Catalog, module_id: str, *, now: datetime | None = None
) -> int:
    """Close the current practice attempt of a module and start a fresh, reshuffled one."""
    require_role(actor, "trainee")
    now = now or utcnow()
    _reset_module(session, actor.id, module_id, now)
    session.commit()
    return start_practice(session, actor, catalog, module_id, now=now)


def _open_practice(user_id: int, module_id: str) -> Select[tuple[Attempt]]:
    return select(Attempt).where(
        Attempt.user_id == user_id,
        Attempt.kind == "practice",
        Attempt.module_id == module_id,
        Attempt.status == "open",
    )


def _reset_module(
    session: Session, user_id: int, module_id: str, now: datetime, *, close_open_set: bool = True
) -> None:
    """Zero the module's progress and, unless told not to, close its open practice attempt
    (the next set is fresh). An attempt left open brings its own figures back with the next
    answer."""
    if close_open_set:
        for attempt in session.scalars(_open_practice(user_id, module_id)):
            attempt.status = "submitted"
            attempt.submitted_at = now
    progress = _module_progress(session, user_id, module_id)
    progress.graded_items = 0
    progress.agreement = None


def _module_progress(session: Session, user_id: int, module_id: str) -> ModuleProgress:
    progress = session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user_id, ModuleProgress.module_id == module_id
        )
    )
    if progress is None:
        progress = ModuleProgress(user_id=user_id, module_id=module_id, graded_items=0)
        session.add(progress)
    return progress


def _attempt_rows(session: Session, attempt_id: int) -> list[tuple[str, Grade]]:
    """(item id, grade) of every answer in the attempt, hidden duplicates included."""
    return [
        (item_id, g)
        for item_id, g in session.execute(
            select(Annotation.item_id, Grade)
            .join(Grade, Grade.annotation_id == Annotation.id)
            .where(Annotation.attempt_id == attempt_id)
            .order_by(Annotation.id)
        )
    ]


def _grades_of(
    rows: Sequence[tuple[str, GradeFields]], catalog: Catalog
) -> list[grading.ItemGrade]:
    """The grades of attempt rows, hidden duplicates left out (they measure consistency only)."""
    return [
        grade_from_row(item_id, catalog.item(item_id).type, g)
        for item_id, g in rows
        if not is_duplicate(item_id) and catalog.has_item(item_id)
    ]


def _attempt_grades(session: Session, attempt_id: int, catalog: Catalog) -> list[grading.ItemGrade]:
    """The attempt's grades, hidden duplicates left out."""
    return _grades_of(_attempt_rows(session, attempt_id), catalog)


def validate_answer(item: Item, answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise InvalidInputError("That answer is not in a form the item accepts.")
    for key in ("text",):
        value = answer.get(key)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise InvalidInputError(f"Answers are limited to {MAX_TEXT} characters.")
    # Whatever its shape, an answer is stored whole: bound its size before grading it.
    if len(json.dumps(answer, default=str)) > MAX_ANSWER_CHARS:
        raise InvalidInputError("That answer is too large to save; no item needs one that long.")
    return answer


@retry_if_locked
def record_answer(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    attempt_id: int,
    item_id: str,
    answer: dict[str, Any],
    *,
    duration_ms: int | None = None,
    now: datetime | None = None,
) -> AnswerView:
    """Grade and save one answer, and update progression, in one transaction.

    Answering the same item twice returns the first answer's result (idempotent)."""
    require_role(actor, "trainee")
    now = now or utcnow()
    attempt = _own_attempt(session, actor, attempt_id)
    if (
        attempt.kind == "exam"
        and attempt.status == "open"
        and _close_if_overdue(session, attempt, catalog, now)
    ):
        raise AttemptClosedError("Time is up: the exam was submitted with your saved answers.")
    if item_id not in attempt.form:
        raise NotAllowedError("That item is not part of this attempt.")
    # A practice set's answers so far give its gate figure (with the new one added), so they
    # also say whether this item is answered already; an exam asks for the one row.
    rows = _attempt_rows(session, attempt.id) if attempt.kind == "practice" else None
    if rows is None or any(answered == item_id for answered, _ in rows):
        existing = _existing_answer(session, attempt, item_id, catalog)
        if existing is not None:
            return existing
    if attempt.status != "open":
        raise AttemptClosedError("This attempt is closed; its answers can no longer change.")
    item = catalog.item(base_item_id(item_id))
    answer = validate_answer(item, answer)
    try:
        grade = grading.grade_item(item, answer)
    except grading.InvalidAnswer as exc:
        raise InvalidInputError(f"That answer cannot be graded: {exc}") from exc
    annotation = Annotation(
        attempt_id=attempt.id,
        user_id=actor.id,
        item_id=item_id,
        answer=answer,
        created_at=now,
        duration_ms=duration_ms,
    )
    row = Grade(
        score=grade.score,
        correct=grade.correct,
        pending_review=grade.pending_review,
        details=grade_to_row(grade),
        content_version=catalog.version,
        graded_at=now,
    )
    annotation.grade = row
    session.add(annotation)
    try:
        session.flush()
    except IntegrityError:
        # The same answer arrived twice at once (double click, two tabs): keep the first.
        session.rollback()
        again = _existing_answer(
            session, _own_attempt(session, actor, attempt_id), item_id, catalog
        )
        if again is None:
            raise
        return again
    if rows is not None:  # practice
        rows.append((item_id, row))
        _update_practice_progress(session, actor, catalog, attempt, rows, now, item_id)
    else:
        _touch_rolling(session, actor.id, catalog)
    session.commit()
    return AnswerView(
        item_id,
        answer,
        grade.score,
        grade.correct,
        grade.pending_review,
        _feedback(item, row, attempt.kind),
    )


def _existing_answer(
    session: Session, attempt: Attempt, item_id: str, catalog: Catalog
) -> AnswerView | None:
    found = session.execute(
        select(Annotation, Grade)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .where(Annotation.attempt_id == attempt.id, Annotation.item_id == item_id)
    ).first()
    if found is None:
        return None
    ann, grade = found
    return AnswerView(
        item_id,
        ann.answer,
        grade.score,
        grade.correct,
        grade.pending_review,
        _feedback(catalog.item(base_item_id(item_id)), grade, attempt.kind),
    )


def _update_practice_progress(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    attempt: Attempt,
    rows: Sequence[tuple[str, GradeFields]],
    now: datetime,
    item_id: str,
) -> None:
    """Move the module's progress, the remediation and the rolling summary by the answer
    just recorded (``rows``: every answer of the attempt, that one included)."""
    module = catalog.module(attempt.module_id)  # type: ignore[arg-type]
    # The changes below are written in one flush at commit, not one per query in between.
    with session.no_autoflush:
        result = grading.grade_attempt(_grades_of(rows, catalog), module.gate)
        attempt.agreement = _finite(result.statistic)
        progress, remediation, _ = _learner_rows(session, actor.id, module.id)
        progress.graded_items = result.n_items
        progress.agreement = _finite(result.statistic)
        progress.updated_at = now
        in_remediation = remediation is not None and module.id in remediation.module_ids
        if result.passed and (progress.passed_at is None or in_remediation):
            if in_remediation:
                _release_module(session, actor, remediation, module.id, now)  # type: ignore[arg-type]
            progress.passed_at = now
            audit.record(session, actor, "module.passed", module.id, agreement=progress.agreement)
        if len(rows) == len(attempt.form) and attempt.status == "open":
            attempt.status = "submitted"
            attempt.submitted_at = now
            attempt.passed = result.passed
            attempt.result = {"statistic": progress.agreement, "reason": result.reason}
        # One read of the last 2 x window practice grades serves the summary and the drift
        # check; the summary row itself was read with the progress above.
        window = catalog.levels[0].drift_window
        recent_rows = _recent_practice_rows(session, actor.id, 2 * window)
        recent, summary = _write_rolling(
            session,
            actor.id,
            recent_rows,
            window,
            catalog,
            answered=(not is_duplicate(item_id), now),
        )
    if remediation is None:
        _check_drift(session, actor, catalog, now, recent, summary.rolling_agreement)


def _learner_rows(
    session: Session, user_id: int, module_id: str
) -> tuple[ModuleProgress, Remediation | None, TraineeRolling | None]:
    """The trainee's progress in the module (a new row if none), active remediation and
    rolling summary, in one query: this runs on every practice answer. The summary stays
    in the session, where :func:`_write_rolling` finds it without a query."""
    found = session.execute(
        select(ModuleProgress, Remediation, TraineeRolling)
        .select_from(User)
        .outerjoin(
            ModuleProgress,
            and_(ModuleProgress.user_id == User.id, ModuleProgress.module_id == module_id),
        )
        .outerjoin(
            Remediation, and_(Remediation.user_id == User.id, Remediation.released_at.is_(None))
        )
        .outerjoin(TraineeRolling, TraineeRolling.user_id == User.id)
        .where(User.id == user_id)
        .order_by(Remediation.id.desc())  # the newest active remediation, as elsewhere
        .limit(1)
    ).one()
    progress, remediation, summary = found
    if progress is None:
        progress = ModuleProgress(user_id=user_id, module_id=module_id, graded_items=0)
        session.add(progress)
    return progress, remediation, summary


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)


def _release_module(
    session: Session, actor: Actor, remediation: Remediation, module_id: str, now: datetime
) -> None:
    remaining = [m for m in remediation.module_ids if m != module_id]
    remediation.module_ids = remaining
    if not remaining:
        remediation.released_at = now
        audit.record(session, actor, "remediation.completed", actor.username)


def agreement_columns() -> tuple[Any, ...]:
    """The parts of a stored grade the agreement figures read: its decisions, ratings and
    scale as raw JSON text, not its feedback (decoding whole grade documents, or one JSON
    value per cell, cost more than the queries). :func:`agreement_fields` decodes them."""
    return (
        Grade.details["decisions"].as_string().label("decisions"),
        Grade.details["ratings"].as_string().label("ratings"),
        Grade.details["scale"].as_string().label("scale"),
        Grade.score.label("score"),
        Grade.correct.label("correct"),
        Grade.pending_review.label("pending_review"),
    )


class AgreementFields(NamedTuple):
    """A stored grade without its feedback, read through :func:`agreement_columns` (a
    tuple: hundreds are built per answer, and a frozen dataclass cost four times as much)."""

    details: dict[str, Any]
    score: float
    correct: bool
    pending_review: bool


def agreement_fields(rows: Sequence[Any]) -> list[AgreementFields]:
    """Rows read through :func:`agreement_columns`, decoded with one ``json.loads`` call."""
    parsed = json.loads(
        "["
        + ",".join(
            f"[{r.decisions or 'null'},{r.ratings or 'null'},{r.scale or 'null'}]" for r in rows
        )
        + "]"
    )
    return [
        AgreementFields(
            {"decisions": decisions or [], "ratings": ratings or [], "scale": scale},
            r.score,
            r.correct,
            r.pending_review,
        )
        for r, (decisions, ratings, scale) in zip(rows, parsed, strict=True)
    ]


def _recent_practice_rows(
    session: Session, user_id: int, limit: int
) -> list[tuple[str, GradeFields]]:
    """(item id, grade) of the trainee's last ``limit`` graded practice answers, newest first
    (hidden duplicates left out), as plain rows: this runs on every answer."""
    rows = session.execute(
        select(Annotation.item_id, *agreement_columns())
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(Annotation.user_id == user_id, *counted_practice())
        .order_by(Annotation.created_at.desc(), Annotation.id.desc())
        .limit(limit)
    ).all()
    return [(row.item_id, fields) for row, fields in zip(rows, agreement_fields(rows), strict=True)]


def _as_grades(
    rows: Sequence[tuple[str, GradeFields]], catalog: Catalog
) -> list[grading.ItemGrade]:
    """Newest-first rows -> ItemGrades oldest first, items no longer in the catalog left out."""
    return [
        grade_from_row(item_id, catalog.item(item_id).type, g)
        for item_id, g in reversed(rows)
        if not is_duplicate(item_id) and catalog.has_item(item_id)
    ]


def recent_grades(
    session: Session, user_id: int, catalog: Catalog, window: int
) -> list[grading.ItemGrade]:
    return _as_grades(_recent_practice_rows(session, user_id, window), catalog)


def rolling_windows(
    rows: Sequence[tuple[str, GradeFields]], window: int, catalog: Catalog
) -> tuple[list[grading.ItemGrade], list[grading.ItemGrade]]:
    """Newest-first (item id, grade) rows -> the grades of the last ``window`` answers and of
    the ``window`` before them, each oldest first."""
    return _as_grades(rows[:window], catalog), _as_grades(rows[window : 2 * window], catalog)


def _write_rolling(
    session: Session,
    user_id: int,
    rows: Sequence[tuple[str, GradeFields]],
    window: int,
    catalog: Catalog,
    *,
    answered: tuple[bool, datetime] | None = None,
) -> tuple[list[grading.ItemGrade], TraineeRolling]:
    """Store the trainee's rolling figures, computed from their newest-first practice rows.
    Returns the last window's grades (the drift check reads them) and the row.

    ``answered`` is (counted, created_at) of the one answer just recorded: an existing row's
    counts then move by that answer instead of being read again (this runs on every answer).
    """
    pairs = [
        [(str(t), str(gold)) for t, gold in (g.details or {}).get("decisions") or ()]
        for _, g in rows
    ]
    figures = rolling.single_figures(
        [d for p in pairs[:window] for d in p], [d for p in pairs[window : 2 * window] for d in p]
    )
    summary = session.get(TraineeRolling, user_id)
    if summary is not None and answered is not None and summary.last_activity is not None:
        counted, at = answered
        summary.graded += int(counted)
        summary.last_activity = max(summary.last_activity, at)
    else:
        # Both counts in one read, taken before the row changes (a change is flushed first).
        graded, last_activity = session.execute(
            select(func.count().filter(and_(*counted_practice())), func.max(Annotation.created_at))
            .select_from(Annotation)
            .join(Attempt, Attempt.id == Annotation.attempt_id)
            .where(Annotation.user_id == user_id)
        ).one()
        if summary is None:
            summary = TraineeRolling(user_id=user_id)
            session.add(summary)
        summary.graded = graded or 0
        summary.last_activity = last_activity
    (
        summary.rolling_kappa,
        summary.kappa_low,
        summary.kappa_high,
        summary.previous_kappa,
    ) = (rolling.finite(f) for f in figures)
    recent, before = rolling_windows(rows, window, catalog)
    summary.rolling_agreement = _finite(grading.combined_agreement(recent))
    summary.previous_agreement = _finite(grading.combined_agreement(before))
    # Wall-clock, not ``now``: it versions the cohort view's cache, so it must only move forward.
    summary.updated_at = utcnow()
    return recent, summary


def refresh_rolling(session: Session, user_id: int, catalog: Catalog) -> TraineeRolling:
    """Recompute a trainee's rolling summary from stored grades (after a regrade, or for a
    trainee whose answers predate the summary). Flushes; the caller commits."""
    window = catalog.levels[0].drift_window
    session.flush()  # a regrade in this transaction must be visible to the query below
    rows = _recent_practice_rows(session, user_id, 2 * window)
    _, summary = _write_rolling(session, user_id, rows, window, catalog)
    session.flush()
    return summary


def _touch_rolling(session: Session, user_id: int, catalog: Catalog) -> None:
    """A non-practice answer moves only the last activity (the figures count practice)."""
    summary = session.get(TraineeRolling, user_id)
    if summary is None:
        refresh_rolling(session, user_id, catalog)
        return
    summary.last_activity = session.scalar(
        select(func.max(Annotation.created_at)).where(Annotation.user_id == user_id)
    )
    summary.updated_at = utcnow()


def _check_drift(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    now: datetime,
    grades: list[grading.ItemGrade] | None = None,
    rolling_value: float | None = None,
) -> None:
    """Rolling agreement below the threshold places the trainee in remediation.

    ``rolling_value``, when given, is the agreement of ``grades`` already computed (the
    summary row holds it)."""
    level = catalog.levels[0]
    window, threshold = level.drift_window, level.drift_threshold
    if grades is None:
        grades = recent_grades(session, actor.id, catalog, window)
    if len(grades) < window:
        return
    if rolling_value is None:
        rolling_value = grading.rolling_agreement(grades, window=window)
    if rolling_value is None or rolling_value != rolling_value or rolling_value >= threshold:
        return
    passed = session.scalars(
        select(ModuleProgress.module_id).where(
            ModuleProgress.user_id == actor.id, ModuleProgress.passed_at.is_not(None)
        )
    ).all()
    modules, reason = progression.remediation_plan(
        catalog, grades, rolling_value, window, threshold, passed
    )
    start_remediation(session, None, actor.id, modules, reason, now=now)


def start_remediation(
    session: Session,
    actor: Actor | None,
    user_id: int,
    module_ids: Sequence[str],
    reason: str,
    *,
    now: datetime | None = None,
) -> Remediation:
    """Reassign modules: they count as not passed, and exams close, until passed again.

    Their progress starts afresh, except in a set the trainee has open: it stays open with its
    answers, and passing it releases the module.
    """
    if actor is not None:
        require_role(actor, "instructor", "admin")
    now = now or utcnow()
    remediation = Remediation(
        user_id=user_id, reason=reason, module_ids=list(module_ids), started_at=now
    )
    session.add(remediation)
    for module_id in module_ids:
        _reset_module(session, user_id, module_id, now, close_open_set=False)
    user = session.get(User, user_id)
    audit.record(
        session,
        actor,
        "remediation.start",
        user.username if user else str(user_id),
        modules=list(module_ids),
        reason=reason,
    )
    return remediation


# --------------------------------------------------------------------------------- exams


def draw_exam_form(bank: Sequence[Item], size: int, seed: int) -> list[str]:
    """A fresh form, stratified by task type: each type gets its share of the bank."""
    rng = random.Random(seed)
    by_type: dict[str, list[str]] = defaultdict(list)
    for item in bank:
        by_type[item.type].append(item.id)
    size = min(size, len(bank))
    total = len(bank)
    quotas = {t: len(ids) * size / total for t, ids in by_type.items()}
    counts = {t: int(q) for t, q in quotas.items()}
    # Largest remainders get the seats rounding left over (at least one per type if possible).
    for t in sorted(quotas, key=lambda t: quotas[t] - counts[t], reverse=True):
        if sum(counts.values()) >= size:
            break
        counts[t] += 1
    form: list[str] = []
    for t, ids in sorted(by_type.items()):
        form.extend(rng.sample(ids, min(counts[t], len(ids))))
    rng.shuffle(form)
    return form


def start_exam(
    session: Session, actor: Actor, catalog: Catalog, level_id: str, *, now: datetime | None = None
) -> int:
    require_role(actor, "trainee")
    now = now or utcnow()
    level = catalog.level(level_id)
    open_attempt = session.scalar(
        select(Attempt).where(
            Attempt.user_id == actor.id,
            Attempt.kind == "exam",
            Attempt.level_id == level_id,
            Attempt.status == "open",
        )
    )
    if open_attempt is not None and not _close_if_overdue(session, open_attempt, catalog, now):
        return open_attempt.id
    record = trainee_record(session, actor.id, catalog)
    gate = progression.exam_gate(catalog, record, level, now)
    if not gate.open:
        raise NotEligibleError(gate.reason)
    seed = _new_seed()
    form = draw_exam_form(catalog.exam_bank(level_id), level.exam.form_size, seed)
    attempt = Attempt(
        user_id=actor.id,
        kind="exam",
        level_id=level_id,
        content_version=catalog.version,
        form=form,
        seed=seed,
        started_at=now,
        deadline_at=now + timedelta(minutes=level.exam.time_limit_minutes),
    )
    session.add(attempt)
    session.flush()
    audit.record(session, actor, "exam.start", level_id, attempt=attempt.id)
    session.commit()
    return attempt.id


def _close_if_overdue(session: Session, attempt: Attempt, catalog: Catalog, now: datetime) -> bool:
    """Server-side time limit: an exam past its deadline is submitted as it stands."""
    if attempt.status != "open" or attempt.deadline_at is None or now <= attempt.deadline_at:
        return False
    _finalise_exam(session, attempt, catalog, attempt.deadline_at, timed_out=True)
    session.commit()
    return True


@dataclass(frozen=True)
class ExamOutcome:
    attempt_id: int
    passed: bool
    result: dict[str, Any]
    credential_id: str | None


def submit_exam(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    attempt_id: int,
    *,
    now: datetime | None = None,
) -> ExamOutcome:
    """Submit an exam (idempotent): grade the form and, on a pass, issue the credential."""
    require_role(actor, "trainee")
    now = now or utcnow()
    attempt = _own_attempt(session, actor, attempt_id, lock=True)
    if attempt.kind != "exam":
        raise InvalidInputError("Only exams are submitted this way.")
    if attempt.status == "open":
        if attempt.deadline_at is not None and now > attempt.deadline_at:
            now = attempt.deadline_at
        _finalise_exam(session, attempt, catalog, now, timed_out=False)
        session.commit()
    credential = session.scalar(
        select(Credential.id).where(
            Credential.user_id == actor.id,
            Credential.level_id == attempt.level_id,
            Credential.issued_at >= attempt.started_at,
        )
    )
    return ExamOutcome(attempt.id, bool(attempt.passed), attempt.result or {}, credential)


NO_ANSWER = "(no answer)"


def unanswered_grade(item: Item) -> grading.ItemGrade:
    """An unanswered exam item counts as a miss on every decision it carries."""
    from evaluator_cert.simulation import simulated_answer

    perfect = grading.grade_item(item, simulated_answer(item, 1.0, random.Random(0)))
    lo, hi = perfect.scale or (1, 5)
    return grading.ItemGrade(
        item_id=item.id,
        task_type=item.type,
        score=0.0,
        correct=False,
        decisions=tuple((NO_ANSWER, gold) for _, gold in perfect.decisions),
        ratings=tuple(
            (dim, hi if gold - lo < hi - gold else lo, gold) for dim, _, gold in perfect.ratings
        ),
        details={"unanswered": True},
        scale=perfect.scale,
    )


def exam_record(
    outcome: grading.ExamResult, *, answered: int, items: int, timed_out: bool
) -> dict[str, Any]:
    """What an exam attempt stores and shows: figures and verdicts, never gold or answers."""
    return {
        "overall": _finite(outcome.overall),
        "dimensions": {k: _finite(v) for k, v in outcome.dimensions.items()},
        "failing": list(outcome.failing),
        "unproven": list(outcome.unproven),
        "reason": outcome.reason,
        "answered": answered,
        "items": items,
        "timed_out": timed_out,
    }


def _finalise_exam(
    session: Session, attempt: Attempt, catalog: Catalog, at: datetime, *, timed_out: bool
) -> None:
    level = catalog.level(attempt.level_id)
    grades = _attempt_grades(session, attempt.id, catalog)
    answered = {g.item_id for g in grades}
    # Unanswered items count as wrong: grade an empty answer for each.
    for item_id in attempt.form:
        if item_id not in answered and catalog.has_item(item_id):
            grades.append(unanswered_grade(catalog.item(item_id)))
    outcome = grading.exam_result(grades, level.exam)
    attempt.status = "submitted"
    attempt.submitted_at = at
    attempt.passed = bool(outcome.passed)
    attempt.agreement = _finite(outcome.overall)
    attempt.result = exam_record(
        outcome, answered=len(answered), items=len(attempt.form), timed_out=timed_out
    )
    user = session.get(User, attempt.user_id)
    actor = Actor.of(user) if user else None
    audit.record(
        session,
        actor,
        "exam.submit",
        attempt.level_id,
        attempt=attempt.id,
        passed=attempt.passed,
        overall=attempt.agreement,
        timed_out=timed_out,
    )
    if attempt.passed and user is not None:
        from evaluator_cert.services.credentials import issue_credential

        issue_credential(session, user, catalog, attempt.level_id, attempt.agreement or 0.0, at)


def exam_history(session: Session, actor: Actor, level_id: str | None = None) -> list[AttemptView]:
    require_role(actor, "trainee")
    query = select(Attempt).where(Attempt.user_id == actor.id, Attempt.kind == "exam")
    if level_id:
        query = query.where(Attempt.level_id == level_id)
    return [
        AttemptView(
            a.id,
            a.kind,
            a.level_id,
            None,
            a.status,
            a.seed,
            list(a.form),
            {},
            a.started_at,
            a.deadline_at,
            a.agreement,
            a.passed,
            a.result,
        )
        for a in session.scalars(query.order_by(Attempt.started_at.desc()))
    ]


def open_attempt_id(
    session: Session,
    actor: Actor,
    *,
    kind: str,
    module_id: str | None = None,
    level_id: str | None = None,
) -> int | None:
    require_role(actor, "trainee")
    query = select(Attempt.id).where(
        Attempt.user_id == actor.id, Attempt.kind == kind, Attempt.status == "open"
    )
    if module_id:
        query = query.where(Attempt.module_id == module_id)
    if level_id:
        query = query.where(Attempt.level_id == level_id)
    return session.scalar(query.order_by(Attempt.id.desc()).limit(1))


def current_practice_module(session: Session, actor: Actor) -> str | None:
    """The module of the trainee's open practice set answered most recently (else started
    most recently): where a returning trainee left off."""
    require_role(actor, "trainee")
    last_answer = (
        select(func.max(Annotation.created_at))
        .where(Annotation.attempt_id == Attempt.id)
        .scalar_subquery()
    )
    return session.scalar(
        select(Attempt.module_id)
        .where(Attempt.user_id == actor.id, Attempt.kind == "practice", Attempt.status == "open")
        .order_by(func.coalesce(last_answer, Attempt.started_at).desc(), Attempt.id.desc())
        .limit(1)
    )


def answered_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(Annotation.user_id == user_id)) or 0
