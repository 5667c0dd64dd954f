"""AppTest fixtures: the app pointed at a fresh SQLite database, and a log-in helper that
stores what the login form stores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaluator_cert import runtime
from evaluator_cert.config import REPO_ROOT, get_settings
from evaluator_cert.db.models import User
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts
from evaluator_cert.services.actors import Actor
from evaluator_cert.ui.state import ACTOR_KEY

APP = str(REPO_ROOT / "app.py")
PASSWORD = "pass-word-123"


@pytest.fixture
def app_ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    """A migrated database that app.py (run by AppTest in this process) also uses."""
    monkeypatch.setenv("EVALUATOR_CERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EVALUATOR_CERT_DATABASE_URL", raising=False)
    monkeypatch.setenv("EVALUATOR_CERT_SECRET_KEY", "test-secret")
    content = os.environ.get("EVALUATOR_CERT_TEST_CONTENT_DIR")
    if content:
        monkeypatch.setenv("EVALUATOR_CERT_CONTENT_DIR", content)
    get_settings.cache_clear()
    runtime._context = None
    st.cache_resource.clear()
    st.cache_data.clear()
    ctx = runtime.get_app()
    yield ctx
    ctx.dispose()
    runtime._context = None
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def make_user(app_ctx: AppContext) -> Callable[..., User]:
    def make(username: str, role: str = "trainee", **kwargs: object) -> User:
        with app_ctx.session() as session:
            return accounts.create_user(
                session,
                app_ctx.settings,
                username=username,
                password=PASSWORD,
                role=role,
                **kwargs,  # type: ignore[arg-type]
            )

    return make


def app_as(user: User | None, page: str | None = None, *, timeout: float = 30) -> AppTest:
    """The app (or one page file run on its own) with ``user`` logged in."""
    at = AppTest.from_file(
        APP if page is None else str(REPO_ROOT / "app_pages" / page), default_timeout=timeout
    )
    if user is not None:
        at.session_state[ACTOR_KEY] = Actor.of(user)
    return at


def page_text(at: AppTest) -> str:
    """Every text the rendered page carries (values, labels, options, captions...)."""
    parts: list[str] = []

    def walk(node: object) -> None:
        for attr in ("value", "label", "body", "options", "placeholder", "help", "proto"):
            try:
                value = getattr(node, attr)
            except Exception:  # widgets raise for attributes they do not have
                continue
            if value is not None and not callable(value):
                parts.append(str(value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)
