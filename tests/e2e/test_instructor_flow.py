"""In the browser: the demo instructor logs in, opens the cohort dashboard and a calibration
session's results, writes a note and publishes; the demo trainee then logs in and reads it."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from evaluator_cert.content.schema import ClassificationItem
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts, calibration
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.demo import COHORT, ensure_demo_accounts
from evaluator_cert.simulation import simulated_answer
from evaluator_cert.ui.navigation import pages_for

pytestmark = pytest.mark.browser
NOTE = "Tone is not harm: judge the advice itself."


def _seed(ctx: AppContext) -> int:
    ensure_demo_accounts(ctx)
    catalog = ctx.base_catalog
    items = [i for i in catalog.calibration_batch("L1") if isinstance(i, ClassificationItem)][:3]
    with ctx.session() as s:
        others = [
            accounts.create_user(
                s, ctx.settings, username=f"peer{n}", password="pass-word-123", cohort=COHORT
            )
            for n in range(2)
        ]
        instructor = Actor.of(accounts.get_user(s, "instructor"))
        trainee = Actor.of(accounts.get_user(s, "trainee"))
        sid = calibration.create_session(
            s,
            instructor,
            catalog,
            level_id="L1",
            title="Browser week",
            item_ids=[i.id for i in items],
            cohort=COHORT,
        )
        for n, actor in enumerate([trainee, *(Actor.of(u) for u in others)]):
            rng = random.Random(n)
            attempt_id = calibration.start_calibration(s, actor, catalog, sid)
            for item in items:
                calibration.answer_calibration(
                    s, actor, catalog, attempt_id, item.id, simulated_answer(item, 0.6, rng)
                )
    return sid


@pytest.fixture
def live_seed() -> Callable[[AppContext], Any]:
    return _seed


def _log_in(page: Any, base: str, username: str, password: str, wait: Callable[..., None]) -> None:
    page.goto(base)
    wait(page)
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(
        f"({'instructor' if username == 'instructor' else 'trainee'})"
    ).first.wait_for()
    wait(page)


def test_instructor_publishes_a_note_the_trainee_reads(
    live_server: Any, browser: Any, wait_for_app: Callable[..., None]
) -> None:
    if not {"cohort.py", "calibration_manage.py"} <= pages_for("instructor"):
        pytest.skip("the instructor pages are not in the navigation yet")
    base = str(live_server)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    _log_in(page, base, "instructor", "instructor-demo", wait_for_app)
    page.goto(live_server.url("/cohort"))
    wait_for_app(page)
    page.get_by_role("heading", name="Cohort", exact=True).wait_for()
    page.goto(live_server.url("/calibration_manage"))
    wait_for_app(page)
    page.get_by_role("heading", name="Browser week", exact=True).wait_for()
    page.get_by_text("Alpha (labels, nominal)").wait_for()
    page.get_by_label("Note for the trainees").fill(NOTE)
    page.get_by_role("button", name="Save note").click()
    # The confirmation is flashed, so it survives the page's rerun (app.py shows a toast).
    page.get_by_test_id("stToast").filter(has_text="saved.").wait_for()
    wait_for_app(page)
    publish = page.get_by_role("button", name="Publish results to the trainees")
    assert publish.is_disabled()  # until the instructor confirms
    page.get_by_text("I understand publishing closes the session").click()
    wait_for_app(page)
    publish.click()
    page.get_by_text("Published:").wait_for()
    page.get_by_test_id("stToast").filter(
        has_text=f"Session {live_server.seeded} published."
    ).wait_for()
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    _log_in(page, base, "trainee", "trainee-demo", wait_for_app)
    page.goto(live_server.url("/calibration"))
    wait_for_app(page)
    page.get_by_text(NOTE).wait_for()
    context.close()
