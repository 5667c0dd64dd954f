"""Importing an uploaded file (name + bytes) to a YAML item set, as the admin page does."""

from __future__ import annotations

import pytest
import yaml

from evaluator_cert.content.schema import ItemSet
from evaluator_cert.errors import InvalidInputError
from evaluator_cert.services.content_admin import ImportOptions, destination_for, import_upload

CSV = (
    "id,type,instructions,text,labels,gold,explanation\n"
    "L1_X901,classification,Choose the label.,Great product,pos|neg,pos,"
    "Praise for the product is positive.\n"
    "L1_X902,classification,Choose the label.,Not good,pos|neg,maybe,"
    "maybe is not one of the labels.\n"
    "L1_X903,classification,Choose the label.,Awful,pos|neg,neg,"
    "A plain complaint is negative.\n"
)
EXAM = ImportOptions(kind="exam", level="L1")


def test_csv_upload_reports_imported_and_skipped_rows_and_yaml() -> None:
    result = import_upload("items.csv", CSV.encode(), EXAM)
    assert [i.item_id for i in result.imported] == ["L1_X901", "L1_X903"]
    assert [s.number for s in result.skipped] == [3]  # the file line of the bad row
    assert "maybe" in result.skipped[0].reason
    assert result.destination == "assessments/exams/L1_imported.yaml"
    assert result.yaml_text is not None
    doc = yaml.safe_load(result.yaml_text)
    assert [i["id"] for i in doc["items"]] == ["L1_X901", "L1_X903"]
    assert ItemSet.model_validate(doc).kind == "exam"  # the loader's model reads it back


def test_jsonl_rows_get_ids_from_the_prefix() -> None:
    line = (
        '{"type": "classification", "instructions": "Choose.", "text": "Hi", '
        '"labels": ["a", "b"], "gold": "a", "explanation": "A greeting carries label a."}'
    )
    options = ImportOptions(kind="practice", level="L1", module="L1_M001", id_prefix="L1_M001_Q")
    result = import_upload("rows.jsonl", f"{line}\n{line}\n".encode(), options)
    assert [i.item_id for i in result.imported] == ["L1_M001_Q001", "L1_M001_Q002"]
    assert destination_for(options) == "assessments/practice/L1_M001_imported.yaml"


def test_malformed_json_names_the_file_and_line() -> None:
    options = ImportOptions(kind="exam", level="L2", id_prefix="L2_X")
    with pytest.raises(InvalidInputError) as info:
        import_upload("export.json", b'[{"data": {"text": "x"},\n  oops]', options)
    message = str(info.value)
    assert message.startswith("export.json: not a readable Label Studio JSON export")
    assert "line 2" in message and "/tmp" not in message


@pytest.mark.parametrize(
    ("name", "data", "options", "expected"),
    [
        ("items.txt", b"x", EXAM, "items.txt: expected a .csv, .jsonl or .json"),
        ("items.csv", b"  ", EXAM, "items.csv: the file is empty."),
        ("items.csv", b"id,text\nL1_X1,a\n", EXAM, "items.csv: the CSV header must name"),
        ("items.csv", b"a", ImportOptions("practice", "L1"), "belongs to a module"),
        ("e.json", b"[]", EXAM, "Label Studio imports need an id prefix"),
        ("e.json", b"{}", ImportOptions("exam", "L1", id_prefix="L1_X"), "a JSON list of tasks"),
        ("i.csv", b"a", ImportOptions("exam", "L1", id_prefix="L2_X"), "should start with L1_"),
        ("i.jsonl", b"\xff\xfe\x00", EXAM, "i.jsonl: the file is not UTF-8 text."),
    ],
)
def test_unreadable_uploads_are_clear_errors(
    name: str, data: bytes, options: ImportOptions, expected: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        import_upload(name, data, options)
    assert expected in str(info.value)


def test_set_level_problems_are_reported_not_raised() -> None:
    # Rows valid on their own, but the set header is not: the module is of another level.
    options = ImportOptions(kind="practice", level="L1", module="L2_M101")
    result = import_upload("items.csv", CSV.encode(), options)
    assert result.yaml_text is None and not result.ok
    assert result.problems and "L2_M101" in " ".join(result.problems)
