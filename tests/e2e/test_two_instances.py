"""Two app instances on one PostgreSQL database, sharing the signing key folder.

What a sticky-session deployment (deploy/compose.yaml) relies on: a write made while one
instance serves is visible through the other at once, and a credential signed on one side
verifies on the other. Each instance is a real ``streamlit run asgi.py`` process on its own
port; the browser test gives the answers and sits the exam through instance A's pages. The
last test puts the deployment's Caddyfile, run by a real Caddy, in front of both.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.db.engine import make_engine
from evaluator_cert.db.models import Credential, utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.credentials import issue_credential, revoke_credential
from evaluator_cert.services.demo import ensure_demo_accounts
from tests.conftest import FIXTURE_CONTENT, pass_every_module
from tests.e2e.conftest import app_env, free_port, running_app, running_server, settings_from
from tests.e2e.test_trainee_journey import ITEM_HEADING, ROUTINES, log_in, settle

POSTGRES_URL = os.environ.get("EVALUATOR_CERT_TEST_POSTGRES_URL")
CADDY = shutil.which("caddy")
CADDYFILE = REPO_ROOT / "deploy" / "Caddyfile"
BASE_URL = "https://cert.example.org"  # the public address both instances sit behind
SECRET_KEY = "shared-secret"
# The L1 exam bank for this test: text -> gold. Both labels occur, so answering every item
# with its gold gives a defined kappa of 1: the pass rests on a measured figure.
EXAM_BANK = {
    "I love it, it works perfectly.": "positive",
    "Best purchase I made this year.": "positive",
    "It broke on the first day.": "negative",
    "Support never answered my emails.": "negative",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="EVALUATOR_CERT_TEST_POSTGRES_URL is not set"),
]


@dataclass(frozen=True)
class Instances:
    """The base URLs of instances A and B, and the settings both run on."""

    a: str
    b: str
    settings: Settings


def _request(base_url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    address = urlsplit(base_url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    payload = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if payload else {}
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return response.status, json.loads(data) if data else None


def _exam_content(folder: Path) -> Path:
    """The fixture content with an L1 exam bank of classification items only."""
    shutil.copytree(FIXTURE_CONTENT, folder)
    lines = [{"kind": "exam", "level": "L1", "title": "Two-instance exam bank"}]
    for number, (sentence, gold) in enumerate(EXAM_BANK.items(), start=1):
        lines.append(
            {
                "id": f"L1_X{number:03d}",
                "type": "classification",
                "instructions": "Label the sentiment.",
                "text": sentence,
                "labels": ["positive", "negative"],
                "gold": gold,
                "explanation": f"The review is plainly {gold}.",
            }
        )
    bank = folder / "assessments" / "exams" / "L1.jsonl"
    bank.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def _seed(ctx: AppContext) -> None:
    """The demo accounts, with the trainee past every L1 module so the L1 exam is open."""
    ensure_demo_accounts(ctx)
    with ctx.session() as s:
        trainee = accounts.get_user(s, "trainee")
        assert trainee is not None
    pass_every_module(ctx, trainee.id, "L1")


@pytest.fixture
def schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test, dropped afterwards."""
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def instances(schema_url: str, tmp_path: Path) -> Iterator[Instances]:
    """Instances A and B on one schema (migrated and seeded once, so both find it current),
    one data folder (hence one key folder), one secret and one public address."""
    env = app_env(
        {
            "EVALUATOR_CERT_DATABASE_URL": schema_url,
            "EVALUATOR_CERT_DATA_DIR": str(tmp_path / "shared-data"),
            "EVALUATOR_CERT_CONTENT_DIR": str(_exam_content(tmp_path / "content")),
            "EVALUATOR_CERT_BASE_URL": BASE_URL,
            "EVALUATOR_CERT_SECRET_KEY": SECRET_KEY,
        }
    )
    settings = settings_from(env)
    ctx = AppContext.open(settings)
    try:
        _seed(ctx)
    finally:
        ctx.dispose()
    with ExitStack() as stack:
        a, b = (
            stack.enter_context(running_app(env, free_port(), tmp_path / f"instance-{name}.log"))
            for name in "ab"
        )
        yield Instances(a, b, settings)


def _issue(ctx: AppContext) -> tuple[str, str]:
    """(id, signed token) of an L1 credential issued to a new holder while both serve."""
    with ctx.session() as s:
        user = accounts.create_user(
            s,
            ctx.settings,
            username="holder",
            password="a-long-password-1",
            display_name="Hana Holder",
            check_policy=False,
        )
        credential = issue_credential(
            s, user, ctx.base_catalog, "L1", 0.82, utcnow(), settings=ctx.settings
        )
        s.commit()
        return credential.id, credential.jwt


