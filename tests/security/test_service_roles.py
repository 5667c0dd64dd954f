"""Every service use case x every role: the allowed roles get through, the rest are refused
with a NotAllowedError whose message is one clear sentence. Plus ownership of attempts.

The matrix is checked against the services package itself: a new public function that
takes an ``actor`` and is not in CASES fails ``test_every_use_case_is_in_the_matrix``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import evaluator_cert.services as services_pkg
from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.db.models import Annotation, Attempt, User, utcnow
from evaluator_cert.errors import AttemptClosedError, DomainError, NotAllowedError
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import (
    accounts,
    attempts,
    audit,
    calibration,
    cohort,
    credentials,
    demo,
    disputes,
    gold,
    item_stats,
    overrides,
    reviews,
    trainee_stats,
)
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer

PASSWORD = "pass-word-123"
ROLES: tuple[str | None, ...] = (None, "trainee", "instructor", "admin")
SYSTEM = None  # ``actor=None`` where a function documents it as the system (CLI, regrades)
# Not use cases: the check itself, and the audit writer every use case calls after its check.
NOT_USE_CASES = {"actors.require_role", "audit.record"}
REFUSALS = ("Please log in to continue.", "This is only open to", "belongs to someone else")


@dataclass
class Env:
    ctx: AppContext
    actors: dict[str, Actor]
    tina_attempt: int
    tina_exam: int
    tina_answered_item: str
    otto_attempt: int
    otto_annotation: int
    dispute_id: int
    credential_id: str
    calibration_id: int
    calibration_attempt: int
    module_id: str
    second_module: str

    @property
    def catalog(self) -> Any:
        return self.ctx.base_catalog


def _build_template(root: Path) -> dict[str, Any]:
    settings = Settings(data_dir=root, content_dir=REPO_ROOT, secret_key="test-secret")
    ctx = AppContext.open(settings)
    catalog = ctx.base_catalog
    module_id = catalog.modules_of("L1")[0].id
    second = catalog.modules_of("L1")[1].id
    rng = random.Random(3)
    facts: dict[str, Any] = {"module_id": module_id, "second_module": second}
    with ctx.session() as s:
        users = {}
        for name, role in [
            ("tina", "trainee"),
            ("otto", "trainee"),
            ("ivy", "instructor"),
            ("ada", "admin"),
            ("adam", "admin"),
        ]:
            users[name] = accounts.create_user(
                s, settings, username=name, password=PASSWORD, role=role
            )
        tina, otto = Actor.of(users["tina"]), Actor.of(users["otto"])
        for who, n in ((tina, 3), (otto, 2)):
            attempt_id = attempts.start_practice(s, who, catalog, module_id)
            view = attempts.attempt_view(s, who, catalog, attempt_id)
            for key in view.item_ids[:n]:
                item = catalog.item(attempts.base_item_id(key))
                attempts.record_answer(
                    s, who, catalog, attempt_id, key, simulated_answer(item, 0.7, rng)
                )
            facts[f"{who.username}_attempt"] = attempt_id
            facts[f"{who.username}_answered"] = attempts.base_item_id(view.item_ids[0])
        facts["otto_annotation"] = s.scalar(
            select(Annotation.id).where(Annotation.user_id == otto.id).limit(1)
        )
        dispute = disputes.open_dispute(
            s, otto, catalog, facts["otto_answered"], "The gold contradicts the lesson's rubric."
        )
        facts["dispute_id"] = dispute.id
        attempts.start_remediation(s, None, otto.id, [second], "Rolling agreement fell.")
        s.commit()
        bank = catalog.exam_bank("L1")
        now = utcnow()
        exam = Attempt(
            user_id=tina.id,
            kind="exam",
            level_id="L1",
            content_version=catalog.version,
            form=[i.id for i in bank[:5]],
            seed=1,
            started_at=now,
            deadline_at=now + timedelta(days=3650),
        )
        s.add(exam)
        s.commit()
        facts["tina_exam"] = exam.id
        user = s.get(User, otto.id)
        cred = credentials.issue_credential(s, user, catalog, "L1", 0.9, now)
        s.commit()
        facts["credential_id"] = cred.id
        ivy = Actor.of(users["ivy"])
        facts["calibration_id"] = calibration.create_session(
            s, ivy, catalog, level_id="L1", title="Week 1 calibration", user_ids=[tina.id]
        )
        facts["calibration_attempt"] = calibration.start_calibration(
            s, tina, catalog, facts["calibration_id"]
        )
        facts["ids"] = {name: u.id for name, u in users.items()}
    ctx.dispose()
    return facts


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("roles-template") / "data"
    return root, _build_template(root)


@pytest.fixture
def env(template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Iterator[Env]:
    """A private copy of the template installation (copying beats re-hashing passwords)."""
    src, facts = template
    data = tmp_path / "data"
    shutil.copytree(src, data)
    settings = Settings(data_dir=data, content_dir=REPO_ROOT, secret_key="test-secret")
    ctx = AppContext.open(settings, migrate_schema=False)
    with ctx.session() as s:
        actors = {
            u.role if u.username in ("tina", "ivy", "ada") else u.username: Actor.of(u)
            for u in s.scalars(select(User))
        }
    yield Env(
        ctx=ctx,
        actors=actors,
        tina_attempt=facts["tina_attempt"],
        tina_exam=facts["tina_exam"],
        tina_answered_item=facts["tina_answered"],
        otto_attempt=facts["otto_attempt"],
        otto_annotation=facts["otto_annotation"],
        dispute_id=facts["dispute_id"],
        credential_id=facts["credential_id"],
        calibration_id=facts["calibration_id"],
        calibration_attempt=facts["calibration_attempt"],
        module_id=facts["module_id"],
        second_module=facts["second_module"],
    )
    ctx.dispose()


Call = Callable[[Env, Any, Any], Any]  # (env, session, actor) -> result


@dataclass(frozen=True)
class Case:
    allowed: frozenset[str | None]
    call: Call


def case(*allowed: str | None) -> Callable[[Call], Case]:
    def wrap(fn: Call) -> Case:
        return Case(frozenset(allowed), fn)

    return wrap


def _next_answer(env: Env, s: Any, actor: Actor) -> tuple[str, dict[str, Any]]:
    view = attempts.attempt_view(s, env.actors["trainee"], env.catalog, env.tina_attempt)
    key = view.next_item_id
    item = env.catalog.item(attempts.base_item_id(key))
    return key, simulated_answer(item, 1.0, random.Random(0))


EVERY = ("trainee", "instructor", "admin")
STAFF = ("instructor", "admin")
OTTO = "otto"

CASES: dict[str, Case] = {
    # accounts
    "accounts.change_password": case(*EVERY)(
        lambda e, s, a: accounts.change_password(
            s, e.ctx.settings, a, PASSWORD, "a-new-pass-word-9"
        )
    ),
    "accounts.create_user": case("admin", SYSTEM)(
        lambda e, s, a: accounts.create_user(
            s, e.ctx.settings, username="newbie", password=PASSWORD, actor=a
        )
    ),
    "accounts.reset_password": case("admin")(
        lambda e, s, a: accounts.reset_password(s, e.ctx.settings, a, OTTO)
    ),
    "accounts.set_active": case("admin")(lambda e, s, a: accounts.set_active(s, a, OTTO, False)),
    "accounts.set_display_name": case(*EVERY)(
        lambda e, s, a: accounts.set_display_name(s, a, "A. N. Other")
    ),
    "accounts.set_name_public": case(*EVERY)(lambda e, s, a: accounts.set_name_public(s, a, True)),
    "accounts.set_role": case("admin", SYSTEM)(
        lambda e, s, a: accounts.set_role(s, a, OTTO, "instructor")
    ),
    "accounts.users_frame": case("admin")(lambda e, s, a: accounts.users_frame(s, a)),
    # attempts: the trainee's own; an instructor is refused another's attempt
    "attempts.attempt_view": case("trainee")(
        lambda e, s, a: attempts.attempt_view(s, a, e.catalog, e.tina_attempt)
    ),
    "attempts.exam_history": case("trainee")(lambda e, s, a: attempts.exam_history(s, a)),
    "attempts.current_practice_module": case("trainee")(
        lambda e, s, a: attempts.current_practice_module(s, a)
    ),
    "attempts.open_attempt_id": case("trainee")(
        lambda e, s, a: attempts.open_attempt_id(s, a, kind="practice", module_id=e.module_id)
    ),
    "attempts.record_answer": case("trainee")(
        lambda e, s, a: attempts.record_answer(
            s, a, e.catalog, e.tina_attempt, *_next_answer(e, s, a)
        )
    ),
    "attempts.restart_practice": case("trainee")(
        lambda e, s, a: attempts.restart_practice(s, a, e.catalog, e.module_id)
    ),
    "attempts.start_exam": case("trainee")(
        lambda e, s, a: attempts.start_exam(s, a, e.catalog, "L1")
    ),
    "attempts.start_practice": case("trainee")(
        lambda e, s, a: attempts.start_practice(s, a, e.catalog, e.module_id)
    ),
    "attempts.start_remediation": case("instructor", "admin", SYSTEM)(
        lambda e, s, a: attempts.start_remediation(
            s, a, e.actors[OTTO].id, [e.module_id], "Agreement fell below the bar."
        )
    ),
    "attempts.submit_exam": case("trainee")(
        lambda e, s, a: attempts.submit_exam(s, a, e.catalog, e.tina_exam)
    ),
    # another trainee's overview: staff only (a trainee sees their own, tested below)
    "attempts.trainee_overview": case(*STAFF)(
        lambda e, s, a: attempts.trainee_overview(s, a, e.catalog, user_id=e.actors[OTTO].id)
    ),
    "attempts.trainee_standing": case(*STAFF)(
        lambda e, s, a: attempts.trainee_standing(s, a, e.catalog, user_id=e.actors[OTTO].id)
    ),
    "audit.audit_frame": case("admin")(lambda e, s, a: audit.audit_frame(s, a)),
    # cohort
    "cohort.cohort_frame": case(*STAFF)(lambda e, s, a: cohort.cohort_frame(s, a, e.catalog)),
    "cohort.cohort_names": case(*STAFF)(lambda e, s, a: cohort.cohort_names(s, a)),
    "cohort.trainee_detail": case(*STAFF)(
        lambda e, s, a: cohort.trainee_detail(s, a, e.actors[OTTO].id)
    ),
    # credentials
    "credentials.list_credentials": case("admin", SYSTEM)(
        lambda e, s, a: credentials.list_credentials(s, a)
    ),
    "credentials.my_credentials": case("trainee")(lambda e, s, a: credentials.my_credentials(s, a)),
    "credentials.revoke_credential": case("admin", SYSTEM)(
        lambda e, s, a: credentials.revoke_credential(
            s, a, e.credential_id, "Issued in error during a test."
        )
    ),
    "credentials.rotate_signing_key": case("admin", SYSTEM)(
        lambda e, s, a: credentials.rotate_signing_key(s, e.ctx.settings, a)
    ),
    # demo seeding drives the same use cases as the trainee, so the same checks apply
    "demo.simulate_exam": case("trainee")(
        lambda e, s, a: demo.simulate_exam(e.ctx, a, "L1", 0.8, random.Random(1), utcnow())
    ),
    "demo.simulate_practice": case("trainee")(
        lambda e, s, a: demo.simulate_practice(
            e.ctx, a, e.module_id, 0.8, random.Random(1), start=utcnow(), limit=1
        )
    ),
    # disputes
    "disputes.accept_dispute": case(*STAFF)(
        lambda e, s, a: disputes.accept_dispute(
            s,
            a,
            e.catalog,
            e.dispute_id,
            e.catalog.item(_dispute_item(s, e)).gold,
            "The gold stands as written; recorded as accepted for the test.",
        )
    ),
    "disputes.answer_distribution": case(*STAFF)(
        lambda e, s, a: disputes.answer_distribution(s, a, e.catalog, _dispute_item(s, e))
    ),
    "disputes.disputes_frame": case(*STAFF)(
        lambda e, s, a: disputes.disputes_frame(s, a, e.catalog)
    ),
    "disputes.my_disputes": case("trainee")(lambda e, s, a: disputes.my_disputes(s, a)),
    "disputes.open_dispute": case("trainee")(
        lambda e, s, a: disputes.open_dispute(
            s, a, e.catalog, e.tina_answered_item, "The explanation contradicts the gold."
        )
    ),
    "disputes.reject_dispute": case(*STAFF)(
        lambda e, s, a: disputes.reject_dispute(
            s, a, e.dispute_id, "The gold follows the rubric's rule on hedging."
        )
    ),
    # overrides
    "overrides.assign_remediation": case(*STAFF)(
        lambda e, s, a: overrides.assign_remediation(
            s, a, e.catalog, e.actors[OTTO].id, ["L1_M001"], "Live-queue spot checks disagree."
        )
    ),
    "overrides.grant_extra_attempt": case(*STAFF)(
        lambda e, s, a: overrides.grant_extra_attempt(
            s, a, e.catalog, e.actors[OTTO].id, "L1", "Illness during the last attempt."
        )
    ),
    "overrides.lift_remediation": case(*STAFF)(
        lambda e, s, a: overrides.lift_remediation(
            s, a, e.actors[OTTO].id, "Reviewed by hand: the drift was one bad day."
        )
    ),
    "overrides.notices_for": case("trainee")(lambda e, s, a: overrides.notices_for(s, a)),
    "overrides.notify": case("instructor", "admin", SYSTEM)(
        lambda e, s, a: overrides.notify(s, a, [e.actors[OTTO].id], "Calibration on Friday.")
    ),
    "overrides.overrides_frame": case(*STAFF)(lambda e, s, a: overrides.overrides_frame(s, a)),
    "overrides.unlock_module": case(*STAFF)(
        lambda e, s, a: overrides.unlock_module(
            s, a, e.catalog, e.actors[OTTO].id, e.second_module, "Prior experience verified."
        )
    ),
    # reviews
    "reviews.review_queue": case(*STAFF)(lambda e, s, a: reviews.review_queue(s, a, e.catalog)),
    "reviews.review_task": case(*STAFF)(
        lambda e, s, a: reviews.review_task(s, a, e.catalog, e.otto_annotation)
    ),
    "reviews.reviewer_agreement": case(*STAFF)(lambda e, s, a: reviews.reviewer_agreement(s, a)),
    "reviews.submit_review": case(*STAFF)(
        lambda e, s, a: reviews.submit_review(
            s, a, e.catalog, e.otto_annotation, {"evidence": 3}, "Cites the response well."
        )
    ),
    # calibration
    "calibration.alpha_trend": case(*STAFF)(
        lambda e, s, a: calibration.alpha_trend(s, a, e.catalog)
    ),
    "calibration.answer_calibration": case("trainee")(
        lambda e, s, a: calibration.answer_calibration(
            s, a, e.catalog, e.calibration_attempt, *_calibration_answer(e)
        )
    ),
    "calibration.blind_attempt": case("trainee")(
        lambda e, s, a: calibration.blind_attempt(s, a, e.calibration_attempt)
    ),
    "calibration.create_session": case(*STAFF)(
        lambda e, s, a: calibration.create_session(
            s, a, e.catalog, level_id="L1", title="Another calibration"
        )
    ),
    "calibration.my_calibrations": case("trainee")(
        lambda e, s, a: calibration.my_calibrations(s, a)
    ),
    "calibration.publish": case(*STAFF)(
        lambda e, s, a: calibration.publish(s, a, e.calibration_id)
    ),
    "calibration.published_feedback": case("trainee")(
        lambda e, s, a: calibration.published_feedback(s, a, e.catalog, e.calibration_id)
    ),
    "calibration.save_note": case(*STAFF)(
        lambda e, s, a: calibration.save_note(
            s, a, e.catalog, e.calibration_id, _calibration_answer(e)[0], "Discussed on Friday."
        )
    ),
    "calibration.session_results": case(*STAFF)(
        lambda e, s, a: calibration.session_results(s, a, e.catalog, e.calibration_id)
    ),
    "calibration.sessions_frame": case(*STAFF)(lambda e, s, a: calibration.sessions_frame(s, a)),
    "calibration.start_calibration": case("trainee")(
        lambda e, s, a: calibration.start_calibration(s, a, e.catalog, e.calibration_id)
    ),
    "calibration.start_recertification": case("trainee")(
        lambda e, s, a: calibration.start_recertification(s, a, e.catalog, "L1")
    ),
    # gold from an expert panel (no session: pure computation behind the role check)
    "gold.propose_gold": case(*STAFF)(lambda e, s, a: gold.propose_gold(a, _panel())),
    "gold.gold_item_set_yaml": case(*STAFF)(
        lambda e, s, a: gold.gold_item_set_yaml(
            a,
            gold.propose_gold(e.actors["admin"], _panel()),
            _panel(),
            level="L1",
            instructions="Choose the label.",
        )
    ),
    "item_stats.item_frame": case(*STAFF)(lambda e, s, a: item_stats.item_frame(s, a, e.catalog)),
    "trainee_stats.trainee_dashboard": case(*STAFF)(
        lambda e, s, a: trainee_stats.trainee_dashboard(s, a, e.catalog, user_id=e.actors[OTTO].id)
    ),
}


def _calibration_answer(e: Env) -> tuple[str, dict[str, Any]]:
    item = e.catalog.calibration_batch("L1")[0]
    return item.id, simulated_answer(item, 1.0, random.Random(0))


def _panel() -> Any:
    rows = ["item_id,expert,label"] + [
        f"P{i},{expert},{'yes' if (i + n) % 3 else 'no'}"
        for i in range(6)
        for n, expert in enumerate(("e1", "e2", "e3"))
    ]
    return gold.parse_panel_csv("\n".join(rows))


def _dispute_item(s: Any, e: Env) -> str:
    from evaluator_cert.db.models import Dispute

    return s.get(Dispute, e.dispute_id).item_id


def _use_cases() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(services_pkg.__path__):
        module = importlib.import_module(f"{services_pkg.__name__}.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            public = fn.__module__ == module.__name__ and not name.startswith("_")
            if public and "actor" in inspect.signature(fn).parameters:
                found.add(f"{info.name}.{name}")
    return found - NOT_USE_CASES


def test_every_use_case_is_in_the_matrix() -> None:
    missing = sorted(_use_cases() - set(CASES))
    assert not missing, f"add these use cases to CASES with their roles: {missing}"
    assert not set(CASES) - _use_cases(), "CASES names a function that no longer exists"


def _actor_for(env: Env, role: str | None) -> Actor | None:
    return None if role is None else env.actors[role]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("name", sorted(CASES))
def test_role_matrix(env: Env, name: str, role: str | None) -> None:
    the_case = CASES[name]
    actor = _actor_for(env, role)
    with env.ctx.session() as s:
        if role in the_case.allowed:
            try:
                the_case.call(env, s, actor)
            except NotAllowedError as exc:  # pragma: no cover - the failure message
                pytest.fail(f"{name} refused {role or 'anonymous'}: {exc}")
            except DomainError:
                # A gate (not eligible, nothing to review...) is a later check than the role.
                pass
        else:
            with pytest.raises(NotAllowedError) as info:
                the_case.call(env, s, actor)
            message = str(info.value)
            assert message.startswith(REFUSALS) or "belongs to someone else" in message
            assert message.endswith(".")


@pytest.mark.parametrize(
    "name",
    ["attempts.trainee_overview", "attempts.trainee_standing", "trainee_stats.trainee_dashboard"],
)
def test_trainees_see_their_own_overview(env: Env, name: str) -> None:
    fn = {
        "attempts.trainee_overview": attempts.trainee_overview,
        "attempts.trainee_standing": attempts.trainee_standing,
        "trainee_stats.trainee_dashboard": trainee_stats.trainee_dashboard,
    }[name]
    with env.ctx.session() as s:
        assert fn(s, env.actors["trainee"], env.catalog) is not None
        with pytest.raises(NotAllowedError, match="Please log in"):
            fn(s, None, env.catalog)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ ownership


def test_trainee_cannot_read_write_or_submit_another_trainees_attempts(env: Env) -> None:
    tina, otto = env.actors["trainee"], env.actors[OTTO]
    with env.ctx.session() as s:
        key, answer = _next_answer(env, s, tina)
        for fn in (
            lambda: attempts.attempt_view(s, otto, env.catalog, env.tina_attempt),
            lambda: attempts.record_answer(s, otto, env.catalog, env.tina_attempt, key, answer),
            lambda: attempts.submit_exam(s, otto, env.catalog, env.tina_exam),
            lambda: attempts.attempt_view(s, otto, env.catalog, env.tina_exam),
        ):
            with pytest.raises(NotAllowedError, match="belongs to someone else"):
                fn()
        # nothing was written by the refused calls
        assert s.scalar(select(func.count()).where(Annotation.user_id == otto.id)) == 2
        assert s.get(Attempt, env.tina_exam).status == "open"


def test_item_of_another_module_is_not_part_of_the_attempt(env: Env) -> None:
    tina = env.actors["trainee"]
    foreign = env.catalog.practice_items(env.second_module)[0]
    with env.ctx.session() as s, pytest.raises(NotAllowedError, match="not part of this attempt"):
        attempts.record_answer(
            s,
            tina,
            env.catalog,
            env.tina_attempt,
            foreign.id,
            simulated_answer(foreign, 1.0, random.Random(0)),
        )


def test_no_new_answers_after_submission_and_repeat_submit_is_idempotent(env: Env) -> None:
    tina = env.actors["trainee"]
    with env.ctx.session() as s:
        exam = attempts.attempt_view(s, tina, env.catalog, env.tina_exam)
        first = exam.item_ids[0]
        item = env.catalog.item(first)
        attempts.record_answer(
            s, tina, env.catalog, env.tina_exam, first, simulated_answer(item, 1, random.Random(0))
        )
        one = attempts.submit_exam(s, tina, env.catalog, env.tina_exam)
        two = attempts.submit_exam(s, tina, env.catalog, env.tina_exam)
        assert (one.passed, one.result) == (two.passed, two.result)
        assert one.result["answered"] == 1
        later = exam.item_ids[1]
        with pytest.raises(AttemptClosedError):
            attempts.record_answer(
                s,
                tina,
                env.catalog,
                env.tina_exam,
                later,
                simulated_answer(env.catalog.item(later), 1, random.Random(0)),
            )
        # the answer given before the submission is still returned, never regraded
        again = attempts.record_answer(s, tina, env.catalog, env.tina_exam, first, {"x": 1})
        assert again.feedback is None
        assert s.scalar(select(func.count()).where(Annotation.attempt_id == env.tina_exam)) == 1
        audits = audit.audit_frame(s, env.actors["admin"], action="exam.submit")
        assert len(audits) == 1  # the second submit changed nothing


def test_practice_attempt_closed_by_restart_takes_no_more_answers(env: Env) -> None:
    tina = env.actors["trainee"]
    with env.ctx.session() as s:
        key, answer = _next_answer(env, s, tina)
        attempts.restart_practice(s, tina, env.catalog, env.module_id)
        with pytest.raises(AttemptClosedError, match="closed"):
            attempts.record_answer(s, tina, env.catalog, env.tina_attempt, key, answer)


def test_the_same_answer_sent_twice_at_once_is_saved_once(env: Env) -> None:
    tina = env.actors["trainee"]
    with env.ctx.session() as s:
        key, answer = _next_answer(env, s, tina)
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def send() -> None:
        with env.ctx.session() as s:
            barrier.wait()
            results.append(
                attempts.record_answer(s, tina, env.catalog, env.tina_attempt, key, answer)
            )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len({(r.score, r.correct) for r in results}) == 1
    with env.ctx.session() as s:
        n = s.scalar(
            select(func.count()).where(
                Annotation.attempt_id == env.tina_attempt, Annotation.item_id == key
            )
        )
    assert n == 1
