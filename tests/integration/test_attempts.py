"""Practice, gating, exams and remediation through the service layer, on both databases."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from evaluator_cert.content.schema import GateRule
from evaluator_cert.db.models import Annotation, ModuleProgress, Remediation, utcnow
from evaluator_cert.errors import (
    AttemptClosedError,
    InvalidInputError,
    NotAllowedError,
    NotEligibleError,
)
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts, attempts
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer
from tests.conftest import statements_run


def _trainee(ctx: AppContext, name: str = "tina") -> Actor:
    with ctx.session() as s:
        user = accounts.create_user(
            s, ctx.settings, username=name, password="pass-word-123", role="trainee"
        )
    return Actor.of(user)


def _answer_all(ctx, actor, module_id, skill, *, now=None, limit=None, seed=1):
    catalog = ctx.base_catalog
    rng = random.Random(seed)
    now = now or utcnow()
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id, now=now)
        view = attempts.attempt_view(s, actor, catalog, attempt_id, now=now)
        for key in view.item_ids[:limit]:
            now += timedelta(seconds=30)
            item = catalog.item(attempts.base_item_id(key))
            try:
                attempts.record_answer(
                    s, actor, catalog, attempt_id, key, simulated_answer(item, skill, rng), now=now
                )
            except AttemptClosedError:  # remediation reassigned this module mid-set
                break
    return attempt_id, now


def test_first_module_open_others_locked_with_reasons(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    with ctx.session() as s:
        overview = attempts.trainee_overview(s, actor, catalog)
    first = catalog.modules_of("L1")[0]
    assert overview.modules[first.id].open
    locked = [m for m in catalog.modules_of("L1") if m.prerequisites]
    assert locked and not overview.modules[locked[0].id].open
    assert "opens when you pass" in overview.modules[locked[0].id].reason
    l2 = catalog.modules_of("L2")[0]
    assert overview.modules[l2.id].reason == f"{l2.id} opens when L1 Foundation is certified."
    assert "opens when all" in overview.exams["L1"].reason
    with ctx.session() as s, pytest.raises(NotEligibleError):
        attempts.start_practice(s, actor, catalog, locked[0].id)


def test_standing_reads_the_record_once_and_agrees_with_its_parts(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    module_id = catalog.modules_of("L1")[0].id
    _answer_all(ctx, actor, module_id, 1.0)
    now = utcnow()
    with ctx.session() as s, statements_run(ctx.engine) as alone:
        record = attempts.trainee_record(s, actor.id, catalog)
    with ctx.session() as s, statements_run(ctx.engine) as both:
        standing = attempts.trainee_standing(s, actor, catalog, now=now)
    with ctx.session() as s:
        overview = attempts.trainee_overview(s, actor, catalog, now=now)
    assert standing == (record, overview)
    assert module_id in record.passed_modules  # the parts hold something to compare
    assert len(both) == len(alone)  # the overview is derived, not read again


def test_practice_answers_are_saved_graded_and_resume(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    module_id = catalog.modules_of("L1")[0].id
    attempt_id, _ = _answer_all(ctx, actor, module_id, 1.0, limit=5)
    # A new session (a reload, a restart) finds the same attempt and the five answers.
    with ctx.session() as s:
        assert attempts.start_practice(s, actor, catalog, module_id) == attempt_id
        view = attempts.attempt_view(s, actor, catalog, attempt_id)
    assert view.answered == 5
    assert view.next_item_id == view.item_ids[5]
    first = view.answers[view.item_ids[0]]
    assert first.correct and first.feedback and "explanation" in first.feedback


def test_module_passes_with_enough_agreement_and_opens_the_next(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    first = catalog.modules_of("L1")[0]
    _answer_all(ctx, actor, first.id, 0.97, seed=3)
    with ctx.session() as s:
        progress = s.scalar(select(ModuleProgress).where(ModuleProgress.user_id == actor.id))
        overview = attempts.trainee_overview(s, actor, catalog)
    assert progress.passed_at is not None and progress.agreement >= first.gate.threshold
    dependants = [m for m in catalog.modules_of("L1") if m.prerequisites == (first.id,)]
    assert dependants and overview.modules[dependants[0].id].open


def test_low_agreement_does_not_pass(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    first = catalog.modules_of("L1")[0]
    _answer_all(ctx, actor, first.id, 0.3, seed=5)
    with ctx.session() as s:
        progress = s.scalar(select(ModuleProgress).where(ModuleProgress.user_id == actor.id))
    assert progress.passed_at is None
    assert progress.graded_items >= first.gate.min_items


def test_repeated_answer_is_idempotent_and_foreign_attempts_refused(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    other = _trainee(ctx, "otto")
    module_id = catalog.modules_of("L1")[0].id
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id)
        key = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids[0]
        item = catalog.item(attempts.base_item_id(key))
        right = simulated_answer(item, 1.0, random.Random(0))
        wrong = simulated_answer(item, 0.0, random.Random(0))
        first = attempts.record_answer(s, actor, catalog, attempt_id, key, right)
        again = attempts.record_answer(s, actor, catalog, attempt_id, key, wrong)
        assert again.answer == first.answer and again.correct == first.correct
        count = s.scalar(select(func.count()).where(Annotation.attempt_id == attempt_id))
        assert count == 1
        with pytest.raises(NotAllowedError):
            attempts.record_answer(s, other, catalog, attempt_id, key, right)
        with pytest.raises(NotAllowedError):
            attempts.attempt_view(s, other, catalog, attempt_id)
        with pytest.raises(NotAllowedError):
            attempts.record_answer(s, actor, catalog, attempt_id, "L3_X001", right)


def test_malformed_answer_is_refused_with_a_message(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    module_id = catalog.modules_of("L1")[0].id
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id)
        key = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids[0]
        with pytest.raises(InvalidInputError):
            attempts.record_answer(s, actor, catalog, attempt_id, key, {"nonsense": 1})


def test_hidden_duplicates_are_served_but_do_not_count(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    module_id = catalog.modules_of("L1")[0].id
    attempt_id, _ = _answer_all(ctx, actor, module_id, 1.0)
    with ctx.session() as s:
        view = attempts.attempt_view(s, actor, catalog, attempt_id)
        progress = s.scalar(select(ModuleProgress).where(ModuleProgress.user_id == actor.id))
    dups = [k for k in view.item_ids if attempts.is_duplicate(k)]
    assert len(dups) == attempts.HIDDEN_DUPLICATES
    assert progress.graded_items == len(view.item_ids) - len(dups)
    assert view.status == "submitted"


def _pass_level_modules(ctx, actor, level_id, now):
    for module in ctx.base_catalog.modules_of(level_id):
        _, now = _answer_all(ctx, actor, module.id, 1.0, now=now)
    return now


def test_exam_gate_attempts_cooldown_and_time_limit(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    now = _pass_level_modules(ctx, actor, "L1", utcnow() - timedelta(days=10))
    level = catalog.level("L1")
    with ctx.session() as s:
        attempt_id = attempts.start_exam(s, actor, catalog, "L1", now=now)
        view = attempts.attempt_view(s, actor, catalog, attempt_id, now=now)
        assert len(view.item_ids) == level.exam.form_size
        # Exam answers carry no gold or explanation.
        key = view.item_ids[0]
        saved = attempts.record_answer(
            s,
            actor,
            catalog,
            attempt_id,
            key,
            simulated_answer(catalog.item(key), 0.0, random.Random(1)),
            now=now,
        )
        assert saved.feedback is None
        # Past the limit the server closes it with what was saved.
        late = now + timedelta(minutes=level.exam.time_limit_minutes + 1)
        with pytest.raises(AttemptClosedError):
            attempts.record_answer(
                s,
                actor,
                catalog,
                attempt_id,
                view.item_ids[1],
                simulated_answer(catalog.item(view.item_ids[1]), 1.0, random.Random(1)),
                now=late,
            )
        closed = attempts.attempt_view(s, actor, catalog, attempt_id, now=late)
        assert closed.status == "submitted" and closed.passed is False
        assert closed.result["timed_out"] is True
        # Cooldown: 24 h after the attempt ended.
        overview = attempts.trainee_overview(s, actor, catalog, now=late + timedelta(hours=1))
        assert overview.exams["L1"].reason.startswith("Exam cooldown ends in")
        with pytest.raises(NotEligibleError):
            attempts.start_exam(s, actor, catalog, "L1", now=late + timedelta(hours=1))
        # Two more attempts in the window, then the window is used up.
        t = late
        for _ in range(level.exam.max_attempts - 1):
            t += timedelta(hours=level.exam.cooldown_hours + 1)
            a = attempts.start_exam(s, actor, catalog, "L1", now=t)
            attempts.submit_exam(s, actor, catalog, a, now=t + timedelta(minutes=1))
        t += timedelta(hours=level.exam.cooldown_hours + 1)
        overview = attempts.trainee_overview(s, actor, catalog, now=t)
        assert not overview.exams["L1"].open
        assert (
            f"used {level.exam.max_attempts} of {level.exam.max_attempts}"
            in overview.exams["L1"].reason
        )


def test_drift_starts_remediation_and_passing_again_releases_it(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    modules = catalog.modules_of("L1")
    now = utcnow() - timedelta(days=5)
    _, now = _answer_all(ctx, actor, modules[0].id, 1.0, now=now)
    # Then a long poor stretch: rolling agreement over the last 50 falls below 0.70.
    open_next = [m for m in modules if m.prerequisites == (modules[0].id,)]
    for module in open_next[:2]:
        _, now = _answer_all(ctx, actor, module.id, 0.2, now=now, seed=9)
    with ctx.session() as s:
        remediation = s.scalar(select(Remediation).where(Remediation.user_id == actor.id))
        assert remediation is not None and remediation.released_at is None
        record = attempts.trainee_record(s, actor.id, catalog)
        overview = attempts.trainee_overview(s, actor, catalog)
    assert record.remediation_modules
    assert "remediation" in overview.exams["L1"].reason
    assert overview.next_step.startswith("Remediation")
    # Passing every reassigned module again (prerequisites first) releases the trainee.
    for _ in range(3):
        for module in modules:
            with ctx.session() as s:
                record = attempts.trainee_record(s, actor.id, catalog)
                gate = attempts.trainee_overview(s, actor, catalog).modules[module.id]
            if record.remediation_modules and module.id in record.remediation_modules and gate.open:
                _, now = _answer_all(ctx, actor, module.id, 1.0, now=now + timedelta(hours=1))
    with ctx.session() as s:
        record = attempts.trainee_record(s, actor.id, catalog)
        released = s.scalar(select(Remediation).where(Remediation.user_id == actor.id))
    assert released.released_at is not None
    assert record.remediation_modules is None


def test_remediation_keeps_the_open_set_and_the_curriculum_open(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    actor = _trainee(ctx)
    modules = catalog.modules_of("L1")
    now = utcnow() - timedelta(days=5)
    _, now = _answer_all(ctx, actor, modules[0].id, 1.0, now=now)
    with ctx.session() as s:
        before = attempts.trainee_overview(s, actor, catalog)
    opened = {m for m, gate in before.modules.items() if gate.open}
    # Poor answers, one at a time, until drift starts remediation mid-set.
    rng = random.Random(3)
    remediation = None
    with ctx.session() as s:
        for module in [m for m in modules if m.id in opened and m.id != modules[0].id]:
            attempt_id = attempts.start_practice(s, actor, catalog, module.id, now=now)
            keys = attempts.attempt_view(s, actor, catalog, attempt_id, now=now).item_ids
            answered = 0
            for key in keys:
                answered += 1
                now += timedelta(seconds=30)
                item = catalog.item(attempts.base_item_id(key))
                answer = simulated_answer(item, 0.1, rng)
                attempts.record_answer(s, actor, catalog, attempt_id, key, answer, now=now)
                remediation = s.scalar(select(Remediation).where(Remediation.user_id == actor.id))
                if remediation is not None:
                    break
            if remediation is not None:
                break
        assert remediation is not None, "no drift: the poor stretch was too short"
        view = attempts.attempt_view(s, actor, catalog, attempt_id, now=now)
        overview = attempts.trainee_overview(s, actor, catalog, now=now)
    # The set in progress stays open with every answer in it.
    assert view.status == "open" and view.answered == answered
    # Every reassigned module is open; what was open before stays open.
    for module_id in remediation.module_ids:
        assert overview.modules[module_id].open, overview.modules[module_id].reason
        assert not overview.modules[module_id].passed
    assert opened <= {m for m, gate in overview.modules.items() if gate.open}
    # The reason never reads as "0.70 is below 0.70".
    figure = re.search(r"Rolling agreement (\S+) over", remediation.reason)
    assert figure is not None and float(figure.group(1)) < 0.70


def test_stratified_exam_form_covers_every_task_type() -> None:
    from evaluator_cert.content.catalog import load_catalog

    catalog = load_catalog()
    bank = catalog.exam_bank("L1")
    form = attempts.draw_exam_form(bank, 30, seed=4)
    assert len(form) == len(set(form)) == 30
    assert {catalog.item(i).type for i in form} == {i.type for i in bank}
    assert GateRule().threshold == 0.70
