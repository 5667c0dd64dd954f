"""In the browser: a trainee logs in, practises items of four task types through the real
widgets, sees gold and the expert's explanation after each answer, and sees the dashboard
move (more graded items, and the agreement timeline once there are enough of them)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from evaluator_cert.db.models import utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts, overrides
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.demo import ensure_demo_accounts, simulate_practice
from evaluator_cert.services.trainee_stats import TIMELINE_WINDOW

pytestmark = pytest.mark.browser

# Each module below guarantees a type the others lack: L1_M001 classification/span,
# L1_M002 rubric only, L2_M101 pairwise/ranking, L2_M105 fact check/span.
JOURNEY = ("L1_M001", "L1_M002", "L2_M101", "L2_M105")
HISTORY_MODULE = "L1_M004"
# Graded before the session: a few short of the timeline window, so it appears during it.
BEFORE = TIMELINE_WINDOW - 4
ITEM_HEADING = re.compile(r"^([A-Za-z ]+) · item (\d+) of (\d+)")
GOLD_LINE = re.compile(r"^Gold( label| ratings| ranking| verdicts| spans| choice| boxes)?:")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _seed(ctx: AppContext) -> None:
    ensure_demo_accounts(ctx)
    catalog = ctx.base_catalog
    with ctx.session() as s:
        instructor = accounts.get_user(s, "instructor")
        trainee = accounts.get_user(s, "trainee")
        assert instructor is not None and trainee is not None
        for module_id in (*JOURNEY[1:], HISTORY_MODULE):
            overrides.unlock_module(
                s,
                Actor.of(instructor),
                catalog,
                trainee.id,
                module_id,
                "Opened for the cross-type practice journey.",
            )
        actor = Actor.of(trainee)
    simulate_practice(
        ctx,
        actor,
        HISTORY_MODULE,
        0.9,
        random.Random(5),
        start=utcnow() - timedelta(days=1),
        limit=BEFORE,
    )


@pytest.fixture
def live_seed() -> Callable[[AppContext], Any]:
    return _seed


def settle(page: Any, wait: Callable[..., None]) -> None:
    """The run is over and no element from the previous run is still on screen."""
    wait(page)
    page.wait_for_function("document.querySelectorAll(\"[data-stale='true']\").length === 0")
    wait(page)


def log_in(page: Any, base: str, wait: Callable[..., None]) -> None:
    page.goto(base)
    wait(page)
    page.get_by_label("Username").fill("trainee")
    page.get_by_label("Password", exact=True).fill("trainee-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("(trainee)").first.wait_for()
    wait(page)


def graded_items(page: Any, wait: Callable[..., None]) -> int | None:
    """The dashboard's "Graded items" metric, or None on its empty state."""
    page.get_by_role("link", name="My agreement").click()
    page.get_by_role("heading", name="My agreement with the experts").wait_for()
    settle(page, wait)
    metric = page.get_by_test_id("stMetric").filter(has_text="Graded items")
    empty = page.get_by_text("Answer practice items to see your agreement here.")
    metric.or_(empty).first.wait_for()  # count() does not wait for either to render
    if metric.count() == 0:
        return None
    return int(metric.get_by_test_id("stMetricValue").inner_text())


def choose_module(page: Any, module_id: str, wait: Callable[..., None]) -> None:
    box = page.get_by_role("combobox", name="Module")
    box.click()
    box.press_sequentially(module_id)
    page.get_by_role("option").filter(has_text=module_id).first.wait_for()
    box.press("Enter")
    page.get_by_role("link", name=f"Read the {module_id} lesson").wait_for()
    settle(page, wait)
    start = page.get_by_role("button", name="Start the practice set")
    start.or_(page.get_by_role("heading", name=ITEM_HEADING)).first.wait_for()
    if start.count():
        start.click()
        page.get_by_role("heading", name=ITEM_HEADING).wait_for()
        settle(page, wait)


# ---------------------------------------------------------------- one routine per task type


