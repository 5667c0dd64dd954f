"""Browser-test fixtures: a live app server on a temporary data folder, and Chromium.

``live_server`` starts ``streamlit run asgi.py`` on a free port after seeding the same
SQLite file through the services. A test module customises it by overriding two fixtures:

``live_seed``
    a callable ``(AppContext) -> Any`` run before the server starts; its return value is
    available as ``live_server.seeded`` (e.g. ids the test will open).
``live_env``
    extra ``EVALUATOR_CERT_*`` variables for both the seeding and the server
    (e.g. ``{"EVALUATOR_CERT_CONTENT_DIR": ...}``).

``live_server`` is a ``str`` (the base URL) that also carries ``settings`` and ``seeded``.
Underneath it, ``app_env``, ``settings_from`` and ``running_app`` start a server on any
environment, for tests that need more than one (tests/e2e/test_two_instances.py);
``running_server`` runs any other server the same way (the deployment's proxy).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.runtime import AppContext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 60.0
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


class LiveServer(str):
    """The base URL of a running app, with the settings it runs on and the seed result."""

    settings: Settings
    seeded: Any
    log_path: Path

    def __new__(cls, url: str, settings: Settings, seeded: Any, log_path: Path) -> LiveServer:
        server = super().__new__(cls, url)
        server.settings = settings
        server.seeded = seeded
        server.log_path = log_path
        return server

    def url(self, path: str = "/") -> str:
        return str(self) + (path if path.startswith("/") else "/" + path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(base_url: str, path: str = "/healthz") -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}{path}", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)  # the server and anything it started
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def app_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment minus any EVALUATOR_CERT_* variable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVALUATOR_CERT_")}
    env.update(settings)
    return env


def settings_from(env: Mapping[str, str]) -> Settings:
    """The settings an app started with ``env`` reads."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def running_server(
    command: list[str],
    env: Mapping[str, str],
    base_url: str,
    log_path: Path,
    health_path: str = "/healthz",
) -> Iterator[str]:
    """Run ``command`` (a server) with ``env``: yields ``base_url`` once ``health_path``
    answers, and stops the server's whole process group on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so teardown stops all of it
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(base_url, health_path):
            if process.poll() is not None:
                pytest.fail(f"the server exited early:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{health_path} not ok after {START_TIMEOUT_S:.0f} s:\n"
                    f"{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.3)
        yield base_url
    finally:
        _stop(process)


def running_app(
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    script: str = "asgi.py",
    health_path: str = "/healthz",
) -> AbstractContextManager[str]:
    """``streamlit run <script>`` on ``port`` with ``env`` (see :func:`running_server`)."""
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]  # fmt: skip
    env = {**env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"}
    return running_server(command, env, f"http://127.0.0.1:{port}", log_path, health_path)


@pytest.fixture
def live_seed() -> Callable[[AppContext], Any] | None:
    """Override in a test module to put data in place before the server starts."""
    return None


@pytest.fixture
def live_env() -> dict[str, str]:
    """Override in a test module to add EVALUATOR_CERT_* settings."""
    return {}


@pytest.fixture
def live_server(
    tmp_path_factory: pytest.TempPathFactory,
    live_seed: Callable[[AppContext], Any] | None,
    live_env: dict[str, str],
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = app_env(
        {
            "EVALUATOR_CERT_DATA_DIR": str(folder / "data"),
            "EVALUATOR_CERT_BASE_URL": base_url,
            "EVALUATOR_CERT_SECRET_KEY": "live-server-test-secret",
            **live_env,
        }
    )
    # Seed through the services, on the very settings the server will read.
    settings = settings_from(env)
    context = AppContext.open(settings)
    try:
        seeded = live_seed(context) if live_seed is not None else None
    finally:
        context.dispose()

    log_path = folder / "server.log"
    with running_app(env, port, log_path) as url:
        yield LiveServer(url, settings, seeded, log_path)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (no browser download)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and tab per test (no cookies carried between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def _wait_for_app(page: Any, timeout_ms: float = 30_000) -> None:
    # the attribute appears once the app has connected; "notRunning" means the run is over
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms)


@pytest.fixture
def wait_for_app() -> Callable[..., None]:
    """``wait_for_app(page)``: block until Streamlit has finished the current script run."""
    return _wait_for_app
