"""The layering rules, checked on the source: only ``evaluator_cert/ui`` (and the pages and
app entry points) import streamlit; pages reach data through services, never the ORM."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evaluator_cert.config import REPO_ROOT
from evaluator_cert.db.models import Base

PACKAGE = REPO_ROOT / "evaluator_cert"
PAGES = sorted((REPO_ROOT / "app_pages").glob("*.py"))
MAPPED = {mapper.class_.__name__ for mapper in Base.registry.mappers}
SESSION_CALLS = {"get", "execute", "scalar", "scalars", "query", "add", "delete", "merge"}


def _imports(path: Path) -> set[tuple[str, str]]:
    """(module, name) of every import in a file; name is "" for ``import module``."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name, "") for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {(node.module, alias.name) for alias in node.names}
    return found


def _outside_ui() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "ui" not in p.relative_to(PACKAGE).parts]


@pytest.mark.parametrize("path", _outside_ui(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_ui_package_imports_streamlit(path: Path) -> None:
    assert not {m for m, _ in _imports(path) if m.split(".")[0] == "streamlit"}


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_reach_data_through_services(path: Path) -> None:
    imports = _imports(path)
    assert not {m for m, _ in imports if m.split(".")[0] == "sqlalchemy"}
    models = {name for m, name in imports if m == "evaluator_cert.db.models"}
    assert not models & MAPPED, f"{path.name} imports ORM models {sorted(models & MAPPED)}"
    calls = {
        node.func.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
    }
    assert not calls & SESSION_CALLS, f"{path.name} queries the session itself: {calls}"


def test_the_checks_see_what_they_forbid(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    page.write_text(
        "from evaluator_cert.db.models import User\nwith x() as session:\n"
        "    session.get(User, 1)\n"
    )
    assert ("evaluator_cert.db.models", "User") in _imports(page)
    with pytest.raises(AssertionError, match="imports ORM models"):
        test_pages_reach_data_through_services(page)