def pick(group: Any, option: str | None = None) -> None:
    """Choose an option (the middle one by default) by clicking its visible label."""
    radios = group.get_by_role("radio")
    radios.first.wait_for()  # count() does not wait for the radios to render
    if option is None:
        option = radios.nth(radios.count() // 2).locator("xpath=ancestor::label").inner_text()
    group.get_by_text(option, exact=True).click()


def answer_classification(page: Any) -> None:
    # By keyboard: a radio group takes focus, and Space picks the focused option.
    group = page.get_by_role("radiogroup", name="Your label")
    group.get_by_role("radio").first.focus()
    page.keyboard.press("Space")
    assert group.get_by_role("radio").first.is_checked()


def _radio_groups(page: Any) -> list[Any]:
    """The answer form's radio groups, once rendered (``all()`` does not wait)."""
    groups = page.get_by_test_id("stForm").get_by_role("radiogroup")
    groups.first.wait_for()
    return list(groups.all())


def answer_rubric(page: Any) -> None:
    groups = _radio_groups(page)
    assert groups, "a rubric item shows one radio group per dimension"
    for group in groups:
        pick(group)


def answer_pairwise(page: Any) -> None:
    pick(page.get_by_role("radiogroup", name="Your preference"), "Response 1 is better")


def answer_ranking(page: Any) -> None:
    # Picking the responses one by one, in order, is the ranking; ArrowDown opens the list.
    box = page.get_by_role("combobox", name=re.compile("^Pick the responses"))
    left = page.get_by_role("option").filter(has_text=re.compile("^Response "))
    for _ in range(8):
        if left.count() == 0:
            box.focus()
            box.press("ArrowDown")
            page.wait_for_timeout(300)
        if left.count() == 0:
            break
        left.first.click()
    page.keyboard.press("Escape")
    # A click on "Submit answer" while the list is still closing lands on the list's
    # backdrop and is lost: wait until it is gone.
    page.get_by_role("listbox").first.wait_for(state="detached")


def answer_fact_check(page: Any) -> None:
    groups = _radio_groups(page)
    assert groups, "a fact-check item shows one radio group per claim"
    for group in groups:
        pick(group, "Supported")


def answer_span(page: Any) -> None:
    # Mark the first token under the first label: the pills are real toggle buttons.
    # Inside the answer form: the exam page has a level selector that is a button group too.
    form = page.get_by_test_id("stForm")
    pills = form.get_by_test_id("stButtonGroup").first.get_by_role("button")
    pills.nth(1).wait_for()  # count() does not wait for the pills to render
    assert pills.count() > 1
    pills.first.click()


def answer_justification(page: Any) -> None:
    group = page.get_by_test_id("stForm").get_by_role("radiogroup").first
    pick(group)
    assert any(r.is_checked() for r in group.get_by_role("radio").all())
    reasons = (
        "The chosen response answers the question that was asked, states its facts "
        "correctly, avoids padding and hedging that add nothing, and leaves the user with a "
        "clear next step; the other falls short on accuracy and on clarity in several places."
    )
    page.get_by_label(re.compile("^Your justification")).fill(reasons * 3)


ROUTINES: dict[str, Callable[[Any], None]] = {
    "Justification": answer_justification,
    "Classification": answer_classification,
    "Rubric rating": answer_rubric,
    "Pairwise preference": answer_pairwise,
    "Ranking": answer_ranking,
    "Fact check": answer_fact_check,
    "Span labelling": answer_span,
}


def answer_current_item(page: Any, wait: Callable[..., None], shots: Path) -> str:
    heading = page.get_by_role("heading", name=ITEM_HEADING)
    match = ITEM_HEADING.match(heading.inner_text())
    assert match is not None
    task_title, number = match.group(1), int(match.group(2))
    # Gold and the explanation stay hidden until the answer is in.
    assert page.get_by_text("Why:").count() == 0
    assert page.get_by_text(GOLD_LINE).count() == 0
    ROUTINES[task_title](page)
    slug = task_title.lower().replace(" ", "_")
    page.screenshot(path=shots / f"{slug}.png", full_page=True)
    page.get_by_role("button", name="Submit answer").click()
    page.get_by_text("Why:").wait_for()
    settle(page, wait)
    page.get_by_text(GOLD_LINE).first.wait_for()
    page.get_by_text(re.compile("(Agrees with|Differs from) gold")).first.wait_for()
    page.screenshot(path=shots / f"{slug}_feedback.png", full_page=True)
    page.get_by_role("button", name="Next item").click()
    page.get_by_role("heading", name=re.compile(rf"· item {number + 1} of ")).wait_for()
    settle(page, wait)
    return task_title


def test_trainee_practises_four_task_types_and_sees_the_dashboard_move(
    live_server: Any, page: Any, wait_for_app: Callable[..., None], tmp_path: Path
) -> None:
    log_in(page, str(live_server), wait_for_app)
    before = graded_items(page, wait_for_app)
    assert before == BEFORE
    assert page.get_by_text(f"The timeline starts after {TIMELINE_WINDOW} graded items.").count()

    page.get_by_role("link", name="Practice").click()
    page.get_by_role("combobox", name="Module").wait_for()
    settle(page, wait_for_app)
    done: list[str] = []
    for module_id in JOURNEY:
        choose_module(page, module_id, wait_for_app)
        # Answer until this module has contributed a type not seen yet (a few items at most).
        for _ in range(6):
            done.append(answer_current_item(page, wait_for_app, tmp_path))
            if done[-1] not in done[:-1]:
                break
    assert len(set(done)) >= 4, done

    after = graded_items(page, wait_for_app)
    assert after == BEFORE + len(done)
    page.get_by_role("heading", name="Agreement over time").wait_for()
    assert page.get_by_text("The timeline starts after").count() == 0
    assert page.get_by_test_id("stPlotlyChart").first.is_visible()
    page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
