"""Calibration sessions: a group of trainees annotates a level's calibration items blind; the
instructor studies the spread (Krippendorff's alpha, label distributions next to the expert
label), writes a note and an adjudicated label per item, and publishes. Also recertification:
a credential holder takes the level's calibration batch and renews at the level's threshold.

Blind means the services never hand gold, explanations or notes to a trainee before the
session is published (recertification batches never show them).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from evaluator_cert import agreement, grading
from evaluator_cert.db.models import (
    Annotation,
    Attempt,
    CalibrationNote,
    CalibrationParticipant,
    CalibrationSession,
    Credential,
    Grade,
    User,
    utcnow,
)
from evaluator_cert.errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotEligibleError,
    NotFoundError,
)
from evaluator_cert.services import attempts, audit
from evaluator_cert.services.actors import Actor, require_role

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

MAX_NOTE = 4000


# ------------------------------------------------------------------------------ sessions


def create_session(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    *,
    level_id: str,
    title: str,
    item_ids: Sequence[str] | None = None,
    cohort: str | None = None,
    user_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> int:
    """A session on the level's calibration batch (or a subset) for a cohort or picked
    trainees; returns its id."""
    require_role(actor, "instructor", "admin")
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        raise InvalidInputError("Give the session a title of 3 to 200 characters.")
    try:
        batch = [i.id for i in catalog.calibration_batch(level_id)]
    except KeyError:
        raise NotFoundError(f"There is no level {level_id}.") from None
    chosen = list(item_ids) if item_ids else batch
    outside = [i for i in chosen if i not in batch]
    if outside:
        raise InvalidInputError(f"Not in the {level_id} calibration batch: {', '.join(outside)}.")
    if not chosen:
        raise InvalidInputError("Choose at least one item.")
    query = select(User.id).where(User.role == "trainee", User.is_active.is_(True))
    if user_ids:
        query = query.where(User.id.in_(list(user_ids)))
    elif cohort:
        query = query.where(User.cohort == cohort)
    else:
        raise InvalidInputError("Choose a cohort or pick trainees.")
    members = list(session.scalars(query))
    if not members:
        raise InvalidInputError("No active trainee matches that choice.")
    row = CalibrationSession(
        title=title,
        level_id=level_id,
        item_ids=chosen,
        created_by=actor.id,
        created_at=now or utcnow(),
        status="open",
    )
    session.add(row)
    session.flush()
    session.add_all(CalibrationParticipant(session_id=row.id, user_id=u) for u in members)
    audit.record(
        session, actor, "calibration.create", str(row.id), items=len(chosen), trainees=len(members)
    )
    session.commit()
    return row.id


def _session(session: Session, session_id: int) -> CalibrationSession:
    row = session.get(CalibrationSession, session_id)
    if row is None:
        raise NotFoundError("That calibration session does not exist.")
    return row


def sessions_frame(session: Session, actor: Actor) -> pd.DataFrame:
    require_role(actor, "instructor", "admin")
    participants = dict(
        session.execute(
            select(CalibrationParticipant.session_id, func.count()).group_by(
                CalibrationParticipant.session_id
            )
        ).all()
    )
    answered = dict(
        session.execute(
            select(Attempt.calibration_session_id, func.count(Annotation.id))
            .join(Annotation, Annotation.attempt_id == Attempt.id)
            .where(Attempt.calibration_session_id.is_not(None))
            .group_by(Attempt.calibration_session_id)
        ).all()
    )
    rows = [
        {
            "id": s.id,
            "title": s.title,
            "level": s.level_id,
            "status": s.status,
            "items": len(s.item_ids),
            "trainees": participants.get(s.id, 0),
            "answers": answered.get(s.id, 0),
            "created": s.created_at,
            "published": s.published_at,
        }
        for s in session.scalars(select(CalibrationSession).order_by(CalibrationSession.id.desc()))
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "title",
            "level",
            "status",
            "items",
            "trainees",
            "answers",
            "created",
            "published",
        ],
    )


# ------------------------------------------------------------------------- trainee side


@dataclass(frozen=True)
class MyCalibration:
    session_id: int
    title: str
    level_id: str
    status: str
    items: int
    answered: int
    attempt_id: int | None


def my_calibrations(session: Session, actor: Actor) -> list[MyCalibration]:
    require_role(actor, "trainee")
    mine = session.scalars(
        select(CalibrationSession)
        .join(CalibrationParticipant, CalibrationParticipant.session_id == CalibrationSession.id)
        .where(CalibrationParticipant.user_id == actor.id)
        .order_by(CalibrationSession.id.desc())
    ).all()
    attempts_by_session = {
        a.calibration_session_id: a
        for a in session.scalars(
            select(Attempt).where(
                Attempt.user_id == actor.id, Attempt.calibration_session_id.is_not(None)
            )
        )
    }
    counts = dict(
        session.execute(
            select(Annotation.attempt_id, func.count())
            .where(Annotation.user_id == actor.id)
            .group_by(Annotation.attempt_id)
        ).all()
    )
    out = []
    for s in mine:
        attempt = attempts_by_session.get(s.id)
        out.append(
            MyCalibration(
                s.id,
                s.title,
                s.level_id,
                s.status,
                len(s.item_ids),
                counts.get(attempt.id, 0) if attempt else 0,
                attempt.id if attempt else None,
            )
        )
    return out


def start_calibration(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    session_id: int,
    *,
    now: datetime | None = None,
) -> int:
    """The trainee's attempt at a session (created on first call); returns its id."""
    require_role(actor, "trainee")
    cal = _session(session, session_id)
    if not session.scalar(
        select(CalibrationParticipant.id).where(
            CalibrationParticipant.session_id == session_id,
            CalibrationParticipant.user_id == actor.id,
        )
    ):
        raise NotAllowedError("You are not part of that calibration session.")
    existing = session.scalar(
        select(Attempt.id).where(
            Attempt.user_id == actor.id, Attempt.calibration_session_id == session_id
        )
    )
    if existing is not None:
        return existing
    if cal.status != "open":
        raise NotEligibleError("That calibration session is closed to new answers.")
    attempt = Attempt(
        user_id=actor.id,
        kind="calibration",
        level_id=cal.level_id,
        calibration_session_id=cal.id,
        content_version=catalog.version,
        form=list(cal.item_ids),
        seed=attempts._new_seed(),
        started_at=now or utcnow(),
    )
    session.add(attempt)
    session.commit()
    return attempt.id


