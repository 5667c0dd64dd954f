"""The admin content page: the validation report of the content in force, and importing an
uploaded file to a YAML item set to download."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import pytest
import yaml
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from evaluator_cert.content.validate import validate_content
from evaluator_cert.db.models import User
from evaluator_cert.runtime import AppContext
from tests.app.conftest import page_text
from tests.app.test_instructor_pages import open_page
from tests.integration.test_content_admin import CSV

PAGE = "admin_content.py"


class _KeptStorage(MemoryMediaFileStorage):
    """AppTest drops its media storage after each run; keep it to read a download back."""

    made: ClassVar[list[MemoryMediaFileStorage]] = []

    def __init__(self, media_endpoint: str) -> None:
        super().__init__(media_endpoint)
        _KeptStorage.made.append(self)


@pytest.fixture
def root(make_user: Callable[..., User]) -> User:
    return make_user("root", "admin")


def _import(at: AppTest, name: str, data: bytes, mime: str, *, prefix: str = "") -> AppTest:
    at.file_uploader(key="content_upload").set_value((name, data, mime)).run()
    at.selectbox(key="import_kind").set_value("exam").run()
    at.selectbox(key="import_level").set_value("L1").run()
    if prefix:
        at.text_input(key="import_id_prefix").input(prefix)
    next(b for b in at.button if b.label == "Import").click().run()
    return at


def test_admin_sees_version_counts_and_no_errors(root: User, app_ctx: AppContext) -> None:
    at = open_page(root, PAGE)
    at.run()
    assert not at.exception, at.exception
    report = validate_content(app_ctx.settings.content_dir)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Content version"] == report.content_version
    assert metrics["Items"] == str(report.items) and metrics["Modules"] == str(report.modules)
    by_type = at.dataframe[0].value.set_index("task type")["items"].to_dict()
    assert by_type == report.items_by_task_type
    assert any("No errors" in s.value for s in at.success)
    assert at.file_uploader(key="content_upload").allowed_type == [".csv", ".jsonl", ".json"]
    assert "Choose a file to import." in page_text(at)


@pytest.mark.parametrize("role", ["instructor", "trainee"])
def test_other_roles_are_refused(app_ctx, make_user: Callable[..., User], role: str) -> None:
    at = open_page(make_user(f"u-{role}", role), PAGE)
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "only open to" in at.error[0].value
    assert not at.metric and not at.dataframe and not at.file_uploader


def test_csv_import_reports_rows_and_offers_yaml(
    root: User, app_ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", _KeptStorage)
    at = open_page(root, PAGE)
    at.run()
    _import(at, "items.csv", CSV.encode(), "text/csv")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Imported"] == "2" and metrics["Skipped"] == "1"
    skipped = at.dataframe[-2].value  # skipped rows, then the imported items
    assert skipped["line"].tolist() == [3] and "maybe" in skipped["reason"][0]
    assert "assessments/exams/L1_imported.yaml" in page_text(at)
    download = at.get("download_button")[0]
    assert download.proto.label == "Download item set (YAML)"
    text = _KeptStorage.made[-1].get_file(download.proto.url.rsplit("/", 1)[-1]).content
    doc = yaml.safe_load(text)
    assert [i["id"] for i in doc["items"]] == ["L1_X901", "L1_X903"]
    assert (doc["kind"], doc["level"]) == ("exam", "L1")


def test_malformed_json_is_a_clear_error(root: User, app_ctx) -> None:
    at = open_page(root, PAGE)
    at.run()
    _import(
        at, "export.json", b'[{"data": {"text": "x"},\n  oops]', "application/json", prefix="L1_X"
    )
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "export.json" in errors[0] and "line 2" in errors[0]
    assert not at.get("download_button")
