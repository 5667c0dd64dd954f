"""Whatever is written into a content file, loading ends in a catalog or a ContentError."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluator_cert.content import ContentError, load_catalog
from evaluator_cert.content.loader import ITEM_CLASSES
from evaluator_cert.content.schema import TASK_TYPES

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "content"
TARGET = "assessments/practice/L1_M002.yaml"

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "content"
        shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("imports"))
        yield root


_STAMP = iter(range(10**18, 2 * 10**18, 10**9))


@contextmanager
def _replaced(base: Path, rel: str, data: bytes) -> Iterator[None]:
    """``rel`` holds ``data`` inside the block; the original is put back afterwards.

    Each write gets a fresh modification time, so the catalog cache never serves a stale
    result and no per-example copy of the tree is needed.
    """
    path = base / rel
    original = path.read_bytes()
    try:
        path.write_bytes(data)
        stamp = next(_STAMP)
        os.utime(path, ns=(stamp, stamp))
        yield
    finally:
        path.write_bytes(original)
        stamp = next(_STAMP)
        os.utime(path, ns=(stamp, stamp))


def _load_with(base: Path, rel: str, data: bytes) -> None:
    """Loading ends in a catalog or a ContentError whose problems are well formed."""
    with _replaced(base, rel, data):
        try:
            catalog = load_catalog(base)
        except ContentError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.message and isinstance(problem.path, str)
                assert problem.line is None or problem.line >= 1
                str(problem)
        else:
            assert len(catalog.version) == 12


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text_as_an_item_file(base: Path, text: str) -> None:
    _load_with(base, TARGET, text.encode("utf-8", errors="surrogatepass"))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_an_item_file(base: Path, data: bytes) -> None:
    _load_with(base, TARGET, data)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_jsonl_bank_and_a_module(base: Path, data: bytes) -> None:
    _load_with(base, "assessments/exams/L1.jsonl", data)
    _load_with(base, "curriculum/L1/L1_M002.yaml", data)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["A", "B", "tie", "c1", "supported", "L1_M002_P09", "media/x.png"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = sorted({name for model in ITEM_CLASSES.values() for name in model.model_fields})


@st.composite
def item_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Dicts shaped like items: real field names and task types, values of any shape."""
    item: dict[str, Any] = draw(
        st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=len(_FIELDS))
    )
    if draw(st.booleans()):
        item["type"] = draw(st.sampled_from([*TASK_TYPES, "foo"]))
    if draw(st.booleans()):
        item["id"] = draw(st.sampled_from(["L1_M002_P09", "L1_M001_P01", "bad id"]))
    return item


@FUZZ
@given(st.lists(item_dicts(), min_size=0, max_size=4), st.sampled_from(["yaml", "jsonl"]))
def test_arbitrary_item_dicts_never_crash_the_loader(
    base: Path, items: list[dict[str, Any]], fmt: str
) -> None:
    header = {"kind": "practice", "level": "L1", "module": "L1_M002"}
    if fmt == "yaml":
        data = yaml.safe_dump({**header, "items": items}, allow_unicode=True).encode()
        _load_with(base, TARGET, data)
    else:
        lines = [json.dumps(header)] + [json.dumps(i, default=str) for i in items]
        _load_with(base, "assessments/exams/L1.jsonl", "\n".join(lines).encode())


def test_a_valid_item_survives_the_fuzz_harness(base: Path) -> None:
    # The harness itself must tell a good file from a bad one, or the fuzz proves nothing.
    with _replaced(base, TARGET, (base / TARGET).read_bytes()):
        assert len(load_catalog(base).items) == 14
    with _replaced(base, TARGET, b"kind: practice\n"), pytest.raises(ContentError):
        load_catalog(base)
    assert len(load_catalog(base).items) == 14