@dataclass(frozen=True)
class BlindAttempt:
    """A calibration attempt as the trainee sees it while answering: no gold, no grades."""

    id: int
    session_id: int | None
    level_id: str
    seed: int
    item_ids: list[str]
    answered: dict[str, dict[str, Any]]
    status: str
    result: dict[str, Any] | None

    @property
    def next_item_id(self) -> str | None:
        return next((i for i in self.item_ids if i not in self.answered), None)


def blind_attempt(session: Session, actor: Actor, attempt_id: int) -> BlindAttempt:
    require_role(actor, "trainee")
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.kind != "calibration":
        raise NotFoundError("That calibration attempt does not exist.")
    if attempt.user_id != actor.id:
        raise NotAllowedError("That attempt belongs to someone else.")
    answered = dict(
        session.execute(
            select(Annotation.item_id, Annotation.answer).where(Annotation.attempt_id == attempt.id)
        ).all()
    )
    # Recertification shows its outcome (pass/fail and the figure), never per-item gold.
    result = attempt.result if attempt.calibration_session_id is None else None
    return BlindAttempt(
        attempt.id,
        attempt.calibration_session_id,
        attempt.level_id,
        attempt.seed,
        list(attempt.form),
        answered,
        attempt.status,
        result,
    )


def answer_calibration(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    attempt_id: int,
    item_id: str,
    answer: dict[str, Any],
    *,
    now: datetime | None = None,
) -> BlindAttempt:
    """Save (and grade, for the instructor) one blind answer; nothing about gold comes back.

    The last answer closes the attempt; for a recertification batch it also decides the
    renewal."""
    require_role(actor, "trainee")
    now = now or utcnow()
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.kind != "calibration":
        raise NotFoundError("That calibration attempt does not exist.")
    if attempt.calibration_session_id is not None:
        cal = _session(session, attempt.calibration_session_id)
        if cal.status != "open":
            raise NotEligibleError("That calibration session no longer takes answers.")
    attempts.record_answer(session, actor, catalog, attempt_id, item_id, answer, now=now)
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    answered = session.scalar(select(func.count()).where(Annotation.attempt_id == attempt.id))
    if attempt.status == "open" and answered == len(attempt.form):
        _close(session, actor, catalog, attempt, now)
        session.commit()
    return blind_attempt(session, actor, attempt_id)


