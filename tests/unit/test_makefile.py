"""``make run`` / ``make serve`` hand the app the base URL of the port they serve on, so share
links, QR codes and PDFs point to it; an explicit setting always wins."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from evaluator_cert.config import REPO_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

# Stand-ins for the venv's programs: they only say what base URL they were given.
FAKE = '#!/bin/sh\necho "$(basename "$0") $EVALUATOR_CERT_BASE_URL"\n'


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for program in ("python", "streamlit"):
        path = venv / "bin" / program
        path.write_text(FAKE)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    # newer than requirements.txt and pyproject.toml, so `install` has nothing to do
    installed = venv / ".installed"
    installed.touch()
    newest = max((REPO_ROOT / f).stat().st_mtime for f in ("requirements.txt", "pyproject.toml"))
    stamp = max(time.time(), newest + 1)
    os.utime(installed, (stamp, stamp))
    return venv


def _make(venv: Path, *args: str, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EVALUATOR_CERT_", "MAKE"))}
    clean.pop("PORT", None)
    result = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(REPO_ROOT), *args, f"VENV={venv}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def test_serve_defaults_the_base_url_to_its_port(fake_venv: Path) -> None:
    assert _make(fake_venv, "serve") == ["streamlit http://localhost:8501"]
    assert _make(fake_venv, "serve", PORT="8600") == ["streamlit http://localhost:8600"]
    assert _make(fake_venv, "serve", "PORT=8601") == ["streamlit http://localhost:8601"]


def test_run_seeds_and_serves_with_the_same_base_url(fake_venv: Path) -> None:
    assert _make(fake_venv, "run", PORT="8600") == [
        "python http://localhost:8600",  # seed-demo issues the demo credentials
        "streamlit http://localhost:8600",
    ]


def test_an_explicit_base_url_always_wins(fake_venv: Path) -> None:
    proxy = "https://certs.example.org"
    assert _make(fake_venv, "run", PORT="8600", EVALUATOR_CERT_BASE_URL=proxy) == [
        f"python {proxy}",
        f"streamlit {proxy}",
    ]
    cli = f"EVALUATOR_CERT_BASE_URL={proxy}/cli"
    assert _make(fake_venv, "serve", cli, PORT="8600") == [f"streamlit {proxy}/cli"]
    # set but empty counts as unset, as the app itself reads it
    assert _make(fake_venv, "serve", PORT="8602", EVALUATOR_CERT_BASE_URL="") == [
        "streamlit http://localhost:8602"
    ]
