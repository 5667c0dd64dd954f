"""Demo installation: accounts, a cohort with realistic history, credentials.

Every answer goes through the same ``record_answer`` use case as a real trainee's, with
simulated annotators, so the demo shows what the product really computes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from evaluator_cert.db.models import Attempt, User, utcnow
from evaluator_cert.errors import DomainError
from evaluator_cert.runtime import AppContext, set_meta
from evaluator_cert.services import accounts, attempts
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer

T = TypeVar("T")
Progress = Callable[[Iterable[T], int, str], Iterator[T]]

DEMO_ACCOUNTS = [
    ("admin", "admin-demo", "admin", "Alex Admin"),
    ("instructor", "instructor-demo", "instructor", "Ines Instructor"),
    ("trainee", "trainee-demo", "trainee", "Tomas Trainee"),
]
COHORT = "demo-cohort"
FIRST = [
    "Amara",
    "Bilal",
    "Chen",
    "Dana",
    "Emeka",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Viktor",
    "Wen",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Okafor",
    "Haddad",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Silva",
    "Mensah",
    "Kowalski",
    "Ahmed",
    "Rossi",
    "Nguyen",
    "Schmidt",
    "Costa",
    "Ivanova",
]


def _plain(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    yield from items


def ensure_demo_accounts(ctx: AppContext) -> list[str]:
    created = []
    with ctx.session() as session:
        for username, password, role, name in DEMO_ACCOUNTS:
            if accounts.get_user(session, username) is None:
                accounts.create_user(
                    session,
                    ctx.settings,
                    username=username,
                    password=password,
                    role=role,
                    display_name=name,
                    cohort=COHORT if role == "trainee" else None,
                )
                created.append(username)
        set_meta(session, "demo", "true")
        session.commit()
    return created


def simulate_practice(
    ctx: AppContext,
    actor: Actor,
    module_id: str,
    skill: float,
    rng: random.Random,
    *,
    start: datetime,
    limit: int | None = None,
    gap: timedelta = timedelta(minutes=2),
) -> datetime:
    """Answer a module's practice set as a simulated annotator; returns the time reached."""
    catalog = ctx.base_catalog
    now = start
    with ctx.session() as session:
        attempt_id = attempts.start_practice(session, actor, catalog, module_id, now=now)
        view = attempts.attempt_view(session, actor, catalog, attempt_id, now=now)
        todo = [i for i in view.item_ids if i not in view.answers][:limit]
        for item_id in todo:
            now += gap * rng.uniform(0.5, 1.5)
            item = catalog.item(attempts.base_item_id(item_id))
            answer = simulated_answer(item, skill, rng)
            attempts.record_answer(
                session,
                actor,
                catalog,
                attempt_id,
                item_id,
                answer,
                duration_ms=int(rng.uniform(15, 120) * 1000),
                now=now,
            )
    return now


def simulate_exam(
    ctx: AppContext, actor: Actor, level_id: str, skill: float, rng: random.Random, at: datetime
) -> attempts.ExamOutcome:
    catalog = ctx.base_catalog
    with ctx.session() as session:
        attempt_id = attempts.start_exam(session, actor, catalog, level_id, now=at)
        view = attempts.attempt_view(session, actor, catalog, attempt_id, now=at)
        now = at
        for item_id in view.item_ids:
            now += timedelta(seconds=rng.uniform(20, 70))
            answer = simulated_answer(catalog.item(item_id), skill, rng)
            attempts.record_answer(session, actor, catalog, attempt_id, item_id, answer, now=now)
        return attempts.submit_exam(session, actor, catalog, attempt_id, now=now)


def _cohort_member(ctx: AppContext, i: int, rng: random.Random) -> User:
    username = f"trainee{i:02d}" if i < 100 else f"trainee{i}"
    with ctx.session() as session:
        user = accounts.get_user(session, username)
        if user is None:
            name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
            user = accounts.create_user(
                session,
                ctx.settings,
                username=username,
                password=f"demo-{rng.getrandbits(64):x}",
                role="trainee",
                display_name=name,
                cohort=COHORT,
                check_policy=False,
            )
    return user