def test_keys_credentials_and_revocation_are_shared(instances: Instances) -> None:
    """Both instances publish one JWKS; a credential written while they serve is seen, and
    verifies, on both, and so is its revocation."""
    a, b = instances.a, instances.b
    assert _request(a, "GET", "/.well-known/jwks.json") == _request(
        b, "GET", "/.well-known/jwks.json"
    )

    ctx = AppContext.open(instances.settings, migrate_schema=False)
    try:
        credential_id, token = _issue(ctx)
        status, facts_a = _request(a, "GET", f"/api/v1/credentials/{credential_id}")
        assert status == 200 and facts_a["status"] == "active"
        status, facts_b = _request(b, "GET", f"/api/v1/credentials/{credential_id}")
        assert status == 200 and facts_b == facts_a
        status, verdict = _request(b, "POST", "/api/v1/verify", {"credential_jwt": token})
        assert status == 200
        assert verdict["valid"] is True, verdict

        # A change written while both serve shows on both: no instance keeps stale state.
        with ctx.session() as s:
            revoke_credential(s, None, credential_id, "Shared-state check.")
            s.commit()
        for base in (a, b):
            status, facts = _request(base, "GET", f"/api/v1/credentials/{credential_id}")
            assert status == 200 and facts["status"] == "revoked"
        status, verdict = _request(b, "POST", "/api/v1/verify", {"credential_jwt": token})
        assert status == 200 and verdict["valid"] is False
    finally:
        ctx.dispose()


def _answer_practice_item(page: Any, wait: Callable[..., None]) -> int:
    """Open the default module's practice set (L1_M001, whose task types all have a routine)
    and answer its first item; returns the set size."""
    page.get_by_role("link", name="Practice").click()
    page.get_by_role("combobox", name="Module").wait_for()
    settle(page, wait)
    # Every L1 module is passed already, so the set starts from "Practise again".
    page.get_by_role("button", name="Practise again").click()
    heading = page.get_by_role("heading", name=ITEM_HEADING)
    heading.wait_for()
    settle(page, wait)
    match = ITEM_HEADING.match(heading.inner_text())
    assert match is not None and match.group(2) == "1"
    ROUTINES[match.group(1)](page)
    page.get_by_role("button", name="Submit answer").click()
    # Feedback shows only once the answer is saved.
    page.get_by_text("Why:").wait_for()
    settle(page, wait)
    return int(match.group(3))


def _pass_l1_exam(page: Any, wait: Callable[..., None]) -> None:
    """Sit the L1 exam, answering every item with its gold, and submit it."""
    page.get_by_role("link", name="Exams").click()
    page.get_by_role("heading", name="Exams").wait_for()
    settle(page, wait)
    page.get_by_role("button", name="Start the L1 exam now").click()
    heading = page.get_by_role("heading", name=ITEM_HEADING)
    heading.wait_for()
    settle(page, wait)
    match = ITEM_HEADING.match(heading.inner_text())
    assert match is not None
    total = int(match.group(3))
    assert total == len(EXAM_BANK)
    for answered in range(1, total + 1):
        main = page.get_by_test_id("stMain").inner_text()
        shown = [sentence for sentence in EXAM_BANK if sentence in main]
        assert len(shown) == 1, shown
        group = page.get_by_role("radiogroup", name="Your label")
        group.get_by_text(EXAM_BANK[shown[0]], exact=True).click()
        page.get_by_role("button", name="Submit answer").click()
        page.get_by_text(f"{answered} of {total} answered").wait_for()
        settle(page, wait)
    page.get_by_text("All items answered.").wait_for()
    page.get_by_role("button", name="Submit exam").click()
    page.get_by_role("button", name="Yes, submit now").click()
    page.get_by_role("heading", name="Your attempts").wait_for()
    settle(page, wait)
    page.get_by_text("Passed with overall agreement 1.00.").wait_for()


