"""The admin CLI, run as operators run it (a subprocess with EVALUATOR_CERT_* settings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from evaluator_cert.config import REPO_ROOT
from evaluator_cert.content.schema import TASK_TYPES

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "content"


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EVALUATOR_CERT_DATA_DIR": str(tmp_path / "data")}
    env.pop("EVALUATOR_CERT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "evaluator_cert", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )


def test_init_db_prints_a_generated_admin_password_once(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "init-db")
    assert first.returncode == 0, first.stderr
    assert "password:" in first.stdout
    second = run_cli(tmp_path, "init-db")
    assert second.returncode == 0 and "password:" not in second.stdout


def test_create_user_and_set_role(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "create-user", "ada", "--role", "instructor").returncode == 0
    dup = run_cli(tmp_path, "create-user", "ada")
    assert dup.returncode == 1 and dup.stderr.strip() == "error: The username 'ada' is taken."
    assert run_cli(tmp_path, "set-role", "ada", "admin").stdout.strip() == "ada is now admin."


def test_validate_content_json_counts_the_shipped_bank(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "validate-content", "--json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert report["levels"] == 3 and report["modules"] >= 15 and report["items"] >= 600
    assert set(report["items_by_task_type"]) == set(TASK_TYPES)
    assert min(report["practice_items_by_module"].values()) >= 25
    assert min(report["exam_items_by_level"].values()) >= 60
    assert min(report["calibration_items_by_level"].values()) >= 20


def test_import_content_reports_skips_and_writes_a_loadable_set(tmp_path: Path) -> None:
    rows = next((FIXTURES / "imports").glob("*.csv"))
    out = tmp_path / "imported.yaml"
    result = run_cli(
        tmp_path,
        "import-content",
        "rows",
        str(rows),
        "--out",
        str(out),
        "--kind",
        "exam",
        "--level",
        "L1",
        "--id-prefix",
        "L1_Z",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipped" in result.stdout and out.exists()


def test_unwritable_data_folder_is_one_sentence(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    env_dir = blocked / "data"
    result = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", "init-db"],
        capture_output=True,
        text=True,
        env={**os.environ, "EVALUATOR_CERT_DATA_DIR": str(env_dir)},
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
