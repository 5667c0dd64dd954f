"""The cohort at a glance: one row per trainee from the maintained rolling summary
(``trainee_rolling``) and a few SQL aggregates, and a trainee's full record for drill-down."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from evaluator_cert import grading
from evaluator_cert.content.loader import LEVEL_ORDER
from evaluator_cert.db.models import (
    Annotation,
    Attempt,
    AuditLog,
    Credential,
    Dispute,
    Grade,
    ModuleProgress,
    Remediation,
    TraineeRolling,
    User,
    utcnow,
)
from evaluator_cert.errors import NotFoundError
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import (
    AgreementFields,
    agreement_columns,
    agreement_fields,
    counted_practice,
    rolling_windows,
)
from evaluator_cert.services.overrides import overrides_frame
from evaluator_cert.services.rolling import (  # noqa: F401 (grouped_kappa_ci: re-exported)
    decisions_frame,
    grouped_kappa_ci,
    rolling_figures,
)

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

AT_RISK_MARGIN = 0.05  # rolling agreement less than this above the bar counts as at risk
TREND_STEP = 0.05  # a change smaller than this is "steady"
STATUS_ORDER = {"remediation": 0, "at risk": 1, "on track": 2, "certified": 3}

COLUMNS = [
    "user_id",
    "trainee",
    "name",
    "cohort",
    "level",
    "certified",
    "modules_passed",
    "graded",
    "rolling_agreement",
    "previous_agreement",
    "rolling_kappa",
    "kappa_low",
    "kappa_high",
    "previous_kappa",
    "trend",
    "status",
    "last_activity",
]


def cohort_names(session: Session, actor: Actor) -> list[str]:
    require_role(actor, "instructor", "admin")
    return list(
        session.scalars(
            select(User.cohort)
            .where(User.role == "trainee", User.cohort.is_not(None))
            .distinct()
            .order_by(User.cohort)
        )
    )


def data_version(session: Session) -> str:
    """Changes whenever an answer, a grade change or an override is recorded (cache key)."""
    ann = session.scalar(select(func.max(Annotation.id))) or 0
    log = session.scalar(select(func.max(AuditLog.id))) or 0
    return f"{ann}:{log}"


def coarse_version(session: Session) -> str:
    """Moves at most once a minute with answers (the summary's last update, to the minute),
    and at once with any audited change (overrides, remediation, credentials)."""
    updated = session.scalar(select(func.max(TraineeRolling.updated_at)))
    log = session.scalar(select(func.max(AuditLog.id))) or 0
    return f"{updated:%Y-%m-%dT%H:%M}:{log}" if updated else f"-:{log}"


def _ranked_practice(*columns: Any) -> Any:
    """``user_id``, ``columns`` and ``rn`` (1 = newest) of every counted practice answer with
    its grade, ranked per trainee; callers narrow it and keep ``rn <= 2 * window``."""
    rn = (
        func.row_number()
        .over(
            partition_by=Annotation.user_id,
            order_by=(Annotation.created_at.desc(), Annotation.id.desc()),
        )
        .label("rn")
    )
    return (
        select(Annotation.user_id, *columns, rn)
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(*counted_practice())
    )


def _recent_decisions(
    session: Session, cohort: str | None, window: int, only: Any = None
) -> pd.DataFrame:
    """(trainee, rank, given, gold) for every decision in the last ``2 * window`` graded
    practice answers of each trainee, in one query (``only``: a subquery of user ids).

    ``rn`` 1..window is the rolling window; window+1..2*window the one before it (the trend).
    Only the ``decisions`` part of each stored grade is read: decoding whole grade documents
    dominated the cost on large cohorts. The cohort view reads these figures from
    ``trainee_rolling``; this is the fallback for trainees without a summary row.
    """
    ranked: Any = (
        _ranked_practice(
            # Raw JSON text: parsed below in one json.loads call, not one per row.
            Grade.details["decisions"].as_string().label("decisions"),
        )
        .join(User, User.id == Annotation.user_id)
        .where(User.role == "trainee")
    )
    if cohort:
        # A join, not IN (ids): a long IN list cost more than the window function itself.
        ranked = ranked.where(User.cohort == cohort)
    if only is not None:
        ranked = ranked.where(Annotation.user_id.in_(only))
    ranked = ranked.subquery()
    rows = (
        session.connection()
        .execute(
            select(ranked.c.user_id, ranked.c.decisions, ranked.c.rn).where(
                ranked.c.rn <= 2 * window
            )
        )
        .all()
    )
    parsed = json.loads("[" + ",".join(r[1] or "null" for r in rows) + "]")
    return decisions_frame(
        [(user_id, rank, d) for (user_id, _, rank), d in zip(rows, parsed, strict=True)]
    )


def _recent_agreements(
    session: Session, catalog: Catalog, window: int, only: Any
) -> dict[int, tuple[float | None, float | None]]:
    """user id -> (rolling agreement, the window before), from the last ``2 * window`` graded
    practice answers of each trainee in ``only`` (a subquery of user ids), in one query."""
    ranked = (
        _ranked_practice(Annotation.item_id, Grade.id.label("grade_id"))
        .where(Annotation.user_id.in_(only))
        .subquery()
    )
    rows: dict[int, list[tuple[str, AgreementFields]]] = {}
    # The grade's parts are read after the window is cut, not for every answer ranked.
    found = session.execute(
        select(ranked.c.user_id, ranked.c.item_id, *agreement_columns())
        .join(Grade, Grade.id == ranked.c.grade_id)
        .where(ranked.c.rn <= 2 * window)
        .order_by(ranked.c.user_id, ranked.c.rn)
    ).all()
    for row, fields in zip(found, agreement_fields(found), strict=True):
        rows.setdefault(row.user_id, []).append((row.item_id, fields))
    out = {}
    for user_id, newest_first in rows.items():
        recent, before = rolling_windows(newest_first, window, catalog)
        out[user_id] = (
            _finite(grading.combined_agreement(recent)),
            _finite(grading.combined_agreement(before)),
        )
    return out


def _computed_summary(
    session: Session, catalog: Catalog, cohort: str | None, window: int, only: Any
) -> pd.DataFrame:
    """What ``trainee_rolling`` holds, derived from stored answers for the trainees ``only``."""
    graded = dict(
        session.execute(
            select(Annotation.user_id, func.count())
            .join(Attempt, Attempt.id == Annotation.attempt_id)
            .where(Annotation.user_id.in_(only), *counted_practice())
            .group_by(Annotation.user_id)
        ).all()
    )
    last = dict(
        session.execute(
            select(Annotation.user_id, func.max(Annotation.created_at))
            .where(Annotation.user_id.in_(only))
            .group_by(Annotation.user_id)
        ).all()
    )
    figures = rolling_figures(_recent_decisions(session, cohort, window, only), window)
    ids = sorted(set(last) | set(graded))
    out = figures.reindex(pd.Index(ids, name="user_id")).rename(
        columns={
            "kappa": "rolling_kappa",
            "low": "kappa_low",
            "high": "kappa_high",
            "previous": "previous_kappa",
        }
    )
    agreements = _recent_agreements(session, catalog, window, only)
    out["rolling_agreement"] = [agreements.get(i, (None, None))[0] for i in ids]
    out["previous_agreement"] = [agreements.get(i, (None, None))[1] for i in ids]
    out["graded"] = [graded.get(i, 0) for i in ids]
    out["last_activity"] = [last.get(i) for i in ids]
    return out


def backfill_rolling(session: Session, catalog: Catalog) -> int:
    """Write the summary row of every trainee who answered but has none (a database from
    before the summary was kept), in one vectorised pass. Returns the rows written."""
    window = catalog.levels[0].drift_window
    missing = (
        select(User.id)
        .where(User.role == "trainee")
        .where(exists().where(Annotation.user_id == User.id))
        .where(~exists().where(TraineeRolling.user_id == User.id))
    )
    computed = _computed_summary(session, catalog, None, window, missing.scalar_subquery())
    stamp = utcnow()
    session.add_all(
        TraineeRolling(
            user_id=int(user_id),
            graded=int(r["graded"]),
            rolling_kappa=_finite(r["rolling_kappa"]),
            kappa_low=_finite(r["kappa_low"]),
            kappa_high=_finite(r["kappa_high"]),
            previous_kappa=_finite(r["previous_kappa"]),
            rolling_agreement=_finite(r["rolling_agreement"]),
            previous_agreement=_finite(r["previous_agreement"]),
            last_activity=r["last_activity"],
            updated_at=stamp,
        )
        for user_id, r in computed.iterrows()
    )
    session.commit()
    return len(computed)


def _finite(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _arrow(now: float, before: float) -> str:
    if now is None or before is None or math.isnan(now) or math.isnan(before):
        return ""
    if now - before > TREND_STEP:
        return "↑"
    if before - now > TREND_STEP:
        return "↓"
    return "→"


def cohort_frame(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    *,
    cohort: str | None = None,
    now: datetime | None = None,
    recompute: bool = False,
) -> pd.DataFrame:
    """One row per active trainee, at-risk first (see STATUS_ORDER), then by rolling
    agreement (the drift rule's figure; the kappa columns are its label decisions alone).

    ``recompute`` derives every rolling figure from stored grades instead of the summary
    table (slow on large cohorts; for checks and benchmarks)."""
    require_role(actor, "instructor", "admin")
    now = now or utcnow()
    level0 = catalog.levels[0]
    window, bar = level0.drift_window, level0.drift_threshold

    users_q = select(User.id, User.username, User.display_name, User.cohort).where(
        User.role == "trainee", User.is_active.is_(True)
    )
    if cohort:
        users_q = users_q.where(User.cohort == cohort)
    summary_columns = [
        TraineeRolling.graded,
        TraineeRolling.last_activity,
        TraineeRolling.rolling_kappa,
        TraineeRolling.kappa_low,
        TraineeRolling.kappa_high,
        TraineeRolling.previous_kappa,
        TraineeRolling.rolling_agreement,
        TraineeRolling.previous_agreement,
    ]
    keys = [c.key for c in summary_columns]
    # One query for the trainees and their summary rows; Core rows, not ORM ones (at 10,000
    # trainees the ORM's per-row work cost more than the query).
    joined = (
        session.connection()
        .execute(
            users_q.add_columns(TraineeRolling.user_id.label("summary"), *summary_columns)
            .outerjoin(TraineeRolling, TraineeRolling.user_id == User.id)
            .order_by(User.id)
        )
        .all()
    )
    if not joined:
        return pd.DataFrame(columns=COLUMNS)
    users = [tuple(r[:4]) for r in joined]
    records: dict[int, dict[str, Any]] = {
        r[0]: dict(zip(keys, r[5:], strict=True)) for r in joined if r[4] is not None
    }
    # A subquery, not IN (ids): long literal IN lists were the slowest part on big cohorts.
    ids = users_q.with_only_columns(User.id).scalar_subquery()

    passed = dict(
        session.execute(
            select(ModuleProgress.user_id, func.count())
            .where(ModuleProgress.passed_at.is_not(None), ModuleProgress.user_id.in_(ids))
            .group_by(ModuleProgress.user_id)
        ).all()
    )
    credentials: dict[int, set[str]] = {}
    for user_id, level_id in session.execute(
        select(Credential.user_id, Credential.level_id).where(
            Credential.user_id.in_(ids),
            Credential.revoked_at.is_(None),
            Credential.valid_until > now,
            Credential.issued_at <= now,
        )
    ):
        credentials.setdefault(user_id, set()).add(level_id)
    practising: dict[int, set[str]] = {}
    for user_id, level_id in session.execute(
        select(Attempt.user_id, Attempt.level_id)
        .where(Attempt.user_id.in_(ids))
        .group_by(Attempt.user_id, Attempt.level_id)
    ):
        practising.setdefault(user_id, set()).add(level_id)
    in_remediation = set(
        session.scalars(
            select(Remediation.user_id).where(
                and_(Remediation.released_at.is_(None), Remediation.user_id.in_(ids))
            )
        )
    )

    # Trainees who answered before the summary existed (or everyone, with ``recompute``):
    # their figures are derived from stored grades, as this view did before the summary.
    missing = users_q.with_only_columns(User.id).where(
        exists().where(Annotation.user_id == User.id)
    )
    if not recompute:
        missing = missing.where(~exists().where(TraineeRolling.user_id == User.id))
    # Checked first: with the summary complete the (costly) fallback query is not run at all.
    if recompute or (len(records) < len(users) and session.scalar(missing.limit(1)) is not None):
        computed = _computed_summary(session, catalog, cohort, window, missing.scalar_subquery())
        records.update(computed.to_dict("index"))

    def rank(levels: set[str]) -> str | None:
        return max(levels, key=LEVEL_ORDER.index) if levels else None

    def number(value: Any) -> float | None:
        # value != value: NaN, from the fallback's frame (pd.isna per cell cost 0.1 s at 10k)
        return None if value is None or value != value else float(value)

    rows: list[dict[str, Any]] = []
    for user_id, username, name, group in users:
        held = rank(credentials.get(user_id, set()))
        current = rank(practising.get(user_id, set())) or level0.id
        r = records.get(user_id, {})
        value, before = number(r.get("rolling_agreement")), number(r.get("previous_agreement"))
        trend = _arrow(math.nan if value is None else value, math.nan if before is None else before)
        if user_id in in_remediation:
            status = "remediation"
        elif (value is not None and value < bar + AT_RISK_MARGIN) or trend == "↓":
            status = "at risk"
        elif held is not None:
            status = "certified"
        else:
            status = "on track"
        last = r.get("last_activity")
        rows.append(
            {
                "user_id": int(user_id),
                "trainee": username,
                "name": name,
                "cohort": group,
                "level": held or current,
                "certified": held is not None,
                "modules_passed": int(passed.get(user_id, 0)),
                "graded": int(r.get("graded") or 0),
                "rolling_agreement": value,
                "previous_agreement": before,
                "rolling_kappa": number(r.get("rolling_kappa")),
                "kappa_low": number(r.get("kappa_low")),
                "kappa_high": number(r.get("kappa_high")),
                "previous_kappa": number(r.get("previous_kappa")),
                "trend": trend,
                "status": status,
                "last_activity": None if last is None or last != last else last,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["_order"] = frame["status"].map(STATUS_ORDER)
    frame = frame.sort_values(["_order", "rolling_agreement"], na_position="last", kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


# --------------------------------------------------------------------------- drill-down


@dataclass(frozen=True)
class TraineeDetail:
    user_id: int
    username: str
    display_name: str
    cohort: str | None
    attempts: pd.DataFrame
    remediations: pd.DataFrame
    overrides: pd.DataFrame
    disputes: pd.DataFrame
    credentials: pd.DataFrame


def trainee_detail(session: Session, actor: Actor, user_id: int) -> TraineeDetail:
    require_role(actor, "instructor", "admin")
    user = session.get(User, user_id)
    if user is None or user.role != "trainee":
        raise NotFoundError("There is no such trainee.")
    answered = (
        select(Annotation.attempt_id, func.count().label("answered"))
        .group_by(Annotation.attempt_id)
        .subquery()
    )
    attempts = pd.DataFrame(
        session.execute(
            select(
                Attempt.id,
                Attempt.kind,
                Attempt.level_id,
                Attempt.module_id,
                Attempt.status,
                Attempt.started_at,
                Attempt.submitted_at,
                func.coalesce(answered.c.answered, 0),
                Attempt.agreement,
                Attempt.passed,
            )
            .outerjoin(answered, answered.c.attempt_id == Attempt.id)
            .where(Attempt.user_id == user_id)
            .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        ).all(),
        columns=[
            "attempt",
            "kind",
            "level",
            "module",
            "status",
            "started",
            "submitted",
            "answered",
            "agreement",
            "passed",
        ],
    )
    remediations = pd.DataFrame(
        [
            {
                "started": r.started_at,
                "modules": ", ".join(r.module_ids),
                "reason": r.reason,
                "released": r.released_at,
            }
            for r in session.scalars(
                select(Remediation)
                .where(Remediation.user_id == user_id)
                .order_by(Remediation.id.desc())
            )
        ],
        columns=["started", "modules", "reason", "released"],
    )
    disputes = pd.DataFrame(
        [
            {
                "id": d.id,
                "item": d.item_id,
                "status": d.status,
                "reason": d.reason,
                "resolution": d.resolution or "",
                "opened": d.created_at,
            }
            for d in session.scalars(
                select(Dispute).where(Dispute.user_id == user_id).order_by(Dispute.id.desc())
            )
        ],
        columns=["id", "item", "status", "reason", "resolution", "opened"],
    )
    credentials = pd.DataFrame(
        session.execute(
            select(
                Credential.level_id,
                Credential.issued_at,
                Credential.valid_until,
                Credential.revoked_at,
                Credential.agreement,
            )
            .where(Credential.user_id == user_id)
            .order_by(Credential.issued_at.desc())
        ).all(),
        columns=["level", "issued", "valid_until", "revoked", "agreement"],
    )
    return TraineeDetail(
        user.id,
        user.username,
        user.display_name,
        user.cohort,
        attempts,
        remediations,
        overrides_frame(session, actor, user_id=user_id),
        disputes,
        credentials,
    )
