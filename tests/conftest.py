"""Shared fixtures: settings on a temporary data folder, and an app context on SQLite and
(when EVALUATOR_CERT_TEST_POSTGRES_URL is set) on PostgreSQL, each test in its own schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.db.engine import make_engine
from evaluator_cert.db.models import ModuleProgress, utcnow
from evaluator_cert.runtime import AppContext

POSTGRES_URL = os.environ.get("EVALUATOR_CERT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def _postgres_schema_url(schema: str) -> str:
    assert POSTGRES_URL
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


FIXTURE_CONTENT = Path(__file__).parent / "fixtures" / "content"


def fixture_content_settings(tmp_path: Path) -> Settings:
    """Settings on the small fixture catalog (fast to load, every task type present)."""
    return Settings(
        data_dir=tmp_path / "data",
        content_dir=FIXTURE_CONTENT,
        base_url="http://testserver",
        secret_key="test-secret",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        content_dir=Path(os.environ.get("EVALUATOR_CERT_TEST_CONTENT_DIR", REPO_ROOT)),
        base_url="http://testserver",
        secret_key="test-secret",
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("EVALUATOR_CERT_TEST_POSTGRES_URL is not set")
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)  # type: ignore[arg-type]
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def ctx(settings: Settings, database_url: str) -> Iterator[AppContext]:
    """A migrated database on each backend, with the repository's content."""
    context = AppContext.open(settings.with_(database_url=database_url))
    yield context
    context.dispose()


@pytest.fixture
def sqlite_ctx(settings: Settings) -> Iterator[AppContext]:
    """A migrated SQLite database only (for tests that are not about the data layer)."""
    context = AppContext.open(settings)
    yield context
    context.dispose()


def pass_every_module(ctx: AppContext, user_id: int, level_id: str) -> None:
    """Record every module of ``level_id`` as passed two days ago, so its exam is open."""
    with ctx.session() as s:
        for module in ctx.base_catalog.modules_of(level_id):
            s.add(
                ModuleProgress(
                    user_id=user_id,
                    module_id=module.id,
                    graded_items=module.gate.min_items,
                    agreement=0.85,
                    passed_at=utcnow() - timedelta(days=2),
                )
            )
        s.commit()


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent on ``engine`` inside the block (round trips on the hot paths
    are part of their cost, so some tests bound their number)."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
