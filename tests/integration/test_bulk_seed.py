"""The bulk-seeded cohort is what the real use cases would have written, on both backends."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from evaluator_cert import grading
from evaluator_cert.db.models import (
    Annotation,
    Attempt,
    CalibrationSession,
    Credential,
    Grade,
    ModuleProgress,
    Remediation,
    User,
    utcnow,
)
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import attempts
from evaluator_cert.services.bulk_seed import (
    AnswerBank,
    RollingWindow,
    Tally,
    Variant,
    bulk_seed,
)
from evaluator_cert.services.credentials import verify_token

TRAINEES = 40
ANSWERS = 90


@pytest.fixture
def seeded(ctx: AppContext) -> tuple[AppContext, dict]:
    summary = bulk_seed(ctx, trainees=TRAINEES, answers_per_trainee=ANSWERS, cohort_size=20)
    return ctx, summary


def test_counts_and_idempotence(seeded: tuple[AppContext, dict]) -> None:
    ctx, summary = seeded
    with ctx.session() as s:
        trainees = s.scalar(
            select(func.count()).where(User.role == "trainee", User.username.like("trainee0%"))
        )
        per_user = dict(
            s.execute(
                select(Annotation.user_id, func.count())
                .join(Attempt, Attempt.id == Annotation.attempt_id)
                .where(Attempt.kind != "calibration")
                .group_by(Annotation.user_id)
            ).all()
        )
        cohorts = set(s.scalars(select(User.cohort).where(User.username.like("trainee0%"))))
    assert trainees == TRAINEES
    assert max(per_user.values()) <= ANSWERS
    assert sum(per_user.values()) == summary["answers"]
    # Nearly every trainee spends the whole budget (only exam rules or the clock stop one).
    assert summary["answers"] > 0.9 * TRAINEES * ANSWERS
    assert cohorts == {"cohort-01", "cohort-02"}
    again = bulk_seed(ctx, trainees=TRAINEES, answers_per_trainee=ANSWERS)
    assert again["cohort"] == "already seeded"
    with ctx.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == trainees + 3


def test_every_grade_is_what_grade_item_returns(seeded: tuple[AppContext, dict]) -> None:
    ctx, _ = seeded
    catalog = ctx.base_catalog
    with ctx.session() as s:
        rows = s.execute(
            select(Annotation.item_id, Annotation.answer, Grade).join(
                Grade, Grade.annotation_id == Annotation.id
            )
        ).all()
    assert len(rows) > 1000
    for item_id, answer, grade in random.Random(3).sample(rows, 400):
        fresh = grading.grade_item(catalog.item(attempts.base_item_id(item_id)), answer)
        assert grade.score == fresh.score
        assert grade.correct == fresh.correct
        assert grade.pending_review == fresh.pending_review
        stored = attempts.grade_from_row(fresh.item_id, fresh.task_type, grade)
        assert stored == fresh


def test_module_progress_matches_grade_attempt(seeded: tuple[AppContext, dict]) -> None:
    """Each open or last attempt's statistic is grade_attempt's over its stored grades."""
    ctx, _ = seeded
    catalog = ctx.base_catalog
    checked = passed = 0
    with ctx.session() as s:
        progress = {
            (p.user_id, p.module_id): p
            for p in s.scalars(select(ModuleProgress).where(ModuleProgress.graded_items > 0))
        }
        latest: dict[tuple[int, str], Attempt] = {}
        for a in s.scalars(select(Attempt).where(Attempt.kind == "practice").order_by(Attempt.id)):
            latest[(a.user_id, a.module_id)] = a  # type: ignore[index]
        for key, p in progress.items():
            attempt = latest[key]
            grades = attempts._attempt_grades(s, attempt.id, catalog)
            result = grading.grade_attempt(grades, catalog.module(p.module_id).gate)
            assert p.graded_items == result.n_items
            if result.statistic is None:
                assert p.agreement is None
            else:
                assert p.agreement == pytest.approx(result.statistic, abs=1e-9)
            if attempt.status == "submitted" and attempt.result is not None:
                assert attempt.passed == result.passed
                assert attempt.result["reason"] == result.reason
            checked += 1
            passed += p.passed_at is not None
    assert checked > TRAINEES
    assert 0 < passed < checked


def test_skills_spread_and_some_drift(seeded: tuple[AppContext, dict]) -> None:
    ctx, summary = seeded
    with ctx.session() as s:
        agreements = [
            a
            for a in s.scalars(select(ModuleProgress.agreement))
            if a is not None  # type: ignore[comparison-overlap]
        ]
        remediations = s.scalars(select(Remediation)).all()
    assert min(agreements) < 0.6 < 0.9 < max(agreements)
    assert summary["in remediation"] == sum(r.released_at is None for r in remediations)
    assert remediations, "some trainees drift below the bar"
    assert all("below 0.70" in r.reason for r in remediations)


def test_credentials_are_signed_and_verify(seeded: tuple[AppContext, dict]) -> None:
    ctx, summary = seeded
    with ctx.session() as s:
        creds = s.scalars(select(Credential)).all()
        exams = s.scalars(select(Attempt).where(Attempt.kind == "exam", Attempt.passed)).all()
        assert len(creds) == len(exams) == summary["credentials"]
        for c in creds[:5]:
            result = verify_token(s, ctx.settings, c.jwt, utcnow())
            assert result.valid, result
        sessions = s.scalars(select(CalibrationSession)).all()
        assert len(sessions) == summary["calibration sessions"] == 2
        latest = s.scalar(select(func.max(Annotation.created_at)))
    assert latest is not None and latest < utcnow() + timedelta(seconds=1)


def test_planner_statistics_are_fresh_after_the_load(seeded: tuple[AppContext, dict]) -> None:
    # Without ANALYZE, PostgreSQL plans per-trainee queries as for near-empty tables.
    ctx, _ = seeded
    with ctx.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = 'annotations'::regclass"
            ).scalar_one()
        else:
            rows = conn.exec_driver_sql(
                "SELECT CAST(substr(stat, 1, instr(stat, ' ') - 1) AS INTEGER) "
                "FROM sqlite_stat1 WHERE tbl = 'annotations' LIMIT 1"
            ).scalar_one()
        answers = conn.execute(select(func.count()).select_from(Annotation)).scalar_one()
        if conn.dialect.name == "postgresql":
            # Vacuumed too: the load's pages are marked all-visible.
            visible = conn.exec_driver_sql(
                "SELECT relallvisible FROM pg_class WHERE oid = 'annotations'::regclass"
            ).scalar_one()
            assert visible > 0
    assert rows > answers / 2  # the load, not the few calibration answers written after it


def test_bulk_seed_needs_enough_budget_for_exams(ctx: AppContext) -> None:
    """With the budget under one practice set nobody reaches an exam or a credential."""
    summary = bulk_seed(ctx, trainees=5, answers_per_trainee=10)
    assert summary["credentials"] == 0
    assert summary["answers"] == 50


# ------------------------------------------------------------- the running statistics


def _variants(ctx: AppContext, module: str, skill: float, n: int, seed: int) -> list[Variant]:
    bank = AnswerBank(ctx.base_catalog, seed)
    rng = random.Random(seed)
    items = [i.id for i in ctx.base_catalog.practice_items(module)]
    return [bank.pick(rng.choice(items), skill, rng) for _ in range(n)]


@pytest.mark.parametrize("module", ["L1_M001", "L1_M002", "L1_M004", "L3_M203"])
@pytest.mark.parametrize("skill", [0.45, 0.75, 0.95])
def test_tally_equals_grade_attempt(sqlite_ctx: AppContext, module: str, skill: float) -> None:
    rule = sqlite_ctx.base_catalog.module(module).gate
    variants = _variants(sqlite_ctx, module, skill, 27, seed=int(skill * 100))
    tally = Tally()
    for n, v in enumerate(variants, 1):
        tally.add(v)
        result = grading.grade_attempt([x.grade for x in variants[:n]], rule)
        value = tally.statistic(rule.metric)
        if result.statistic is None:
            assert value is None
        else:
            assert value == pytest.approx(result.statistic, abs=1e-12)
        assert grading.gate_decision(n, value, rule) == (result.passed, result.reason)


def test_rolling_window_equals_rolling_agreement(sqlite_ctx: AppContext) -> None:
    mixed: list[Variant] = []
    for module in ("L1_M001", "L1_M002", "L1_M003", "L3_M203"):
        mixed += _variants(sqlite_ctx, module, 0.7, 40, seed=len(mixed))
    random.Random(5).shuffle(mixed)
    window = RollingWindow(50)
    history: list[grading.ItemGrade] = []
    by_step: dict[int, float | None] = defaultdict(lambda: None)
    for step, v in enumerate(mixed):
        window.push(v)
        history.append(v.grade)
        expected = grading.rolling_agreement(history, 50)
        by_step[step] = window.agreement()
        if expected is None:
            assert by_step[step] is None
        else:
            assert by_step[step] == pytest.approx(expected, abs=1e-12)
