"""The maintained per-trainee rolling summary (``trainee_rolling``) holds exactly what the
cohort view used to derive from stored grades: after answers, after a regrade, for trainees
answering before the summary existed, and for a bulk-seeded cohort; on both backends."""

from __future__ import annotations

import random
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from evaluator_cert.content.schema import ClassificationItem
from evaluator_cert.db.models import Annotation, TraineeRolling, User, utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import (
    accounts,
    attempts,
    cohort,
    disputes,
    overrides,
    trainee_stats,
)
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.bulk_seed import bulk_seed
from evaluator_cert.simulation import simulated_answer
from tests.conftest import statements_run

PASSWORD = "pass-word-123"


def _user(ctx: AppContext, name: str, role: str = "trainee", group: str | None = "spring") -> Actor:
    with ctx.session() as s:
        user = accounts.create_user(
            s, ctx.settings, username=name, password=PASSWORD, role=role, cohort=group
        )
    return Actor.of(user)


def _practise(ctx: AppContext, actor: Actor, module_id: str, skill: float, seed: int) -> None:
    catalog = ctx.base_catalog
    rng = random.Random(seed)
    now = utcnow() - timedelta(hours=3) + timedelta(minutes=seed)
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id, now=now)
        view = attempts.attempt_view(s, actor, catalog, attempt_id, now=now)
        for key in view.item_ids:
            now += timedelta(seconds=7)
            item = catalog.item(attempts.base_item_id(key))
            try:
                attempts.record_answer(
                    s, actor, catalog, attempt_id, key, simulated_answer(item, skill, rng), now=now
                )
            except Exception as exc:  # drift into remediation closes the set
                if "closed" not in str(exc):
                    raise
                break


