"""Data migrations on a database with answers in it, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from evaluator_cert.db.engine import MIGRATIONS_DIR, migrate
from evaluator_cert.db.models import Annotation, TraineeRolling
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import attempts
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
        with ctx.session() as s:
            row = s.get(TraineeRolling, amy.id)
            assert row is not None
            total = s.scalar(select(func.count()).where(Annotation.user_id == amy.id))
            dups = s.scalar(
                select(func.count()).where(
                    Annotation.user_id == amy.id,
                    Annotation.item_id.like(f"%{attempts.DUPLICATE_SUFFIX}"),
                )
            )
            return row.graded, total, dups

    graded, total, dups = counts()
    assert dups > 0 and graded == total - dups
    # The previous revision's count (duplicates included), then forward again.
    command.downgrade(_alembic(ctx), "0002_trainee_rolling")
    assert counts()[0] == total
    migrate(ctx.engine)
    assert counts()[0] == total - dups