def _close(
    session: Session, actor: Actor, catalog: Catalog, attempt: Attempt, now: datetime
) -> None:
    grades = attempts._attempt_grades(session, attempt.id, catalog)
    value = grading.combined_agreement(grades)
    attempt.status = "submitted"
    attempt.submitted_at = now
    attempt.agreement = value
    if attempt.calibration_session_id is not None:
        return
    level = catalog.level(attempt.level_id)
    passed = value is not None and value >= level.recertification_threshold
    attempt.passed = passed
    credential_id = None
    shown = "undefined" if value is None else f"{value:.2f}"
    if passed:
        from evaluator_cert.services.credentials import recertify

        user = session.get(User, actor.id)
        assert user is not None
        credential_id = recertify(session, user, catalog, level.id, float(value), now).id
        reason = f"agreement {shown} >= {level.recertification_threshold:.2f}: renewed"
    else:
        reason = f"agreement {shown} < {level.recertification_threshold:.2f}: not renewed"
    attempt.result = {
        "agreement": value,
        "passed": passed,
        "reason": reason,
        "credential": credential_id,
    }
    audit.record(
        session,
        actor,
        "recertification.submit",
        level.id,
        attempt=attempt.id,
        passed=passed,
        agreement=value,
    )


def start_recertification(
    session: Session, actor: Actor, catalog: Catalog, level_id: str, *, now: datetime | None = None
) -> int:
    """Open (or resume) a recertification batch: the level's calibration items."""
    require_role(actor, "trainee")
    now = now or utcnow()
    batch = [i.id for i in catalog.calibration_batch(level_id)]
    if not batch:
        raise NotEligibleError(f"{level_id} has no calibration batch to recertify on.")
    held = session.scalar(
        select(Credential.id).where(
            Credential.user_id == actor.id,
            Credential.level_id == level_id,
            Credential.revoked_at.is_(None),
        )
    )
    if held is None:
        raise NotEligibleError(
            f"Recertification renews an {level_id} credential you hold; pass the exam first."
        )
    existing = session.scalar(
        select(Attempt.id).where(
            Attempt.user_id == actor.id,
            Attempt.kind == "calibration",
            Attempt.calibration_session_id.is_(None),
            Attempt.level_id == level_id,
            Attempt.status == "open",
        )
    )
    if existing is not None:
        return existing
    attempt = Attempt(
        user_id=actor.id,
        kind="calibration",
        level_id=level_id,
        content_version=catalog.version,
        form=batch,
        seed=attempts._new_seed(),
        started_at=now,
    )
    session.add(attempt)
    session.flush()
    audit.record(session, actor, "recertification.start", level_id, attempt=attempt.id)
    session.commit()
    return attempt.id


# ------------------------------------------------------------------------ instructor side


def _session_grades(
    session: Session, session_id: int
) -> list[tuple[int, str, dict[str, Any], dict[str, Any]]]:
    """(user id, item id, answer, stored grade) of every answer in a session."""
    rows = session.execute(
        select(Annotation.user_id, Annotation.item_id, Annotation.answer, Grade.details)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(Attempt.calibration_session_id == session_id)
        .order_by(Annotation.id)
    ).all()
    return [(u, i, a, d or {}) for u, i, a, d in rows]


def _unit_name(item_id: str, task_type: str, index: int, catalog: Catalog) -> str:
    item = catalog.item(item_id)
    if task_type == "fact_check":
        return item.claims[index].id  # type: ignore[union-attr]
    if task_type == "ranking":
        ids = sorted(item.responses)  # type: ignore[union-attr]
        pairs = [(x, y) for n, x in enumerate(ids) for y in ids[n + 1 :]]
        return f"{pairs[index][0]} vs {pairs[index][1]}"
    if task_type == "span":
        return f"token {index}"
    return ""


