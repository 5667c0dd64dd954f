"""Two app instances on one PostgreSQL database, sharing the signing key folder.

What a sticky-session deployment (deploy/compose.yaml) relies on: a write made while one
instance serves is visible through the other at once, and a credential signed on one side
verifies on the other. Each instance is a real ``streamlit run asgi.py`` process.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.db.engine import make_engine
from evaluator_cert.db.models import utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.credentials import issue_credential, revoke_credential

POSTGRES_URL = os.environ.get("EVALUATOR_CERT_TEST_POSTGRES_URL")
BASE_URL = "https://cert.example.org"  # the public address both instances sit behind

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="EVALUATOR_CERT_TEST_POSTGRES_URL is not set"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    payload = json.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json"} if payload else {}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


def _wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"instance on port {port} exited with {server.returncode}")
        try:
            status, body = _request(port, "GET", "/healthz")
            if status == 200 and body["status"] == "ok":
                return
        except (OSError, http.client.HTTPException, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"instance on port {port} never became healthy")


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    """A fresh schema, migrated once (instances then find it current), and the key folder."""
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    settings = Settings(
        data_dir=tmp_path / "shared-data",
        content_dir=REPO_ROOT,
        database_url=url,
        base_url=BASE_URL,
        secret_key="shared-secret",
    )
    ctx = AppContext.open(settings)
    ctx.dispose()
    try:
        yield settings, url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def instances(shared: tuple[Settings, str], tmp_path: Path) -> Iterator[tuple[int, int]]:
    settings, url = shared
    env = {
        **os.environ,
        "EVALUATOR_CERT_DATABASE_URL": url,
        "EVALUATOR_CERT_DATA_DIR": str(settings.data_dir),
        "EVALUATOR_CERT_BASE_URL": BASE_URL,
        "EVALUATOR_CERT_SECRET_KEY": "shared-secret",
    }
    ports = (_free_port(), _free_port())
    servers = []
    for name, port in zip("ab", ports, strict=True):
        log = (tmp_path / f"instance-{name}.log").open("wb")
        servers.append(
            subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "asgi.py",
                 "--server.headless", "true", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
    try:
        for port, server in zip(ports, servers, strict=True):
            _wait_healthy(port, server)
        yield ports
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


def test_state_and_credentials_are_shared(
    shared: tuple[Settings, str], instances: tuple[int, int]
) -> None:
    settings, _ = shared
    a, b = instances
    # Both instances publish the same keys: they read one key folder.
    assert _request(a, "GET", "/.well-known/jwks.json") == _request(
        b, "GET", "/.well-known/jwks.json"
    )

    # Issued while A serves (through the service layer, with the shared key folder)...
    ctx = AppContext.open(settings, migrate_schema=False)
    try:
        with ctx.session() as s:
            user = accounts.create_user(
                s,
                settings,
                username="holder",
                password="a-long-password-1",
                display_name="Hana Holder",
                check_policy=False,
            )
            credential = issue_credential(
                s, user, ctx.base_catalog, "L1", 0.82, utcnow(), settings=settings
            )
            s.commit()
            credential_id, token = credential.id, credential.jwt
        status, facts_a = _request(a, "GET", f"/api/v1/credentials/{credential_id}")
        assert status == 200 and facts_a["status"] == "active"

        # ... it is seen on B at once and its signature verifies there.
        status, facts_b = _request(b, "GET", f"/api/v1/credentials/{credential_id}")
        assert status == 200 and facts_b == facts_a
        status, verdict = _request(b, "POST", "/api/v1/verify", {"credential_jwt": token})
        assert status == 200
        assert verdict["valid"] is True, verdict

        # A change written while both serve shows on both: no instance keeps stale state.
        with ctx.session() as s:
            revoke_credential(s, None, credential_id, "Shared-state check.")
            s.commit()
        for port in (a, b):
            status, facts = _request(port, "GET", f"/api/v1/credentials/{credential_id}")
            assert status == 200 and facts["status"] == "revoked"
        status, verdict = _request(b, "POST", "/api/v1/verify", {"credential_jwt": token})
        assert status == 200 and verdict["valid"] is False
    finally:
        ctx.dispose()
