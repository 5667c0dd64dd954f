"""Importers: Label Studio exports, JSONL and CSV rows, and the YAML/JSONL writer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluator_cert.content import load_catalog
from evaluator_cert.content.importers import (
    ImportReport,
    import_label_studio,
    import_rows,
    write_item_set,
)
from evaluator_cert.content.loader import load_content
from evaluator_cert.content.schema import BoundingBoxItem, ItemSet, SpanItem

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "content"
IMPORTS = FIXTURE / "imports"


def _reasons(report: ImportReport) -> dict[int, str]:
    return {s.number: s.reason for s in report.skipped}


def test_label_studio_maps_each_result_type() -> None:
    report = import_label_studio(
        IMPORTS / "label_studio.json", kind="exam", level="L2", id_prefix="L2_X"
    )
    assert report.item_set is not None
    by_id = {i.id: i for i in report.item_set.items}
    assert [(r.number, r.item_id, r.item_type) for r in report.imported] == [
        (1, "L2_X001", "classification"),
        (2, "L2_X002", "classification"),
        (3, "L2_X003", "rubric_rating"),
        (4, "L2_X004", "span"),
        (5, "L2_X005", "bounding_box"),
        (6, "L2_X006", "transcription"),
    ]
    # Labels are every choice the export used; a cancelled annotation is not gold.
    assert by_id["L2_X001"].labels == ("negative", "positive")  # type: ignore[union-attr]
    assert by_id["L2_X002"].gold == "positive"
    assert by_id["L2_X003"].gold == {"accuracy": 5, "helpfulness": 4}
    assert by_id["L2_X003"].response == "The memo moves the meeting to Friday."
    span = by_id["L2_X004"]
    assert isinstance(span, SpanItem)
    # Character offsets become phrase + occurrence: the second "Paris" is occurrence 2.
    assert span.gold_spans == [(0, 1, "LOC"), (6, 7, "PERSON"), (8, 9, "LOC")]
    box = by_id["L2_X005"]
    assert isinstance(box, BoundingBoxItem)
    assert (box.width, box.height, box.image) == (400, 200, "media/images/street_07.png")
    # x/y/width/height are percentages of the original size.
    assert [(b.label, b.box) for b in box.gold] == [
        ("car", (40.0, 50.0, 120.0, 150.0)),
        ("pedestrian", (280.0, 20.0, 300.0, 100.0)),
    ]
    assert box.explanation.startswith("One car on the left")  # from the explanation textarea
    assert by_id["L2_X006"].gold == "please call me back tomorrow morning"
    assert by_id["L2_X006"].audio == "media/audio/clip_03.wav"


def test_label_studio_reports_what_it_skipped_and_why() -> None:
    report = import_label_studio(
        IMPORTS / "label_studio.json", kind="exam", level="L2", id_prefix="L2_X"
    )
    reasons = _reasons(report)
    assert sorted(reasons) == [7, 8, 9, 10]
    assert reasons[7].startswith("no annotation")
    assert "does not fall on token boundaries" in reasons[8]
    assert reasons[9].startswith("no explanation") and "Label Studio id 109" in reasons[9]
    assert "polygonlabels" in reasons[10]
    assert "skipped #10" in report.summary()


def test_default_explanation_and_fixed_labels() -> None:
    report = import_label_studio(
        IMPORTS / "label_studio.json",
        kind="practice",
        level="L2",
        module="L2_M101",
        id_prefix="L2_M101_P",
        labels=["positive", "negative", "neutral"],
        default_explanation="Imported gold: the explanation is still to be written here.",
    )
    assert report.item_set is not None and report.item_set.module == "L2_M101"
    # Task 9 has no explanation of its own; with a default it imports.
    imported = {r.number: r.item_id for r in report.imported}
    assert 9 in imported
    item = next(i for i in report.item_set.items if i.id == imported[9])
    assert item.labels == ("positive", "negative", "neutral")  # type: ignore[union-attr]


def test_rows_from_csv() -> None:
    report = import_rows(IMPORTS / "rows.csv", kind="exam", level="L2", id_prefix="L2_XC")
    assert report.item_set is not None
    assert [(r.number, r.item_id) for r in report.imported] == [
        (2, "L2_X001"),
        (3, "L2_XC002"),
        (5, "L2_X004"),
    ]
    first = report.item_set.items[0]
    assert first.labels == ("spam", "not_spam") and first.tags == ("spam", "email")  # type: ignore[union-attr]
    assert first.difficulty == "easy"
    span = report.item_set.items[2]
    assert isinstance(span, SpanItem) and [g.text for g in span.gold] == ["Acme Corp", "Globex"]
    reasons = _reasons(report)
    assert reasons[4] == "classification gold 'maybe' is not one of the labels"
    assert reasons[6] == "duplicate id L2_X001"


def test_rows_from_jsonl() -> None:
    report = import_rows(IMPORTS / "rows.jsonl", kind="practice", level="L2", module="L2_M101")
    assert [r.item_id for r in report.imported] == ["L2_M101_P01"]
    reasons = _reasons(report)
    assert reasons[3] == "ranking gold must order all 3 responses exactly once"
    assert reasons[4].startswith("invalid JSON")


def test_nothing_importable_gives_no_set(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text('{"id": "L1_X001", "type": "nope"}\n', encoding="utf-8")
    report = import_rows(path, kind="exam", level="L1")
    assert report.item_set is None and len(report.skipped) == 1
    assert "unknown task type 'nope'" in report.skipped[0].reason


def test_bad_input_files_raise_value_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError):
        import_label_studio(tmp_path / "x.json", kind="exam", level="L1", id_prefix="L1_X")
    (tmp_path / "x.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError):
        import_rows(tmp_path / "x.txt", kind="exam", level="L1")


@pytest.mark.parametrize("suffix", [".yaml", ".jsonl"])
def test_written_sets_read_back_identically(tmp_path: Path, suffix: str) -> None:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("imports"))
    # Every set of the fixture, which between them hold all nine task types.
    originals = [loaded.item_set for loaded in load_content(root).sets]
    assert {i.type for s in originals for i in s.items} >= {"rubric_rating", "fact_check"}
    for loaded in load_content(root).sets:
        (root / loaded.path).unlink()
    for n, item_set in enumerate(originals):
        folder = {"practice": "practice", "exam": "exams", "calibration": "calibration"}
        write_item_set(item_set, root / "assessments" / folder[item_set.kind] / f"s{n}{suffix}")
    reread = load_content(root)
    assert reread.problems == []
    assert sorted(reread_sets(reread), key=repr) == sorted(originals, key=repr)
    assert load_catalog(root).version == load_catalog(FIXTURE).version


def reread_sets(content: object) -> list[ItemSet]:
    return [loaded.item_set for loaded in content.sets]  # type: ignore[attr-defined]


def test_imported_set_round_trips_through_the_loader(tmp_path: Path) -> None:
    report = import_label_studio(
        IMPORTS / "label_studio.json", kind="exam", level="L2", id_prefix="L2_X"
    )
    assert report.item_set is not None
    out = tmp_path / "L2_imported.yaml"
    write_item_set(report.item_set, out)
    text = out.read_text(encoding="utf-8")
    assert "labels: [car, pedestrian]" in text  # short lists stay on one line
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("imports"))
    target = root / "assessments" / "exams" / "L2_imported.yaml"
    shutil.copy(out, target)
    for name in ("street_07.png",):
        shutil.copy(
            FIXTURE / "assessments/media/images/tiny.png", root / "assessments/media/images" / name
        )
    shutil.copy(
        FIXTURE / "assessments/media/audio/tiny.wav", root / "assessments/media/audio/clip_03.wav"
    )
    catalog = load_catalog(root)
    assert catalog.exam_bank("L2") == report.item_set.items
    assert json.dumps([i.model_dump(mode="json") for i in catalog.exam_bank("L2")])


def test_command_line_writes_a_loadable_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from evaluator_cert.content.importers import main

    out = tmp_path / "L2_rows.yaml"
    args = ["rows", str(IMPORTS / "rows.csv"), "--kind", "exam", "--level", "L2"]
    assert main([*args, "--id-prefix", "L2_XC", "--out", str(out)]) == 0
    assert "imported 3, skipped 2" in capsys.readouterr().out
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("imports"))
    shutil.copy(out, root / "assessments/exams/L2_rows.yaml")
    assert [i.id for i in load_catalog(root).exam_bank("L2")] == ["L2_X001", "L2_XC002", "L2_X004"]
    empty = tmp_path / "none.jsonl"
    empty.write_text("\n", encoding="utf-8")
    assert main(["rows", str(empty), "--kind", "exam", "--level", "L2", "--out", str(out)]) == 1
