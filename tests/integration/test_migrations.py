"""Data migrations on a database with answers in it, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text

from evaluator_cert.db.engine import MIGRATIONS_DIR, migrate
from evaluator_cert.db.models import Annotation, TraineeRolling
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import attempts, cohort
from tests.integration.test_trainee_rolling import _practise, _user


def _alembic(ctx: AppContext) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection_engine"] = ctx.engine
    return cfg


def test_0003_recounts_graded_without_hidden_duplicates(ctx: AppContext) -> None:
    amy = _user(ctx, "amy")
    _practise(ctx, amy, "L1_M001", 0.9, seed=1)

    def counts() -> tuple[int, int, int]:
        # Plain SQL: the ORM model has columns that revision 0002 does not.
        with ctx.session() as s:
            graded = s.execute(
                text("SELECT graded FROM trainee_rolling WHERE user_id = :u"), {"u": amy.id}
            ).scalar_one()
            total = s.scalar(select(func.count()).where(Annotation.user_id == amy.id))
            dups = s.scalar(
                select(func.count()).where(
                    Annotation.user_id == amy.id,
                    Annotation.item_id.like(f"%{attempts.DUPLICATE_SUFFIX}"),
                )
            )
            return graded, total, dups

    graded, total, dups = counts()
    assert dups > 0 and graded == total - dups
    # The previous revision's count (duplicates included), then forward again.
    command.downgrade(_alembic(ctx), "0002_trainee_rolling")
    assert counts()[0] == total
    command.upgrade(_alembic(ctx), "0003_graded_without_duplicates")
    assert counts()[0] == total - dups
    migrate(ctx.engine)


def test_0004_rebuilds_the_rolling_figures_with_the_drift_rules_own(ctx: AppContext) -> None:
    amy, bob = _user(ctx, "amy"), _user(ctx, "bob")
    _practise(ctx, amy, "L1_M001", 0.9, seed=1)
    _practise(ctx, bob, "L1_M001", 0.5, seed=2)
    with ctx.session() as s:
        before = {r.user_id: r.rolling_agreement for r in s.scalars(select(TraineeRolling))}
    assert set(before) == {amy.id, bob.id} and None not in before.values()
    command.downgrade(_alembic(ctx), "0003_graded_without_duplicates")
    migrate(ctx.engine)
    with ctx.session() as s:
        assert s.scalar(select(func.count()).select_from(TraineeRolling)) == 0
        assert cohort.backfill_rolling(s, ctx.catalog()) == 2
        after = {r.user_id: r.rolling_agreement for r in s.scalars(select(TraineeRolling))}
    assert after == before
