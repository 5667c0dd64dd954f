"""Nothing answered is lost when the server dies: answer part of a practice set in the
browser, SIGKILL the server, start it again on the same data folder, and find every answer
there and the set resuming at the next item."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.db.models import Annotation, Attempt
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.demo import ensure_demo_accounts
from tests.e2e.conftest import _healthy, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
MODULE = "L1_M001"  # open from the start; classification and span items
ANSWERED = 5
HEADING = re.compile(r"· item (\d+) of (\d+)")


class Server:
    """``streamlit run asgi.py`` on a fixed data folder, killable and restartable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("EVALUATOR_CERT_")}
        self.env.update(
            {
                "EVALUATOR_CERT_DATA_DIR": str(folder / "data"),
                "EVALUATOR_CERT_BASE_URL": self.url,
                "EVALUATOR_CERT_SECRET_KEY": "durability-test-secret",
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            }
        )
        self.settings = Settings(
            data_dir=folder / "data", base_url=self.url, secret_key="durability-test-secret"
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.starts: list[float] = []

    def start(self) -> None:
        log = (self.folder / f"server-{len(self.starts)}.log").open("wb")
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "asgi.py",
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while not _healthy(self.url):
            assert self.process.poll() is None, "the server exited while starting"
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.3)
        self.starts.append(time.monotonic() - began)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what is committed must survive."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path)
    ctx = AppContext.open(srv.settings)
    try:
        ensure_demo_accounts(ctx)
    finally:
        ctx.dispose()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _settled(page: Any, wait: Callable[..., None]) -> None:
    wait(page)
    page.wait_for_function("document.querySelectorAll(\"[data-stale='true']\").length === 0")
    wait(page)


def _log_in_and_open_practice(page: Any, url: str, wait: Callable[..., None]) -> None:
    page.goto(url)
    wait(page)
    page.get_by_label("Username").fill("trainee")
    page.get_by_label("Password", exact=True).fill("trainee-demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("(trainee)").first.wait_for()
    _settled(page, wait)
    page.get_by_role("link", name="Practice").click()
    page.get_by_role("link", name=f"Read the {MODULE} lesson").wait_for()
    _settled(page, wait)


def _position(page: Any) -> tuple[int, int]:
    heading = page.get_by_role("heading", name=HEADING).first
    heading.wait_for()
    found = HEADING.search(heading.inner_text())
    assert found
    return int(found.group(1)), int(found.group(2))


def _answer_current_item(page: Any, wait: Callable[..., None]) -> None:
    form = page.get_by_test_id("stForm")
    # count() does not wait: first wait for the item's control, radio labels or span pills
    form.locator("[role='radiogroup'], [data-testid='stButtonGroup']").first.wait_for()
    page.get_by_role("button", name="Submit answer").wait_for()
    labels = form.get_by_role("radiogroup")
    if labels.count():  # classification: pick the first label by clicking its text
        radio = labels.first.get_by_role("radio").first
        radio.locator("xpath=ancestor::label").click()
        assert radio.is_checked()
    # span items: submitting with nothing marked is a valid answer
    page.get_by_role("button", name="Submit answer").click()
    page.get_by_role("button", name="Next item").wait_for()
    _settled(page, wait)
    page.get_by_role("button", name="Next item").click()
    _settled(page, wait)


def _saved(settings: Settings) -> list[str]:
    ctx = AppContext.open(settings, migrate_schema=False)
    try:
        with ctx.session() as s:
            user = accounts.get_user(s, "trainee")
            assert user is not None
            return list(
                s.scalars(
                    select(Annotation.item_id)
                    .join(Attempt, Attempt.id == Annotation.attempt_id)
                    .where(Annotation.user_id == user.id, Attempt.module_id == MODULE)
                    .order_by(Annotation.id)
                )
            )
    finally:
        ctx.dispose()


def test_answers_survive_sigkill_and_the_set_resumes(
    server: Server, browser: Any, wait_for_app: Callable[..., None]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    _log_in_and_open_practice(page, server.url, wait_for_app)
    page.get_by_role("button", name="Start the practice set").click()
    _settled(page, wait_for_app)
    assert _position(page)[0] == 1
    for n in range(ANSWERED):
        _answer_current_item(page, wait_for_app)
        assert _position(page)[0] == n + 2
    context.close()

    before = _saved(server.settings)
    assert len(before) == ANSWERED
    server.kill()
    assert _saved(server.settings) == before  # committed answers are on disk at once

    server.start()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    _log_in_and_open_practice(page, server.url, wait_for_app)
    position, total = _position(page)
    assert position == ANSWERED + 1
    page.get_by_text(f"{ANSWERED} of {total} answered").wait_for()
    context.close()
    assert _saved(server.settings) == before
    print(f"\nserver start times: {', '.join(f'{s:.1f} s' for s in server.starts)}")