def _frames(ctx: AppContext, boss: Actor) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(from the summary, recomputed from stored grades), rows in the same order."""
    catalog = ctx.catalog()
    with ctx.session() as s:
        kept = cohort.cohort_frame(s, boss, catalog)
        derived = cohort.cohort_frame(s, boss, catalog, recompute=True)
    return (
        kept.sort_values("user_id").reset_index(drop=True),
        derived.sort_values("user_id").reset_index(drop=True),
    )


def _assert_same(kept: pd.DataFrame, derived: pd.DataFrame) -> None:
    assert list(kept.columns) == cohort.COLUMNS
    figures = ("rolling_agreement", "previous_agreement", "rolling_kappa", "kappa_low",
               "kappa_high", "previous_kappa")  # fmt: skip
    exact = [c for c in cohort.COLUMNS if c not in (*figures, "last_activity")]
    pd.testing.assert_frame_equal(kept[exact], derived[exact])
    for column in figures:
        a = pd.to_numeric(kept[column], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(derived[column], errors="coerce").to_numpy(dtype=float)
        assert a == pytest.approx(b, nan_ok=True, abs=1e-12), column
    assert list(pd.to_datetime(kept["last_activity"], utc=True)) == list(
        pd.to_datetime(derived["last_activity"], utc=True)
    )


def test_summary_follows_answers_and_matches_recomputation(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    boss = _user(ctx, "ivy", "instructor", None)
    skills = {"amy": 0.95, "bob": 0.4, "cat": 0.8}
    actors = {n: _user(ctx, n) for n in skills}
    _user(ctx, "dan", group="autumn")  # no answers: no figures, no row needed
    for n, (name, skill) in enumerate(skills.items()):
        with ctx.session() as s:
            overrides.unlock_module(s, boss, catalog, actors[name].id, "L1_M004", "Fast track.")
        for k, module in enumerate(("L1_M001", "L1_M004", "L1_M001")):
            _practise(ctx, actors[name], module, skill, seed=10 * n + k)
    kept, derived = _frames(ctx, boss)
    _assert_same(kept, derived)
    by_name = kept.set_index("trainee")
    assert by_name.loc["amy", "rolling_kappa"] > by_name.loc["bob", "rolling_kappa"]
    assert by_name.loc["amy", "graded"] > catalog.levels[0].drift_window
    assert by_name.loc["dan", "graded"] == 0 and pd.isna(by_name.loc["dan", "rolling_kappa"])
    with ctx.session() as s:
        rows = {r.user_id: r for r in s.scalars(select(TraineeRolling))}
        answers = s.scalar(
            select(func.count())
            .select_from(Annotation)
            .where(Annotation.user_id == actors["amy"].id)
        )
        duplicates = s.scalar(
            select(func.count()).where(
                Annotation.user_id == actors["amy"].id,
                Annotation.item_id.like(f"%{attempts.DUPLICATE_SUFFIX}"),
            )
        )
        own = trainee_stats.trainee_dashboard(s, actors["amy"], ctx.catalog())
    assert set(rows) == {a.id for a in actors.values()}
    # Re-served duplicates are counted once, as on the trainee's own dashboard.
    assert duplicates > 0
    assert rows[actors["amy"].id].graded == answers - duplicates == own.graded
    assert by_name.loc["amy", "graded"] == own.graded
    # The instructor sees the figure the trainee sees and the drift rule decides on.
    assert own.rolling is not None
    assert by_name.loc["amy", "rolling_agreement"] == pytest.approx(own.rolling, abs=1e-12)


def test_a_practice_answer_costs_at_most_nine_statements(ctx: AppContext) -> None:
    """Recording an answer runs on every click: its reads come back in few queries and its
    writes in one flush (the attempt, the module's progress, the summary)."""
    catalog = ctx.base_catalog
    amy = _user(ctx, "amy")
    _practise(ctx, amy, "L1_M001", 0.9, seed=1)  # the summary row exists from now on
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, amy, catalog, "L1_M001")
        first, second = attempts.attempt_view(s, amy, catalog, attempt_id).item_ids[:2]
        answers = {
            key: simulated_answer(catalog.item(attempts.base_item_id(key)), 0.9, random.Random(2))
            for key in (first, second)
        }
        attempts.record_answer(s, amy, catalog, attempt_id, first, answers[first])
    with ctx.session() as s, statements_run(ctx.engine) as sent:
        view = attempts.record_answer(s, amy, catalog, attempt_id, second, answers[second])
    assert view.item_id == second
    reads = [q for q in sent if q.lstrip().upper().startswith("SELECT")]
    writes = [q for q in sent if not q.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 4, reads  # the attempt, its answers, progress + summary, recent
    # The answer and its grade; then the attempt, progress and summary rows, each updated
    # only if a figure moved (an unchanged attempt figure needs no statement).
    assert [q.split()[2] for q in writes[:2]] == ["annotations", "grades"], writes
    assert 3 <= len(writes) <= 5, writes
    # Answering it again is a read, not a write: the first answer stands.
    with ctx.session() as s, statements_run(ctx.engine) as again:
        again_view = attempts.record_answer(s, amy, catalog, attempt_id, second, {})
    assert again_view == view
    assert all(q.lstrip().upper().startswith("SELECT") for q in again)


def test_trainees_without_a_summary_row_are_computed_and_refreshed(ctx: AppContext) -> None:
    boss = _user(ctx, "ivy", "instructor", None)
    amy, bob = _user(ctx, "amy"), _user(ctx, "bob")
    _practise(ctx, amy, "L1_M001", 0.9, seed=1)
    _practise(ctx, bob, "L1_M001", 0.6, seed=2)
    before, _ = _frames(ctx, boss)
    with ctx.session() as s:  # as a database from before the summary existed
        s.execute(delete(TraineeRolling).where(TraineeRolling.user_id == amy.id))
        s.commit()
    kept, derived = _frames(ctx, boss)
    _assert_same(kept, derived)
    _assert_same(kept, before)
    with ctx.session() as s:
        attempts.refresh_rolling(s, amy.id, ctx.catalog())
        s.commit()
        assert s.get(TraineeRolling, amy.id) is not None
        s.execute(delete(TraineeRolling))
        s.commit()
        assert cohort.backfill_rolling(s, ctx.catalog()) == 2
        assert cohort.backfill_rolling(s, ctx.catalog()) == 0
    _assert_same(_frames(ctx, boss)[0], before)


def test_accepted_dispute_refreshes_the_summary(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy, bob = _user(ctx, "amy"), _user(ctx, "bob")
    for n, actor in enumerate((amy, bob)):
        _practise(ctx, actor, "L1_M001", 0.9, seed=n)
    before, _ = _frames(ctx, ivy)
    items = [i for i in catalog.practice_items("L1_M001") if isinstance(i, ClassificationItem)]
    item = items[0]
    new_gold = next(lab for lab in item.labels if lab != item.gold)
    with ctx.session() as s:
        dispute = disputes.open_dispute(s, amy, catalog, item.id, "The text is plainly " + new_gold)
        disputes.accept_dispute(s, ivy, catalog, dispute.id, new_gold, "Corrected, thank you.")
    kept, derived = _frames(ctx, ivy)
    _assert_same(kept, derived)
    # The regrade moved the figures the summary holds (the old gold was answered mostly).
    assert not kept["rolling_kappa"].equals(before["rolling_kappa"])


def test_bulk_seed_writes_the_summary(ctx: AppContext) -> None:
    bulk_seed(ctx, trainees=12, answers_per_trainee=140, cohort_size=6)
    with ctx.session() as s:
        boss = Actor.of(s.scalar(select(User).where(User.username == "instructor")))
        trainees = s.scalar(select(func.count()).where(User.username.like("trainee0%")))
        summarised = s.scalar(
            select(func.count())
            .select_from(TraineeRolling)
            .join(User, User.id == TraineeRolling.user_id)
            .where(User.username.like("trainee0%"))
        )
    assert summarised == trainees == 12
    kept, derived = _frames(ctx, boss)
    _assert_same(kept, derived)
    assert kept["previous_kappa"].notna().any()  # some trainees answered two windows' worth
    assert kept["previous_agreement"].notna().any()
