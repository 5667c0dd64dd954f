"""In the browser: a trainee with every L1 module passed sits the L1 exam: the clock shows,
answers are saved without any gold or explanation, the popover confirms the submission, and
the result shows per-dimension bars, still without gold."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.demo import ensure_demo_accounts
from tests.conftest import pass_every_module
from tests.e2e.test_trainee_journey import ITEM_HEADING, ROUTINES, log_in, settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ANSWERS = 3


def _seed(ctx: AppContext) -> None:
    """The demo accounts, with the trainee past every L1 module so the L1 exam is open."""
    ensure_demo_accounts(ctx)
    with ctx.session() as s:
        trainee = accounts.get_user(s, "trainee")
        assert trainee is not None
    pass_every_module(ctx, trainee.id, "L1")


@pytest.fixture
def live_seed() -> Callable[[AppContext], Any]:
    return _seed


def no_gold_on(page: Any) -> None:
    assert page.get_by_text("Why:").count() == 0
    assert page.get_by_text(re.compile(r"\bGold\b")).count() == 0


def test_trainee_sits_the_l1_exam(
    live_server: Any, page: Any, wait_for_app: Callable[..., None]
) -> None:
    log_in(page, str(live_server), wait_for_app)
    page.get_by_role("link", name="Exams").click()
    page.get_by_role("heading", name="Exams").wait_for()
    settle(page, wait_for_app)
    page.get_by_role("button", name="Start the L1 exam now").click()
    page.get_by_text("Time left").wait_for()
    heading = page.get_by_role("heading", name=ITEM_HEADING)
    heading.wait_for()
    settle(page, wait_for_app)
    assert re.search(r"\d+ min \d\d s", page.get_by_test_id("stMetric").first.inner_text())
    total = int(ITEM_HEADING.match(heading.inner_text()).group(3))

    for answered in range(1, ANSWERS + 1):
        task_title = ITEM_HEADING.match(heading.inner_text()).group(1)
        no_gold_on(page)
        ROUTINES[task_title](page)
        page.get_by_role("button", name="Submit answer").click()
        try:
            page.get_by_text(f"{answered} of {total} answered").wait_for(timeout=8000)
        except Exception:  # the page as it stood, beside the server's log
            page.screenshot(path=str(live_server.log_path.parent / "exam_fail.png"), full_page=True)
            raise
        settle(page, wait_for_app)
        # Saved, and straight on to the next item: no verdict, gold or explanation.
        no_gold_on(page)
        assert page.get_by_text(re.compile("(Agrees with|Differs from) gold")).count() == 0

    page.get_by_role("button", name="Submit exam").click()
    page.get_by_text(f"{total - ANSWERS} items are unanswered").wait_for()
    page.get_by_role("button", name="Yes, submit now").click()
    page.get_by_role("heading", name="Your attempts").wait_for()
    settle(page, wait_for_app)
    page.get_by_text(re.compile("^(Passed with overall agreement|Not passed)")).first.wait_for()
    page.get_by_test_id("stPlotlyChart").first.wait_for()
    no_gold_on(page)
    page.screenshot(path=str(live_server.log_path.parent / "exam_result.png"), full_page=True)