def _alpha(values: pd.DataFrame, level: str) -> float | None:
    if values.empty:
        return None
    matrix = values.pivot_table(index="user_id", columns="unit", values="value", aggfunc="first")
    if matrix.shape[0] < 2:
        return None
    data = matrix.astype(object).where(matrix.notna(), None).to_numpy()
    try:
        return agreement.krippendorff_alpha(data, level=level)  # type: ignore[arg-type]
    except ValueError:
        return None


@dataclass(frozen=True)
class SessionResults:
    session_id: int
    title: str
    level_id: str
    status: str
    trainees: int  # who answered at least one item
    alpha_nominal: float | None  # over the categorical decisions of every item
    alpha_interval: float | None  # over the rubric ratings (unit = item x dimension)
    units: pd.DataFrame  # item, unit, expert, distribution, answers, agree_with_expert,
    #                      disagreement — most disputed first
    notes: dict[str, dict[str, Any]]  # item -> {"note", "adjudicated"}


def session_results(
    session: Session, actor: Actor, catalog: Catalog, session_id: int
) -> SessionResults:
    require_role(actor, "instructor", "admin")
    cal = _session(session, session_id)
    nominal, interval, units = [], [], []
    for user_id, item_id, _answer, stored in _session_grades(session, session_id):
        task_type = stored.get("task_type", "")
        for index, (given, gold) in enumerate(stored.get("decisions", ())):
            unit = _unit_name(item_id, task_type, index, catalog)
            key = f"{item_id}|{unit}"
            nominal.append({"user_id": user_id, "unit": key, "value": str(given)})
            units.append((item_id, unit, str(given), str(gold)))
        for dim, given, gold in stored.get("ratings", ()):
            key = f"{item_id}|{dim}"
            interval.append({"user_id": user_id, "unit": key, "value": float(given)})
            units.append((item_id, dim, str(given), str(gold)))
    nominal_df = pd.DataFrame(nominal, columns=["user_id", "unit", "value"])
    interval_df = pd.DataFrame(interval, columns=["user_id", "unit", "value"])
    table = _unit_table(units)
    notes = {
        n.item_id: {"note": n.note, "adjudicated": n.adjudicated}
        for n in session.scalars(
            select(CalibrationNote).where(CalibrationNote.session_id == session_id)
        )
    }
    trainees = len({u for u, *_ in _session_grades(session, session_id)})
    return SessionResults(
        cal.id,
        cal.title,
        cal.level_id,
        cal.status,
        trainees,
        _alpha(nominal_df, "nominal"),
        _alpha(interval_df, "interval"),
        table,
        notes,
    )


