"""Backup, restore and export: nothing answered is lost on the way, nothing secret leaves."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from evaluator_cert import cli
from evaluator_cert.config import REPO_ROOT, Settings, get_settings
from evaluator_cert.db.models import Annotation, Base
from evaluator_cert.errors import InvalidInputError
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts, attempts
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.backup import BackupError, backup, restore
from evaluator_cert.services.export import COLUMNS, export_annotations
from evaluator_cert.simulation import simulated_answer


def _populate(ctx: AppContext, trainees: int = 3, answers: int = 6) -> None:
    catalog = ctx.base_catalog
    module_id = catalog.modules_of("L1")[0].id
    rng = random.Random(7)
    for n in range(trainees):
        with ctx.session() as s:
            user = accounts.create_user(
                s, ctx.settings, username=f"t{n}", password="pass-word-123", role="trainee"
            )
            actor = Actor.of(user)
            attempt_id = attempts.start_practice(s, actor, catalog, module_id)
            view = attempts.attempt_view(s, actor, catalog, attempt_id)
            for key in view.item_ids[:answers]:
                item = catalog.item(attempts.base_item_id(key))
                answer = simulated_answer(item, 0.8, rng)
                attempts.record_answer(s, actor, catalog, attempt_id, key, answer)


def _answers_digest(conn: sqlite3.Connection) -> str:
    rows = conn.execute(
        "SELECT a.attempt_id, a.item_id, a.answer, g.score FROM annotations a "
        "JOIN grades g ON g.annotation_id = a.id ORDER BY a.attempt_id, a.item_id"
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in Base.metadata.tables
    }


def _db_file(settings: Settings) -> Path:
    return Path(settings.database_url.split("///", 1)[1])


def test_backup_then_restore_into_empty_database_keeps_every_row(
    sqlite_ctx: AppContext, tmp_path: Path
) -> None:
    _populate(sqlite_ctx)
    out = tmp_path / "backups" / "b1.sqlite"
    out.parent.mkdir()
    message = backup(sqlite_ctx, out)
    assert "18 annotations" in message and str(out) in message
    assert not list(out.parent.glob(".*partial*"))

    fresh = Settings(data_dir=tmp_path / "fresh", content_dir=sqlite_ctx.settings.content_dir)
    restored = restore(fresh, out)
    assert "18 annotations" in restored

    with (
        sqlite3.connect(_db_file(sqlite_ctx.settings)) as a,
        sqlite3.connect(_db_file(fresh)) as b,
    ):
        assert _counts(a) == _counts(b)
        assert _counts(b)["annotations"] == 18
        assert _answers_digest(a) == _answers_digest(b)

    # The restored database is a working installation: the trainee resumes where they were.
    ctx2 = AppContext.open(fresh)
    try:
        with ctx2.session() as s:
            user = accounts.get_user(s, "t0")
            assert user is not None
            actor = Actor.of(user)
            module_id = ctx2.base_catalog.modules_of("L1")[0].id
            attempt_id = attempts.open_attempt_id(s, actor, kind="practice", module_id=module_id)
            assert attempt_id is not None
            view = attempts.attempt_view(s, actor, ctx2.base_catalog, attempt_id)
        assert view.answered == 6
    finally:
        ctx2.dispose()


def test_restore_refuses_a_database_that_holds_data(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    _populate(sqlite_ctx, trainees=1, answers=2)
    out = tmp_path / "b.sqlite"
    backup(sqlite_ctx, out)
    before = out.read_bytes()
    with pytest.raises(BackupError, match="only goes into an empty database"):
        restore(sqlite_ctx.settings, out)
    with sqlite3.connect(_db_file(sqlite_ctx.settings)) as conn:
        assert _counts(conn)["annotations"] == 2
    assert out.read_bytes() == before


def test_restore_into_a_migrated_but_empty_database_works(
    sqlite_ctx: AppContext, tmp_path: Path
) -> None:
    _populate(sqlite_ctx, trainees=1, answers=3)
    out = tmp_path / "b.sqlite"
    backup(sqlite_ctx, out)
    fresh = Settings(data_dir=tmp_path / "fresh", content_dir=sqlite_ctx.settings.content_dir)
    AppContext.open(fresh).dispose()  # schema created, no rows
    assert "3 annotations" in restore(fresh, out)


def test_backup_refuses_to_overwrite_and_rejects_junk_restores(
    sqlite_ctx: AppContext, tmp_path: Path
) -> None:
    out = tmp_path / "b.sqlite"
    out.write_text("precious")
    with pytest.raises(BackupError, match="already exists"):
        backup(sqlite_ctx, out)
    assert out.read_text() == "precious"
    with pytest.raises(BackupError, match="does not exist"):
        backup(sqlite_ctx, tmp_path / "missing" / "b.sqlite")
    fresh = Settings(data_dir=tmp_path / "fresh")
    with pytest.raises(BackupError, match="not an evaluator-cert backup"):
        restore(fresh, out)
    with pytest.raises(BackupError, match="no backup file"):
        restore(fresh, tmp_path / "nope.sqlite")


def test_postgres_backup_and_restore_name_the_pg_tools(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://u:secret@db.example:5432/ec"
    )

    class _Ctx:
        pass

    fake = _Ctx()
    fake.settings = settings  # type: ignore[attr-defined]
    with pytest.raises(BackupError) as info:
        backup(fake, tmp_path / "x.dump")  # type: ignore[arg-type]
    assert "pg_dump --format=custom" in str(info.value)
    assert "secret" not in str(info.value)
    with pytest.raises(BackupError) as info:
        restore(settings, tmp_path / "x.dump")
    assert "pg_restore" in str(info.value) and "secret" not in str(info.value)


def _collect(items: Iterable[Any], total: int, label: str) -> Iterator[Any]:
    seen = []
    for item in items:
        seen.append(item)
        yield item
    _collect.calls.append((label, total, len(seen)))  # type: ignore[attr-defined]


def test_export_csv_and_jsonl_hold_every_answer_and_no_secrets(
    ctx: AppContext, tmp_path: Path
) -> None:
    _populate(ctx, trainees=2, answers=5)
    with ctx.session() as s:
        total = s.scalar(select(func.count()).select_from(Annotation))
        stored = {(a.attempt_id, a.item_id): a.answer for a in s.scalars(select(Annotation)).all()}
        _collect.calls = []  # type: ignore[attr-defined]
        n_csv = export_annotations(s, tmp_path / "a.csv", None, progress=_collect)
        n_jsonl = export_annotations(s, tmp_path / "a.out", "jsonl")
    assert n_csv == n_jsonl == total == 10
    assert _collect.calls == [("export", 10, 10)]  # type: ignore[attr-defined]

    with open(tmp_path / "a.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert {(int(r["attempt_id"]), r["item_id"]): json.loads(r["answer"]) for r in rows} == stored
    lines = [json.loads(line) for line in (tmp_path / "a.out").read_text().splitlines()]
    assert {(r["attempt_id"], r["item_id"]): r["answer"] for r in lines} == stored
    assert all(isinstance(r["score"], float) for r in lines)

    everything = (tmp_path / "a.csv").read_text() + (tmp_path / "a.out").read_text()
    for secret in ("argon2", "password", "$argon2id$"):
        assert secret not in everything


def test_export_needs_a_known_format(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    with sqlite_ctx.session() as s, pytest.raises(InvalidInputError, match="--format"):
        export_annotations(s, tmp_path / "a.xlsx", None)


# ----------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "cli-data"
    monkeypatch.setenv("EVALUATOR_CERT_DATA_DIR", str(data))
    monkeypatch.delenv("EVALUATOR_CERT_DATABASE_URL", raising=False)
    monkeypatch.setenv("EVALUATOR_CERT_SECRET_KEY", "test-secret")
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_cli_backup_restore_and_export_round_trip(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    ctx = AppContext.open(get_settings())
    _populate(ctx, trainees=1, answers=4)
    ctx.dispose()
    assert cli.main(["backup", str(tmp_path / "b.sqlite")]) == 0
    assert "4 annotations" in capsys.readouterr().out
    assert cli.main(["export", str(tmp_path / "e.jsonl")]) == 0
    assert "Wrote 4 annotations" in capsys.readouterr().out
    # restore into the same (non-empty) database: one sentence, exit 1
    assert cli.main(["restore", str(tmp_path / "b.sqlite")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Restore only goes into an empty database")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("EVALUATOR_CERT_DATA_DIR", str(tmp_path / "other"))
    get_settings.cache_clear()
    assert cli.main(["restore", str(tmp_path / "b.sqlite")]) == 0
    assert "4 annotations" in capsys.readouterr().out


def _limit_file_size() -> None:
    # A file-size limit makes writes fail with EFBIG, as a full disk fails them with ENOSPC.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_cli_backup_on_a_full_disk_is_one_sentence_and_leaves_nothing(
    cli_env: Path, tmp_path: Path
) -> None:
    ctx = AppContext.open(get_settings())
    _populate(ctx, trainees=4, answers=10)
    ctx.dispose()
    db = _db_file(get_settings())
    assert db.stat().st_size > 64 * 1024  # larger than the writable limit below
    out = tmp_path / "full" / "b.sqlite"
    out.parent.mkdir()
    env = {**os.environ, "EVALUATOR_CERT_DATA_DIR": str(cli_env)}
    proc = subprocess.run(
        [sys.executable, "-m", "evaluator_cert", "backup", str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: The backup could not be written to")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(out.parent.iterdir()) == []


def test_cli_backup_into_an_unwritable_target(cli_env: Path, tmp_path: Path, capsys) -> None:
    AppContext.open(get_settings()).dispose()
    target = tmp_path / "a-file"
    target.write_text("x")
    assert cli.main(["backup", str(target / "b.sqlite")]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