def test_answer_and_credential_from_one_instance_are_seen_on_the_other(
    instances: Instances, browser: Any, page: Any, wait_for_app: Callable[..., None]
) -> None:
    """A practice answer given in instance A's pages resumes the set on instance B; the L1
    credential that A issues and signs when its exam is passed verifies on B, by the API and
    on B's public Verify page."""
    a, b = instances.a, instances.b
    log_in(page, a, wait_for_app)
    total = _answer_practice_item(page, wait_for_app)

    # A fresh context: no cookie or session carried over from A.
    context_b = browser.new_context(viewport={"width": 1280, "height": 900})
    context_b.set_default_timeout(30_000)
    try:
        page_b = context_b.new_page()
        log_in(page_b, b, wait_for_app)
        page_b.get_by_role("link", name="Practice").click()
        # B resumes the set A opened, past the answer A saved.
        page_b.get_by_text(f"1 of {total} answered").wait_for()
        page_b.get_by_role("heading", name=re.compile(rf"· item 2 of {total}")).wait_for()
        assert page_b.get_by_role("button", name="Practise again").count() == 0

        _pass_l1_exam(page, wait_for_app)
        engine = make_engine(instances.settings.database_url)
        try:
            with engine.connect() as conn:
                credentials = conn.execute(select(Credential.id, Credential.jwt)).all()
        finally:
            engine.dispose()
        assert len(credentials) == 1, "A's exam pass issues exactly one credential"
        credential_id, token = credentials[0]

        status, verdict = _request(b, "POST", "/api/v1/verify", {"credential_jwt": token})
        assert status == 200
        assert verdict["valid"] is True, verdict

        page_b.goto(f"{b}/verify?id={credential_id}")
        wait_for_app(page_b)
        verdict_heading = page_b.locator("[data-testid='stAlertContentSuccess'] h3")
        verdict_heading.wait_for()
        assert verdict_heading.inner_text().strip() == "Valid"
        # The details list under the verdict names the credential (it may render a moment later).
        page_b.get_by_test_id("stMain").get_by_text(credential_id).first.wait_for()
    finally:
        context_b.close()


@contextmanager
def caddy_in_front(upstreams: list[str], folder: Path) -> Iterator[str]:
    """The deployment's own ``deploy/Caddyfile`` in a real Caddy on a free port, in front of
    ``upstreams`` (``host:port``) instead of the compose services; yields its base URL."""
    assert CADDY is not None
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = folder / "Caddyfile"
    # The file imported whole; only Caddy's admin endpoint is off, so that one running on
    # this machine does not clash with this one.
    config.write_text(f"{{\n\tadmin off\n}}\nimport {CADDYFILE}\n")
    env = {
        **os.environ,
        "SITE_ADDRESS": base_url,
        "APP_UPSTREAMS": " ".join(upstreams),
        "HOME": str(folder),
        "XDG_DATA_HOME": str(folder / "data"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }
    command = [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"]
    with running_server(command, env, base_url, folder / "caddy.log") as url:
        yield url


def _status(base_url: str, path: str) -> int:
    address = urlsplit(base_url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.skipif(CADDY is None, reason="caddy is missing: `apt-get install -y caddy`")
def test_behind_the_proxy_a_browser_keeps_to_one_instance(
    instances: Instances, page: Any, wait_for_app: Callable[..., None], tmp_path: Path
) -> None:
    """deploy/Caddyfile, run by Caddy in front of both instances. A file that a download
    button offers lives in the memory of the instance that drew the page: asked of the
    other instance it is not found. Through the proxy every download arrives, page load
    after page load, because the browser's "lb" cookie keeps it on one instance. The
    stateless API answers through the proxy too."""
    ctx = AppContext.open(instances.settings, migrate_schema=False)
    try:
        credential_id, token = _issue(ctx)
    finally:
        ctx.dispose()
    upstreams = [urlsplit(base).netloc for base in (instances.a, instances.b)]
    with caddy_in_front(upstreams, tmp_path / "caddy") as proxy:
        status, verdict = _request(proxy, "POST", "/api/v1/verify", {"credential_jwt": token})
        assert status == 200 and verdict["valid"] is True, verdict

        serving: set[str] = set()
        for _ in range(4):
            page.goto(f"{proxy}/verify?id={credential_id}")
            wait_for_app(page)
            with page.expect_download() as download_info:
                page.get_by_role("button", name="Download JSON").click()
            download = download_info.value
            assert json.loads(Path(download.path()).read_text())["id"] == credential_id
            media = urlsplit(download.url).path
            found = {base: _status(base, media) for base in (instances.a, instances.b)}
            assert sorted(found.values()) == [200, 404], (media, found)
            serving |= {base for base, code in found.items() if code == 200}
        assert len(serving) == 1, serving  # every page load was drawn by the same instance
        assert any(c["name"] == "lb" for c in page.context.cookies())
