"""Regenerate the README screenshots from a fresh demo installation.

Seeds a temporary data folder the way ``make run`` does (``python -m evaluator_cert
seed-demo``), serves the app on it on a free port, drives Debian's Chromium through Playwright
in a 1280x900 window and writes, into ``docs/screenshots/`` by default:

- ``home.png``: the demo trainee's Home page;
- ``dashboard.png``: the trainee's "My agreement" dashboard;
- ``practice-item.png``: a practice item before it is answered;
- ``feedback.png``: the gold answer and the expert's explanation after answering it;
- ``cohort.png``: the instructor's Cohort page;
- ``verify.png``: the public Verify page showing a valid demo credential.

Pictures of tall pages span the part that matters (a window high or more). Nothing in the
output folder changes unless every picture was taken; the server is stopped and the temporary
folder removed however the run ends (a failed run prints the server's log). Needs the dev
tools (``make dev``: Playwright) and ``/usr/bin/chromium``. Run from the repository root:

    .venv/bin/python scripts/take_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
START_TIMEOUT_S = 60.0
TIMEOUT_MS = 30_000
MAIN = "[data-testid='stMain']"  # the scrolling main area, beside the sidebar
CONTENT = "[data-testid='stMainBlockContainer'] > [data-testid='stVerticalBlock']"
# An element's top and bottom in the main area's scrolled content, in pixels.
TOP_IN_MAIN = f"""e => {{
    const main = document.querySelector("{MAIN}");
    return e.getBoundingClientRect().top - main.getBoundingClientRect().top + main.scrollTop;
}}"""
BOTTOM_IN_MAIN = f"""e => {{
    const main = document.querySelector("{MAIN}");
    return e.getBoundingClientRect().bottom - main.getBoundingClientRect().top + main.scrollTop;
}}"""


# ------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(data_dir: Path) -> dict[str, str]:
    """This environment minus any EVALUATOR_CERT_* setting, on a SQLite file in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVALUATOR_CERT_")}
    env.update(
        {
            "EVALUATOR_CERT_DATA_DIR": str(data_dir),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str) -> str:
    """``python -m evaluator_cert ARGS`` on ``env``; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"evaluator_cert {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def running_app(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """``streamlit run asgi.py`` on a free port: yields the base URL once /healthz answers."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stopping it stops all of it
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not healthy(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the app did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield base_url
    finally:
        stop(process)


# ------------------------------------------------------------------------ the browser


def settle(page: Page) -> None:
    """The Streamlit run is over and nothing from the previous run is still on screen."""
    page.wait_for_selector(APP_IDLE)
    page.wait_for_function("document.querySelectorAll(\"[data-stale='true']\").length === 0")
    page.wait_for_selector(APP_IDLE)
    page.wait_for_timeout(500)  # let transitions (expanders, progress bars) finish


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Fill the login form; the app then trades a one-time code for its session cookie."""
    page.goto(base_url)
    settle(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"({username})").first.wait_for()
    settle(page)


def open_page(page: Page, link: str, heading: str) -> None:
    page.get_by_role("link", name=link).first.click()
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)


def wait_for_charts(page: Page) -> None:
    """Every Plotly chart on the page has drawn its plot area."""
    page.locator(".js-plotly-plot").first.wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".every(p => p._fullLayout && p.querySelector('.main-svg'))"
    )
    page.wait_for_timeout(1500)


def shoot(page: Page, path: Path) -> None:
    """Save what the window shows."""
    # Park the mouse on blank space: no hover effect, tooltip or sidebar button in the picture.
    page.mouse.move(VIEWPORT["width"] - 8, 8)
    page.wait_for_timeout(500)
    page.screenshot(path=path)


def shoot_span(
    page: Page,
    path: Path,
    *,
    start: Locator | None = None,
    end: Locator | None = None,
    max_height: int = 2000,
) -> None:
    """Save the main area, beside the sidebar, from ``start``'s top (else the page top)
    down to ``end``'s top, or else to the end of the content and at least a window high.

    Streamlit scrolls its main area, not the document, so Playwright's full-page mode sees
    one screen: the window is made as tall as the span and the main area scrolled to it.
    """
    main = page.locator(MAIN)
    top = int(start.evaluate(TOP_IN_MAIN)) - 24 if start is not None else 0
    if end is not None:
        height = min(int(end.evaluate(TOP_IN_MAIN)) - 8 - top, max_height)
    else:
        bottom = int(page.locator(CONTENT).evaluate(BOTTOM_IN_MAIN)) + 48
        height = max(VIEWPORT["height"], min(bottom - top, max_height))
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    try:
        main.evaluate("(main, top) => { main.scrollTop = top; }", top)
        shoot(page, path)
    finally:
        page.set_viewport_size(VIEWPORT)
        main.evaluate("main => { main.scrollTop = 0; }")


def answer_item(page: Page) -> None:
    """Answer the item on screen with the middle option of every radio group."""
    form = page.get_by_test_id("stForm")
    for group in form.get_by_role("radiogroup").all():
        radios = group.get_by_role("radio")
        middle = radios.nth(radios.count() // 2).locator("xpath=ancestor::label")
        middle.click()
    page.get_by_role("button", name="Submit answer").click()
    page.get_by_text("Why:").wait_for()
    settle(page)


def trainee_pictures(browser: Browser, base_url: str, out: Path) -> list[Path]:
    page = new_page(browser)
    try:
        log_in(page, base_url, "trainee", "trainee-demo")
        written = [out / "home.png"]
        shoot(page, written[-1])

        # The top of the dashboard: figures, the timeline, agreement by module and dimension.
        open_page(page, "My agreement", "My agreement with the experts")
        wait_for_charts(page)
        written.append(out / "dashboard.png")
        shoot_span(page, written[-1], end=page.get_by_role("heading", name="Your labels against"))

        # The demo trainee is midway through a rubric-rated module: the page resumes there.
        open_page(page, "Practice", "Practice")
        page.get_by_role("heading", name=" · item ").wait_for()
        settle(page)
        module = page.get_by_test_id("stSelectbox").first  # from the module picker down
        written.append(out / "practice-item.png")
        shoot_span(page, written[-1], start=module)

        answer_item(page)
        written.append(out / "feedback.png")
        shoot_span(page, written[-1], start=module)
        return written
    finally:
        page.context.close()


def instructor_pictures(browser: Browser, base_url: str, out: Path) -> list[Path]:
    page = new_page(browser)
    try:
        log_in(page, base_url, "instructor", "instructor-demo")
        open_page(page, "Cohort", "Cohort")
        wait_for_charts(page)
        written = [out / "cohort.png"]  # the figures and the chart, above the trainee table
        shoot_span(page, written[-1], end=page.get_by_role("heading", name="Trainees (at risk"))
        return written
    finally:
        page.context.close()


def verify_picture(browser: Browser, base_url: str, credential_id: str, out: Path) -> list[Path]:
    page = new_page(browser)
    try:
        page.goto(f"{base_url}/verify?id={credential_id}")
        page.get_by_role("heading", name="Valid").wait_for()
        settle(page)
        written = [out / "verify.png"]
        shoot_span(page, written[-1])
        return written
    finally:
        page.context.close()


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder to write to"
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="evaluator-cert-screenshots-") as tmp:
        env = app_env(Path(tmp) / "data")
        print("Seeding the demo installation...", flush=True)
        run_cli(env, "seed-demo")
        listed = json.loads(run_cli(env, "credentials", "list", "--status", "active", "--json"))
        if not listed:
            raise SystemExit("the demo seed issued no active credential")
        credential_id = str(listed[0]["id"])

        shots = Path(tmp) / "shots"
        shots.mkdir()
        log_path = Path(tmp) / "server.log"
        taken: list[Path] = []
        try:
            with running_app(env, log_path) as base_url, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                try:
                    taken += trainee_pictures(browser, base_url, shots)
                    taken += instructor_pictures(browser, base_url, shots)
                    taken += verify_picture(browser, base_url, credential_id, shots)
                finally:
                    browser.close()
        except Exception:
            if log_path.exists():
                print(f"Server log:\n{log_path.read_text()[-3000:]}", file=sys.stderr)
            raise
        # Only a complete set replaces the pictures in place.
        for shot in taken:
            target = out / shot.name
            shutil.copyfile(shot, target)
            print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
