"""50 trainees answering at once through the service layer, each thread with its own
Session: every answer is saved exactly once, module progress loses no update, and no
"database is locked" reaches a caller. On SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from evaluator_cert.db.models import Annotation, Attempt, Grade, ModuleProgress, User
from evaluator_cert.errors import ConflictError
from evaluator_cert.runtime import AppContext
from evaluator_cert.security import hash_password
from evaluator_cert.services import attempts, overrides
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer

pytestmark = pytest.mark.slow

TRAINEES = int(os.environ.get("EVALUATOR_CERT_LOAD_TRAINEES", "50"))
ANSWERS = int(os.environ.get("EVALUATOR_CERT_LOAD_ANSWERS", "200"))


def _people(ctx: AppContext) -> tuple[Actor, list[Actor]]:
    # One hash for everyone: the test is about answers, not about argon2's cost.
    digest = hash_password("pass-word-123")
    with ctx.session() as s:
        staff = User(
            username="coach", display_name="Coach", role="instructor", password_hash=digest
        )
        trainees = [
            User(
                username=f"load{n:03d}",
                display_name=f"Load {n}",
                role="trainee",
                password_hash=digest,
            )
            for n in range(TRAINEES)
        ]
        s.add_all([staff, *trainees])
        s.commit()
        return Actor.of(staff), [Actor.of(u) for u in trainees]


def _modules_for(catalog: Any, n: int) -> list[str]:
    """Enough modules for ANSWERS answers, a different rotation per trainee to spread load."""
    ids = [m.id for m in catalog.modules]
    start = n % len(ids)
    return ids[start:] + ids[:start]


def _trainee_work(
    ctx: AppContext,
    actor: Actor,
    modules: list[str],
    seed: int,
    errors: list[BaseException],
    written: Counter[int],
    barrier: threading.Barrier,
) -> None:
    catalog = ctx.base_catalog
    rng = random.Random(seed)
    try:
        barrier.wait()
        with ctx.session() as s:
            for module_id in modules:
                if written[actor.id] >= ANSWERS:
                    return
                attempt_id = attempts.start_practice(s, actor, catalog, module_id)
                view = attempts.attempt_view(s, actor, catalog, attempt_id)
                for key in view.item_ids:
                    if written[actor.id] >= ANSWERS:
                        return
                    item = catalog.item(attempts.base_item_id(key))
                    # Perfect answers: no drift, so no remediation closes a set mid-way.
                    answer = simulated_answer(item, 1.0, rng)
                    attempts.record_answer(s, actor, catalog, attempt_id, key, answer)
                    written[actor.id] += 1
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def _run(ctx: AppContext) -> dict[str, Any]:
    catalog = ctx.base_catalog
    staff, trainees = _people(ctx)
    plans = {t.id: _modules_for(catalog, n) for n, t in enumerate(trainees)}
    with ctx.session() as s:
        for t in trainees:
            for module_id in plans[t.id]:
                # A module open already (no prerequisites) is refused: nothing to unlock.
                with contextlib.suppress(ConflictError):
                    overrides.unlock_module(
                        s, staff, catalog, t.id, module_id, "Load test: all modules open."
                    )
    errors: list[BaseException] = []
    written: Counter[int] = Counter()
    barrier = threading.Barrier(len(trainees))
    threads = [
        threading.Thread(
            target=_trainee_work, args=(ctx, t, plans[t.id], n, errors, written, barrier)
        )
        for n, t in enumerate(trainees)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"errors": errors, "written": written, "elapsed": elapsed, "trainees": trainees}


def test_concurrent_trainees_lose_nothing(ctx: AppContext) -> None:
    outcome = _run(ctx)
    errors = outcome["errors"]
    assert not errors, [repr(e) for e in errors[:5]]
    written: Counter[int] = outcome["written"]
    expected = TRAINEES * ANSWERS
    assert sum(written.values()) == expected
    with ctx.session() as s:
        stored = s.scalar(select(func.count()).select_from(Annotation))
        graded = s.scalar(select(func.count()).select_from(Grade))
        per_user = dict(
            s.execute(select(Annotation.user_id, func.count()).group_by(Annotation.user_id)).all()
        )
        assert stored == graded == expected
        assert per_user == {t.id: ANSWERS for t in outcome["trainees"]}
        # No lost update: each module's progress equals the graded answers of its attempt
        # (hidden duplicates excluded, as grading excludes them).
        mismatched = []
        for progress in s.scalars(select(ModuleProgress)):
            latest = s.scalar(
                select(Attempt.id)
                .where(
                    Attempt.user_id == progress.user_id,
                    Attempt.module_id == progress.module_id,
                    Attempt.kind == "practice",
                )
                .order_by(Attempt.id.desc())
                .limit(1)
            )
            counted = s.scalar(
                select(func.count())
                .select_from(Annotation)
                .where(
                    Annotation.attempt_id == latest,
                    Annotation.item_id.not_like(f"%{attempts.DUPLICATE_SUFFIX}"),
                )
            )
            if progress.graded_items != counted:
                mismatched.append((progress.user_id, progress.module_id))
        assert not mismatched
    rate = expected / outcome["elapsed"]
    print(
        f"\n{ctx.engine.dialect.name}: {expected} answers by {TRAINEES} concurrent trainees "
        f"in {outcome['elapsed']:.1f} s ({rate:.0f}/s), lost 0"
    )
