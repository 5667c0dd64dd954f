"""What a user or operator sees when something outside the code is broken: one clear
sentence, never a stack trace."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from evaluator_cert import api, runtime
from evaluator_cert.config import REPO_ROOT, get_settings
from tests.app.conftest import APP


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def fresh_process_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The app as a new process would see it, for settings set by the test."""
    monkeypatch.setenv("EVALUATOR_CERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EVALUATOR_CERT_SECRET_KEY", "test-secret")
    for var in ("DATABASE_URL", "CONTENT_DIR", "SIGNING_KEY_FILE"):
        monkeypatch.delenv(f"EVALUATOR_CERT_{var}", raising=False)

    def reset() -> None:
        if runtime._context is not None:
            runtime._context.dispose()
        runtime._context = None
        get_settings.cache_clear()
        st.cache_resource.clear()

    reset()
    yield
    reset()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **{f"EVALUATOR_CERT_{k}": v for k, v in extra.items()}}


def _no_trace(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text


# ------------------------------------------------------------------- database down


@pytest.fixture
def database_down(fresh_process_state: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"postgresql+psycopg://nobody:pw@127.0.0.1:{_closed_port()}/nothing"
    monkeypatch.setenv("EVALUATOR_CERT_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def test_database_down_page_shows_one_sentence(database_down: str) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("The database is not available right now.")
    assert "pw@" not in message  # the password is never shown
    _no_trace(message)
    assert not at.text_input  # nothing else of the app rendered


def test_database_down_healthz_is_503_json(database_down: str) -> None:
    with TestClient(Starlette(routes=api.routes), raise_server_exceptions=False) as tc:
        response = tc.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "unavailable"
    _no_trace(response.text)


def test_database_down_cli_exits_1_with_one_sentence(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody:pw@127.0.0.1:{_closed_port()}/nothing"
    proc = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", "init-db"],
        cwd=REPO_ROOT,
        env=_env(DATABASE_URL=url, DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: The database at")
    assert len(proc.stderr.strip().splitlines()) == 1
    _no_trace(proc.stderr)


def test_unusable_data_folder_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", "init-db"],
        cwd=REPO_ROOT,
        env=_env(DATA_DIR=str(blocker / "data")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.startswith("error: Cannot create the data folder")
    _no_trace(proc.stderr)


# ------------------------------------------------------------------- broken content


@pytest.fixture
def broken_content(fresh_process_state: None, tmp_path: Path, monkeypatch) -> tuple[Path, int]:
    root = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "curriculum", root / "curriculum")
    shutil.copytree(REPO_ROOT / "assessments", root / "assessments")
    target = root / "assessments" / "practice" / "L1_M001.yaml"
    lines = target.read_text().splitlines()
    line_no = next(i for i, line in enumerate(lines) if line.strip().startswith("gold:"))
    lines[line_no] = lines[line_no].split("gold:")[0] + "gold: [never closed"
    target.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("EVALUATOR_CERT_CONTENT_DIR", str(root))
    get_settings.cache_clear()
    return target, line_no + 1


def test_broken_content_page_names_file_and_line(broken_content: tuple[Path, int]) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "course content" in message
    assert re.search(r"L1_M001\.yaml:\d+", message), message
    _no_trace(message)


def test_broken_content_healthz_and_cli(broken_content: tuple[Path, int], tmp_path: Path) -> None:
    with TestClient(Starlette(routes=api.routes), raise_server_exceptions=False) as tc:
        response = tc.get("/healthz")
    assert response.status_code == 503 and "L1_M001.yaml:" in response.json()["content"]
    proc = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", "validate-content"],
        cwd=REPO_ROOT,
        env=_env(CONTENT_DIR=str(broken_content[0].parents[2]), DATA_DIR=str(tmp_path / "d")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "L1_M001.yaml:" in proc.stdout + proc.stderr
    _no_trace(proc.stdout + proc.stderr)


# ------------------------------------------------------------------- signing key


@pytest.fixture
def bad_key(fresh_process_state: None, tmp_path: Path, monkeypatch) -> Path:
    key = tmp_path / "signing-key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnot a key at all\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("EVALUATOR_CERT_SIGNING_KEY_FILE", str(key))
    get_settings.cache_clear()
    return key


def test_unreadable_signing_key_is_a_clear_503(bad_key: Path) -> None:
    with TestClient(Starlette(routes=api.routes), raise_server_exceptions=False) as tc:
        response = tc.get("/.well-known/jwks.json")
    assert response.status_code == 503
    assert response.json() == {"error": "The issuer's keys are not available right now."}


def test_unreadable_signing_key_in_the_cli_is_one_sentence(bad_key: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", "credentials", "verify", "a.b.c"],
        cwd=REPO_ROOT,
        env=_env(SIGNING_KEY_FILE=str(bad_key), DATA_DIR=str(tmp_path / "d")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    _no_trace(proc.stderr + proc.stdout)
    assert proc.returncode == 1
    if proc.stderr:
        assert proc.stderr.startswith("error:") and len(proc.stderr.strip().splitlines()) == 1