def _unit_table(units: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Per (item, unit): the answer distribution, the expert label, and how split it was."""
    columns = [
        "item",
        "unit",
        "expert",
        "distribution",
        "answers",
        "agree_with_expert",
        "disagreement",
    ]
    if not units:
        return pd.DataFrame(columns=columns)
    grouped: dict[tuple[str, str], tuple[Counter[str], str]] = {}
    for item_id, unit, given, gold in units:
        counter, _ = grouped.setdefault((item_id, unit), (Counter(), gold))
        counter[given] += 1
    rows = []
    for (item_id, unit), (counter, gold) in grouped.items():
        n = sum(counter.values())
        modal = counter.most_common(1)[0][1]
        rows.append(
            {
                "item": item_id,
                "unit": unit,
                "expert": gold,
                "distribution": ", ".join(f"{k}: {v}" for k, v in sorted(counter.items())),
                "answers": n,
                "agree_with_expert": counter.get(gold, 0) / n,
                # 1 - the modal share: 0 when everyone agrees, towards 1 as answers scatter.
                "disagreement": 1.0 - modal / n,
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(
        ["disagreement", "agree_with_expert", "item"], ascending=[False, True, True]
    ).reset_index(drop=True)


def save_note(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    session_id: int,
    item_id: str,
    note: str,
    adjudicated: Any = None,
) -> None:
    """The discussion note and (optionally) the adjudicated label for one item."""
    require_role(actor, "instructor", "admin")
    cal = _session(session, session_id)
    if item_id not in cal.item_ids:
        raise InvalidInputError(f"{item_id} is not part of this session.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInputError(f"Keep the note under {MAX_NOTE} characters.")
    row = session.scalar(
        select(CalibrationNote).where(
            CalibrationNote.session_id == session_id, CalibrationNote.item_id == item_id
        )
    )
    if row is None:
        row = CalibrationNote(session_id=session_id, item_id=item_id, author_id=actor.id)
        session.add(row)
    row.note = note
    row.adjudicated = None if adjudicated in (None, "") else {"gold": adjudicated}
    row.author_id = actor.id
    row.updated_at = utcnow()
    audit.record(session, actor, "calibration.note", str(session_id), item=item_id)
    session.commit()


def publish(
    session: Session, actor: Actor, session_id: int, *, now: datetime | None = None
) -> None:
    """Close the session to answers and show each participant the results."""
    require_role(actor, "instructor", "admin")
    cal = _session(session, session_id)
    if cal.status == "published":
        raise ConflictError("That session is already published.")
    answered = session.scalar(
        select(func.count(Annotation.id))
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(Attempt.calibration_session_id == session_id)
    )
    if not answered:
        # Publishing closes the session: with no answers there would be nothing to discuss.
        raise NotEligibleError(
            "Nobody has answered this session yet, so there is nothing to publish; "
            "publish once the trainees have answered."
        )
    now = now or utcnow()
    cal.status = "published"
    cal.published_at = now
    for attempt in session.scalars(
        select(Attempt).where(
            Attempt.calibration_session_id == session_id, Attempt.status == "open"
        )
    ):
        attempt.status = "submitted"
        attempt.submitted_at = now
    audit.record(session, actor, "calibration.publish", str(session_id))
    session.commit()


def published_feedback(
    session: Session, actor: Actor, catalog: Catalog, session_id: int
) -> pd.DataFrame:
    """For a participant, once published: per item, their answer, the expert's, the note."""
    require_role(actor, "trainee")
    cal = _session(session, session_id)
    if cal.status != "published":
        raise NotEligibleError("Results appear here once the instructor publishes them.")
    from evaluator_cert.services.disputes import _answer_key, gold_value

    answers = dict(
        session.execute(
            select(Annotation.item_id, Annotation.answer)
            .join(Attempt, Attempt.id == Annotation.attempt_id)
            .where(Attempt.calibration_session_id == session_id, Attempt.user_id == actor.id)
        ).all()
    )
    if not answers and not session.scalar(
        select(CalibrationParticipant.id).where(
            CalibrationParticipant.session_id == session_id,
            CalibrationParticipant.user_id == actor.id,
        )
    ):
        raise NotAllowedError("You were not part of that calibration session.")
    notes = {
        n.item_id: n
        for n in session.scalars(
            select(CalibrationNote).where(CalibrationNote.session_id == session_id)
        )
    }
    rows = []
    for item_id in cal.item_ids:
        item = catalog.item(item_id)
        note = notes.get(item_id)
        expert = (
            note.adjudicated["gold"] if note is not None and note.adjudicated else gold_value(item)
        )
        mine = answers.get(item_id)
        rows.append(
            {
                "item": item_id,
                "your answer": _answer_key(item.type, mine) if mine else "(not answered)",
                "expert": expert if isinstance(expert, str) else str(expert),
                "note": note.note if note else "",
            }
        )
    return pd.DataFrame(rows, columns=["item", "your answer", "expert", "note"])


def alpha_trend(session: Session, actor: Actor, catalog: Catalog) -> pd.DataFrame:
    """Krippendorff's alpha of every published session that two or more trainees answered,
    in the order they were published."""
    require_role(actor, "instructor", "admin")
    rows = []
    for cal in session.scalars(
        select(CalibrationSession)
        .where(CalibrationSession.status == "published")
        .order_by(CalibrationSession.published_at, CalibrationSession.id)
    ):
        results = session_results(session, actor, catalog, cal.id)
        if results.trainees < 2:
            continue
        rows.append(
            {
                "session": cal.id,
                "title": cal.title,
                "created": cal.created_at,
                "published": cal.published_at,
                "alpha_nominal": results.alpha_nominal,
                "alpha_interval": results.alpha_interval,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["session", "title", "created", "published", "alpha_nominal", "alpha_interval"],
    )


def finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value
