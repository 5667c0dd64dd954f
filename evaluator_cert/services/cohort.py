"""The cohort at a glance: one row per trainee, computed in a few SQL aggregates and one
vectorised kappa pass (no per-trainee queries), and a trainee's full record for drill-down."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from evaluator_cert import agreement
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
    User,
    utcnow,
)
from evaluator_cert.errors import NotFoundError
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import DUPLICATE_SUFFIX
from evaluator_cert.services.overrides import overrides_frame

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

AT_RISK_MARGIN = 0.05  # rolling kappa less than this above the bar counts as at risk
TREND_STEP = 0.05  # a change smaller than this is "steady"
_Z95 = NormalDist().inv_cdf(0.975)
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


def _recent_decisions(session: Session, cohort: str | None, window: int) -> pd.DataFrame:
    """(trainee, rank, given, gold) for every decision in the last ``2 * window`` graded
    practice answers of each trainee, in one query.

    ``rn`` 1..window is the rolling window; window+1..2*window the one before it (the trend).
    Only the ``decisions`` part of each stored grade is read: decoding whole grade documents
    dominated the cost on large cohorts.
    """
    rn = (
        func.row_number()
        .over(
            partition_by=Annotation.user_id,
            order_by=(Annotation.created_at.desc(), Annotation.id.desc()),
        )
        .label("rn")
    )
    ranked: Any = (
        select(
            Annotation.user_id,
            # Raw JSON text: parsed below in one json.loads call, not one per row.
            Grade.details["decisions"].as_string().label("decisions"),
            rn,
        )
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .join(User, User.id == Annotation.user_id)
        .where(
            Attempt.kind == "practice",
            Annotation.item_id.not_like(f"%{DUPLICATE_SUFFIX}"),
            User.role == "trainee",
        )
    )
    if cohort:
        # A join, not IN (ids): a long IN list cost more than the window function itself.
        ranked = ranked.where(User.cohort == cohort)
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
    users, ranks, given, gold = [], [], [], []
    for (user_id, _, rank), decisions in zip(rows, parsed, strict=True):
        for t, g in decisions or ():
            users.append(user_id)
            ranks.append(rank)
            given.append(str(t))
            gold.append(str(g))
    return pd.DataFrame({"user_id": users, "rn": ranks, "given": given, "gold": gold})


def grouped_kappa_ci(groups: np.ndarray, given: np.ndarray, gold: np.ndarray) -> pd.DataFrame:
    """Unweighted kappa per group with its analytic 95% interval, all groups at once.

    Kappa comes from :func:`agreement.grouped_cohen_kappa`; the standard error is Fleiss,
    Cohen & Everitt's (1969) large-sample formula (as :func:`agreement.cohen_kappa_ci`),
    evaluated for every group's confusion table in one array expression.
    """
    kappa = agreement.grouped_cohen_kappa(groups, given, gold)
    gcode, gindex = pd.factorize(pd.Series(groups), sort=True)
    codes, _ = pd.factorize(np.concatenate([given, gold]), sort=True)
    k = int(codes.max()) + 1
    n = len(given)
    flat = (gcode.astype(np.int64) * k + codes[:n]) * k + codes[n:]
    tables = np.bincount(flat, minlength=len(gindex) * k * k).reshape(len(gindex), k, k)
    tables = tables.astype(float)
    totals = tables.sum(axis=(1, 2))
    p = tables / totals[:, None, None]
    row, col = p.sum(axis=2), p.sum(axis=1)
    kap = kappa.reindex(gindex).to_numpy()
    pe = (row * col).sum(axis=1)
    eye = np.eye(k)[None, :, :]
    # w_row[i] = col[i] and w_col[j] = row[j] for identity agreement weights.
    mix = col[:, :, None] + row[:, None, :]
    term = (p * (eye - mix * (1.0 - kap)[:, None, None]) ** 2).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (term - (kap - pe * (1.0 - kap)) ** 2) / ((1.0 - pe) ** 2 * totals)
    se = np.sqrt(np.clip(var, 0.0, None))
    low = np.clip(kap - _Z95 * se, -1.0, 1.0)
    high = np.clip(kap + _Z95 * se, -1.0, 1.0)
    return pd.DataFrame(
        {"kappa": kap, "low": low, "high": high, "n": totals},
        index=pd.Index(gindex, name="group"),
    )


def _kappas(decisions: pd.DataFrame, window: int) -> tuple[pd.DataFrame, pd.Series]:
    recent = decisions[decisions["rn"] <= window]
    prior = decisions[decisions["rn"] > window]
    now = (
        grouped_kappa_ci(
            recent["user_id"].to_numpy(), recent["given"].to_numpy(), recent["gold"].to_numpy()
        )
        if len(recent)
        else pd.DataFrame(columns=["kappa", "low", "high", "n"])
    )
    before = (
        agreement.grouped_cohen_kappa(
            prior["user_id"].to_numpy(), prior["given"].to_numpy(), prior["gold"].to_numpy()
        )
        if len(prior)
        else pd.Series(dtype=float)
    )
    return now, before


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
) -> pd.DataFrame:
    """One row per active trainee, at-risk first (see STATUS_ORDER), then by rolling kappa."""
    require_role(actor, "instructor", "admin")
    now = now or utcnow()
    level0 = catalog.levels[0]
    window, bar = level0.drift_window, level0.drift_threshold

    users_q = select(User.id, User.username, User.display_name, User.cohort).where(
        User.role == "trainee", User.is_active.is_(True)
    )
    if cohort:
        users_q = users_q.where(User.cohort == cohort)
    users = pd.DataFrame(
        session.execute(users_q.order_by(User.id)).all(),
        columns=["user_id", "trainee", "name", "cohort"],
    )
    if users.empty:
        return pd.DataFrame(columns=COLUMNS)
    # A subquery, not IN (ids): long literal IN lists were the slowest part on big cohorts.
    ids = users_q.with_only_columns(User.id).scalar_subquery()

    passed = dict(
        session.execute(
            select(ModuleProgress.user_id, func.count())
            .where(ModuleProgress.passed_at.is_not(None), ModuleProgress.user_id.in_(ids))
            .group_by(ModuleProgress.user_id)
        ).all()
    )
    graded = dict(
        session.execute(
            select(Annotation.user_id, func.count())
            .join(Attempt, Attempt.id == Annotation.attempt_id)
            .where(Attempt.kind == "practice", Annotation.user_id.in_(ids))
            .group_by(Annotation.user_id)
        ).all()
    )
    last = dict(
        session.execute(
            select(Annotation.user_id, func.max(Annotation.created_at))
            .where(Annotation.user_id.in_(ids))
            .group_by(Annotation.user_id)
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

    decisions = _recent_decisions(session, cohort, window)
    rolling, previous = (
        _kappas(decisions, window)
        if len(decisions)
        else (
            pd.DataFrame(columns=["kappa", "low", "high", "n"]),
            pd.Series(dtype=float),
        )
    )

    def rank(levels: set[str]) -> str | None:
        return max(levels, key=LEVEL_ORDER.index) if levels else None

    rows: list[dict[str, Any]] = []
    for user_id, username, name, group in users.itertuples(index=False):
        held = rank(credentials.get(user_id, set()))
        current = rank(practising.get(user_id, set())) or level0.id
        k = rolling.loc[user_id] if user_id in rolling.index else None
        kappa = float(k["kappa"]) if k is not None else math.nan
        before = float(previous.get(user_id, math.nan))
        trend = _arrow(kappa, before)
        if user_id in in_remediation:
            status = "remediation"
        elif (not math.isnan(kappa) and kappa < bar + AT_RISK_MARGIN) or trend == "↓":
            status = "at risk"
        elif held is not None:
            status = "certified"
        else:
            status = "on track"
        rows.append(
            {
                "user_id": int(user_id),
                "trainee": username,
                "name": name,
                "cohort": group,
                "level": held or current,
                "certified": held is not None,
                "modules_passed": int(passed.get(user_id, 0)),
                "graded": int(graded.get(user_id, 0)),
                "rolling_kappa": None if math.isnan(kappa) else kappa,
                "kappa_low": None if k is None or math.isnan(k["low"]) else float(k["low"]),
                "kappa_high": None if k is None or math.isnan(k["high"]) else float(k["high"]),
                "previous_kappa": None if math.isnan(before) else before,
                "trend": trend,
                "status": status,
                "last_activity": last.get(user_id),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["_order"] = frame["status"].map(STATUS_ORDER)
    frame = frame.sort_values(["_order", "rolling_kappa"], na_position="last", kind="stable")
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
