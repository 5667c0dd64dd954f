"""seed-demo: the accounts, a cohort with history, calibration and credentials; idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from evaluator_cert.db.models import Annotation, CalibrationSession, Credential, User, utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.credentials import credential_status
from evaluator_cert.services.demo import DEMO_ACCOUNTS, seed_demo


def _counts(ctx: AppContext) -> tuple[int, int, int, int]:
    with ctx.session() as s:
        return (
            s.scalar(select(func.count()).select_from(User)),
            s.scalar(select(func.count()).select_from(Annotation)),
            s.scalar(select(func.count()).select_from(CalibrationSession)),
            s.scalar(select(func.count()).select_from(Credential)),
        )


def test_seed_demo_builds_a_usable_demo_once(sqlite_ctx: AppContext) -> None:
    ctx = sqlite_ctx
    summary = seed_demo(ctx, trainees=2)
    assert summary["cohort trainees"] == 2
    assert ctx.is_demo()
    with ctx.session() as s:
        for username, password, role, _ in DEMO_ACCOUNTS:
            assert accounts.authenticate(s, ctx.settings, username, password).role == role
        statuses = {credential_status(c, utcnow()) for c in s.scalars(select(Credential))}
        published = s.scalar(select(func.count()).where(CalibrationSession.status == "published"))
    assert {"active", "revoked", "expired"} <= statuses
    assert published == 1
    first = _counts(ctx)
    assert first[1] > 0
    again = seed_demo(ctx, trainees=2)
    assert again["cohort"] == "already seeded"
    assert _counts(ctx) == first