def seed_demo(
    ctx: AppContext,
    *,
    trainees: int = 8,
    answers_per_trainee: int | None = None,
    progress: Progress[Any] = _plain,
    seed: int = 7,
) -> dict[str, Any]:
    """Idempotent: accounts are created once, the cohort's history only on the first run."""
    if answers_per_trainee is not None:
        from evaluator_cert.services.bulk_seed import bulk_seed

        return bulk_seed(
            ctx,
            trainees=trainees,
            answers_per_trainee=answers_per_trainee,
            progress=progress,
            seed=seed,
        )
    created = ensure_demo_accounts(ctx)
    if ctx.meta("demo_history") == "true":
        return {"accounts created": len(created), "cohort": "already seeded"}
    rng = random.Random(seed)
    catalog = ctx.base_catalog
    now = utcnow()
    l1 = [m.id for m in catalog.modules_of("L1")]
    answers = 0
    certified = 0
    for i in progress(range(1, trainees + 1), trainees, "demo cohort"):
        user = _cohort_member(ctx, i, rng)
        actor = Actor.of(user)
        skill = min(0.98, max(0.45, rng.gauss(0.8, 0.12)))
        clock = now - timedelta(days=rng.uniform(20, 45))
        depth = rng.randint(1, len(l1))
        for module_id in l1[:depth]:
            # Some trainees slip over time: the drift the dashboards must show.
            drift = 0.15 if (i % 6 == 0 and module_id == l1[depth - 1]) else 0.0
            try:
                clock = simulate_practice(ctx, actor, module_id, skill - drift, rng, start=clock)
            except DomainError:
                break
            clock += timedelta(days=rng.uniform(0.5, 3))
        with ctx.session() as session:
            answers += attempts.answered_count(session, user.id)
        if depth == len(l1) and skill > 0.8:
            try:
                outcome = simulate_exam(ctx, actor, "L1", skill, rng, clock + timedelta(days=1))
                certified += int(outcome.passed)
            except DomainError:
                pass
    demo = _demo_trainee_history(ctx, rng, now)
    calibration = _demo_calibration(ctx, rng, now)
    from evaluator_cert.services.credentials import issue_demo_credentials

    credentials = issue_demo_credentials(ctx, now=now)
    with ctx.session() as session:
        set_meta(session, "demo_history", "true")
        session.commit()
    return {
        "accounts created": len(created),
        "cohort trainees": trainees,
        "answers": answers + demo,
        "L1 certified by exam": certified,
        "calibration sessions": calibration,
        "demo credentials": ", ".join(f"{n} {status}" for status, n in credentials.items()),
    }


def _demo_calibration(ctx: AppContext, rng: random.Random, now: datetime) -> int:
    """A published calibration session, and an open one the demo trainee can still take."""
    from evaluator_cert.services import calibration

    catalog = ctx.base_catalog
    items = [i.id for i in catalog.calibration_batch("L1")]
    with ctx.session() as session:
        instructor = Actor.of(accounts.get_user(session, "instructor"))  # type: ignore[arg-type]
        members = session.scalars(
            select(User).where(User.cohort == COHORT, User.role == "trainee")
        ).all()
        participants = [Actor.of(u) for u in members]
        published = calibration.create_session(
            session,
            instructor,
            catalog,
            level_id="L1",
            title="Week 1: sentiment and intent",
            item_ids=items[:8],
            user_ids=[a.id for a in participants],
            now=now - timedelta(days=7),
        )
        for actor in participants:
            if actor.username == "trainee":
                continue
            skill = rng.uniform(0.5, 0.9)
            attempt_id = calibration.start_calibration(session, actor, catalog, published)
            for item_id in items[:8]:
                answer = simulated_answer(catalog.item(item_id), skill, rng)
                calibration.answer_calibration(session, actor, catalog, attempt_id, item_id, answer)
        for item_id in items[:8]:
            item = catalog.item(item_id)
            calibration.save_note(
                session,
                instructor,
                catalog,
                published,
                item_id,
                f"Discussed in the group review. {item.contested or item.explanation}",
            )
        calibration.publish(session, instructor, published, now=now - timedelta(days=6))
        calibration.create_session(
            session,
            instructor,
            catalog,
            level_id="L1",
            title="Week 2: rubric anchors",
            item_ids=items[8:16],
            user_ids=[a.id for a in participants],
            now=now - timedelta(days=1),
        )
    return 2


def _demo_trainee_history(ctx: AppContext, rng: random.Random, now: datetime) -> int:
    """The demo trainee has passed the first module and is midway through the second."""
    catalog = ctx.base_catalog
    with ctx.session() as session:
        user = accounts.get_user(session, "trainee")
        assert user is not None
        actor = Actor.of(user)
        done = session.scalar(select(Attempt.id).where(Attempt.user_id == user.id).limit(1))
    if done:
        return 0
    first, second = (m.id for m in catalog.modules_of("L1")[:2])
    clock = simulate_practice(ctx, actor, first, 0.9, rng, start=now - timedelta(days=6))
    simulate_practice(ctx, actor, second, 0.85, rng, start=clock + timedelta(days=2), limit=12)
    with ctx.session() as session:
        return attempts.answered_count(session, user.id)
