"""The content loader, catalog and validation report, on the fixture tree and broken copies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from evaluator_cert.content import (
    ContentError,
    Problem,
    load_catalog,
    report_to_json,
    run_validate_cli,
    validate_content,
)
from evaluator_cert.content.schema import TASK_TYPES, FactCheckItem, Level

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "content"
REPO = Path(__file__).resolve().parents[2]
M1 = "assessments/practice/L1_M001.yaml"
M2 = "assessments/practice/L1_M002.yaml"
EXAM = "assessments/exams/L1.jsonl"
MOD1 = "curriculum/L1/L1_M001.yaml"
MOD2 = "curriculum/L1/L1_M002.yaml"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("imports"))
    return root


def edit(root: Path, rel: str, old: str, new: str) -> int:
    """Replace ``old`` (which must occur once) and return the 1-based line where it was."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").split("\n")
    return next(i for i, text in enumerate(lines, start=1) if needle in text)


def problems(root: Path) -> list[Problem]:
    with pytest.raises(ContentError) as info:
        load_catalog(root)
    return info.value.problems


# ---------------------------------------------------------------------- a valid tree


def test_fixture_catalog_contents() -> None:
    catalog = load_catalog(FIXTURE)
    assert [lv.id for lv in catalog.levels] == ["L1", "L2", "L3"]
    assert [m.id for m in catalog.modules] == ["L1_M001", "L1_M002"]
    assert [m.id for m in catalog.modules_of("L1")] == ["L1_M001", "L1_M002"]
    assert catalog.modules_of("L2") == ()
    assert catalog.module("L1_M002").prerequisites == ("L1_M001",)
    assert catalog.lesson_markdown("L1_M001").startswith("# Judging text and responses")
    assert [i.id for i in catalog.practice_items("L1_M001")] == [
        f"L1_M001_P0{n}" for n in range(1, 6)
    ]
    assert [i.id for i in catalog.exam_bank("L1")] == ["L1_X001", "L1_X002", "L1_X003"]
    assert [i.id for i in catalog.calibration_batch("L1")] == ["L1_C001"]
    assert catalog.exam_bank("L3") == ()
    assert len(catalog.items) == 14
    assert {i.type for i in catalog.items} == set(TASK_TYPES)
    assert catalog.item("L1_X002").gold == "A"
    assert catalog.item_origin("L1_X002").kind == "exam"
    assert catalog.item_origin("L1_X002").line == 3  # its JSONL line
    assert catalog.item_origin("L1_M001_P03").path == M1
    assert catalog.item_origin("L1_M001_P03").line == line_of(FIXTURE, M1, "L1_M001_P03")
    assert catalog.media_path("media/images/tiny.png").read_bytes().startswith(b"\x89PNG")
    assert catalog.level("L1").exam.form_size == 5


def test_unknown_ids_raise_key_error() -> None:
    catalog = load_catalog(FIXTURE)
    for call in (
        lambda: catalog.item("L1_NOPE"),
        lambda: catalog.module("L1_M999"),
        lambda: catalog.practice_items("L1_M999"),
        lambda: catalog.lesson_markdown("L1_M999"),
        lambda: catalog.exam_bank("L9"),
    ):
        with pytest.raises(KeyError):
            call()
    with pytest.raises(ValueError):
        catalog.media_path("../curriculum/levels.yaml")


def test_catalog_is_immutable() -> None:
    catalog = load_catalog(FIXTURE)
    with pytest.raises(AttributeError):
        catalog.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalog._items["L1_X001"] = catalog.item("L1_X002")  # type: ignore[index]


def test_version_is_twelve_hex_and_independent_of_location(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "bank"
    shutil.copytree(tree, other)
    version = load_catalog(tree).version
    assert len(version) == 12 and int(version, 16) >= 0
    assert load_catalog(other).version == version


def test_version_is_stable_across_processes(tree: Path) -> None:
    code = (
        "import sys; from evaluator_cert.content import load_catalog; "
        "print(load_catalog(sys.argv[1]).version)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tree)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=REPO,
    )
    assert out.stdout.strip() == load_catalog(tree).version


@pytest.mark.parametrize(
    "change",
    [
        lambda root: edit(root, M1, "similar weight make it mixed", "equal weight make it mixed"),
        lambda root: edit(root, "curriculum/L1/L1_M001.md", "A fixture lesson", "A lesson"),
        lambda root: (root / "assessments/media/audio/tiny.wav").write_bytes(b"RIFF0000"),
        lambda root: edit(root, "curriculum/levels.yaml", "form_size: 5", "form_size: 6"),
    ],
    ids=["item", "lesson", "media", "levels"],
)
def test_version_changes_with_any_content(tree: Path, change: Callable[[Path], object]) -> None:
    before = load_catalog(tree).version
    change(tree)
    assert load_catalog(tree).version != before


def test_load_catalog_is_cached_until_a_file_changes(tree: Path) -> None:
    first = load_catalog(tree)
    assert load_catalog(tree) is first
    assert load_catalog(str(tree)) is first
    path = tree / M1
    edit(tree, M1, "gold: mixed", "gold: negative")
    # Make sure the fingerprint sees the edit even on a coarse-mtime filesystem.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    second = load_catalog(tree)
    assert second is not first
    assert second.item("L1_M001_P01").gold == "negative"


def test_gold_overrides_give_a_new_catalog_with_a_new_version() -> None:
    catalog = load_catalog(FIXTURE)
    corrected = catalog.with_gold_overrides(
        {
            "L1_M001_P01": "negative",
            "L1_M001_P04": ["C", "B", "A"],
            "L1_M002_P01": {"c2": "not_enough_info"},
            "L1_M002_P02": [{"text": "London", "label": "LOC"}],
            "L1_M001_P02": {"accuracy": 4, "helpfulness": 4},
        }
    )
    assert corrected.version != catalog.version
    assert corrected.item("L1_M001_P01").gold == "negative"
    assert corrected.item("L1_M001_P04").gold == ("C", "B", "A")
    fact = corrected.item("L1_M002_P01")
    assert isinstance(fact, FactCheckItem)
    assert [c.gold for c in fact.claims] == ["supported", "not_enough_info"]
    assert corrected.item("L1_M002_P02").gold_spans == [(7, 8, "LOC")]  # type: ignore[union-attr]
    assert corrected.practice_items("L1_M001")[0].gold == "negative"
    # The original is untouched, and unchanged gold leaves the version alone.
    assert catalog.item("L1_M001_P01").gold == "mixed"
    assert catalog.with_gold_overrides({"L1_M001_P01": "mixed"}).version == catalog.version


def test_invalid_gold_override_names_the_item_file_and_line() -> None:
    catalog = load_catalog(FIXTURE)
    with pytest.raises(ContentError) as info:
        catalog.with_gold_overrides({"L1_M001_P04": ["A", "B"]})
    [problem] = info.value.problems
    assert (problem.path, problem.line) == (M1, line_of(FIXTURE, M1, "L1_M001_P04"))
    assert "ranking gold must order all 3 responses exactly once" in problem.message
    with pytest.raises(ContentError):
        catalog.with_gold_overrides({"L1_M002_P01": {"c9": "refuted"}})
    with pytest.raises(KeyError):
        catalog.with_gold_overrides({"L1_NOPE": "A"})


# ------------------------------------------------------------------------ broken copies


def _bad_yaml(root: Path) -> tuple[str, int, str]:
    line = edit(root, M1, "    gold: mixed\n", "    gold: mixed: oops\n")
    return M1, line, "invalid YAML: mapping values are not allowed in this context"


def _missing_gold(root: Path) -> tuple[str, int, str]:
    edit(root, M1, "    gold: B\n", "")
    return M1, line_of(root, M1, "id: L1_M001_P03"), "pairwise item L1_M001_P03: gold is required"


def _unknown_type(root: Path) -> tuple[str, int, str]:
    line = edit(root, M1, "type: pairwise", "type: pairwize")
    expected = ", ".join(TASK_TYPES)
    return M1, line, f"unknown task type 'pairwize' (expected one of: {expected})"


def _duplicate_id(root: Path) -> tuple[str, int, str]:
    line = edit(root, M2, "id: L1_M002_P05", "id: L1_M001_P01")
    first = line_of(root, M1, "id: L1_M001_P01")
    return M2, line, f"duplicate id L1_M001_P01: already used at {M1}:{first}"


def _missing_media(root: Path) -> tuple[str, int, str]:
    line = edit(root, M2, "audio: media/audio/tiny.wav", "audio: media/audio/gone.wav")
    return (
        M2,
        line,
        "transcription item L1_M002_P04: audio file media/audio/gone.wav not found under "
        "assessments/",
    )


def _not_a_permutation(root: Path) -> tuple[str, int, str]:
    line = edit(root, M1, "gold: [B, C, A]", "gold: [B, C, C]")
    return M1, line, "ranking gold must order all 3 responses exactly once"


def _missing_lesson(root: Path) -> tuple[str, int, str]:
    (root / "curriculum/L1/L1_M002.md").unlink()
    return (
        MOD2,
        line_of(root, MOD2, "lesson:"),
        "module L1_M002: lesson file L1_M002.md not found (looked for curriculum/L1/L1_M002.md)",
    )


def _unknown_prerequisite(root: Path) -> tuple[str, int, str]:
    line = edit(root, MOD2, "  - L1_M001\n", "  - L1_M077\n")
    return MOD2, line, "module L1_M002: prerequisite L1_M077 does not exist"


def _prerequisite_cycle(root: Path) -> tuple[str, int, str]:
    line = edit(root, MOD1, "prerequisites: []", "prerequisites: [L1_M002]")
    return MOD1, line, "prerequisite cycle: L1_M001 -> L1_M002 -> L1_M001"


def _bad_jsonl_gold(root: Path) -> tuple[str, int, str]:
    edit(root, EXAM, '"gold": "A"', '"gold": "C"')
    return EXAM, 3, "pairwise item L1_X002: gold: should be 'A', 'B' or 'tie' (got 'C')"


def _span_not_in_text(root: Path) -> tuple[str, int, str]:
    line = edit(root, M2, "{text: London, label: LOC}", "{text: Londo, label: LOC}")
    return (
        M2,
        line,
        "span item L1_M002_P02: span 'Londo' (occurrence 1) is not in the text on token boundaries",
    )


def _practice_for_unknown_module(root: Path) -> tuple[str, int, str]:
    (root / "assessments/practice/L1_M003.yaml").write_text(
        (root / M2).read_text().replace("L1_M002", "L1_M003"), encoding="utf-8"
    )
    return "assessments/practice/L1_M003.yaml", 1, "practice set: module L1_M003 does not exist"


BREAKS = [
    _bad_yaml,
    _missing_gold,
    _unknown_type,
    _duplicate_id,
    _missing_media,
    _not_a_permutation,
    _missing_lesson,
    _unknown_prerequisite,
    _prerequisite_cycle,
    _bad_jsonl_gold,
    _span_not_in_text,
    _practice_for_unknown_module,
]


@pytest.mark.parametrize("breaker", BREAKS, ids=lambda f: f.__name__.strip("_"))
def test_broken_copy_names_path_line_and_problem(
    tree: Path, breaker: Callable[[Path], tuple[str, int, str]]
) -> None:
    path, line, message = breaker(tree)
    found = problems(tree)
    assert Problem(path, line, message) in found, "\n".join(map(str, found))
    assert f"{path}:{line}: {message}" in [str(p) for p in found]


def test_all_problems_are_collected_at_once(tree: Path) -> None:
    # Breaks that do not hide each other (a file that no longer parses hides its items).
    chosen = [
        _missing_gold,
        _duplicate_id,
        _missing_media,
        _missing_lesson,
        _prerequisite_cycle,
        _bad_jsonl_gold,
    ]
    expected = [Problem(*breaker(tree)) for breaker in chosen]
    found = problems(tree)
    for problem in expected:
        assert problem in found, f"{problem} not in\n" + "\n".join(map(str, found))
    assert found == sorted(found, key=lambda p: (p.path, p.line or 0, p.message))


def test_folder_and_kind_must_agree(tree: Path) -> None:
    line = edit(tree, "assessments/calibration/L1.yaml", "kind: calibration", "kind: exam")
    [problem] = problems(tree)
    assert (problem.path, problem.line) == ("assessments/calibration/L1.yaml", line)
    assert "must have kind calibration" in problem.message


def test_unknown_field_and_wrong_types_are_readable(tree: Path) -> None:
    line = edit(tree, M1, "    difficulty: easy\n", "    dificulty: easy\n")
    [problem] = problems(tree)
    assert problem == Problem(
        M1,
        line,
        "classification item L1_M001_P01: unknown field 'dificulty' (did you mean 'difficulty'?)",
    )


def test_media_path_may_not_escape_assessments(tree: Path) -> None:
    line = edit(tree, M2, "image: media/images/tiny.png\n    width", "image: ../x.png\n    width")
    [problem] = problems(tree)
    assert (problem.path, problem.line) == (M2, line)
    assert "must be a relative path inside assessments/" in problem.message


def test_not_utf8_and_empty_files_are_content_errors(tree: Path) -> None:
    (tree / M1).write_bytes(b"kind: practice\nlevel: \xff\xfe\n")
    (tree / M2).write_text("", encoding="utf-8")
    found = problems(tree)
    assert Problem(M1, 2, "the file is not valid UTF-8 text") in found
    assert any(p.path == M2 and "mapping" in p.message for p in found)


def test_missing_content_root_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError):
        load_catalog(tmp_path / "nowhere")
    with pytest.raises(ContentError) as info:
        load_catalog(tmp_path)  # exists, but holds no curriculum
    assert Problem("curriculum/levels.yaml", None, info.value.problems[0].message) in (
        info.value.problems
    )


# ---------------------------------------------------------------------------- validation

REPORT_KEYS = {
    "levels",
    "modules",
    "items",
    "items_by_task_type",
    "practice_items_by_module",
    "exam_items_by_level",
    "calibration_items_by_level",
    "errors",
    "warnings",
    "content_version",
}


def test_validation_report_counts_the_fixture() -> None:
    report = validate_content(FIXTURE)
    data = report_to_json(report)
    assert set(data) == REPORT_KEYS
    assert data["errors"] == []
    assert (data["levels"], data["modules"], data["items"]) == (3, 2, 14)
    assert data["items_by_task_type"]["classification"] == 4
    assert sum(data["items_by_task_type"].values()) == 14
    assert data["practice_items_by_module"] == {"L1_M001": 5, "L1_M002": 5}
    assert data["exam_items_by_level"] == {"L1": 3, "L2": 0, "L3": 0}
    assert data["calibration_items_by_level"] == {"L1": 1, "L2": 0, "L3": 0}
    assert data["content_version"] == load_catalog(FIXTURE).version
    # The fixture is far below the shipped bank's requirements: warnings, not errors.
    warnings = "\n".join(data["warnings"])
    assert "2 modules; the shipped curriculum needs >= 15" in warnings
    assert f"{MOD1}:1: module L1_M001 has 5 practice items" in warnings
    assert "level L2 exam bank has 0 items" in warnings
    assert "14 items in all" in warnings
    assert "task types with no items" not in warnings
    json.dumps(data)  # plain JSON


def test_strict_turns_warnings_into_errors() -> None:
    relaxed = validate_content(FIXTURE)
    strict = validate_content(FIXTURE, strict=True)
    assert strict.warnings == []
    assert [str(p) for p in strict.errors] == [str(p) for p in relaxed.warnings]
    assert not strict.ok and relaxed.ok


def test_validation_counts_what_is_valid_and_lists_errors(tree: Path) -> None:
    path, line, message = _not_a_permutation(tree)
    data = report_to_json(validate_content(tree))
    assert data["errors"] == [f"{path}:{line}: {message}"]
    assert data["items"] == 13
    assert data["content_version"] is None


def test_cli_exit_codes_and_output(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_validate_cli(tree, as_json=False, strict=False) == 0
    out = capsys.readouterr().out
    assert "3 levels, 2 modules, 14 items" in out and "valid: 0 error(s)" in out
    assert run_validate_cli(tree, as_json=True, strict=True) == 1
    assert json.loads(capsys.readouterr().out)["errors"]
    path, line, message = _missing_gold(tree)
    assert run_validate_cli(tree, as_json=False, strict=False) == 1
    assert f"{path}:{line}: {message}" in capsys.readouterr().out.splitlines()


# ------------------------------------------------------------------------ shipped files


def test_shipped_levels_file() -> None:
    data = yaml.safe_load((REPO / "curriculum/levels.yaml").read_text(encoding="utf-8"))
    levels = [Level.model_validate(raw) for raw in data["levels"]]
    assert [(lv.id, lv.title, lv.requires) for lv in levels] == [
        ("L1", "Foundation", None),
        ("L2", "Advanced", "L1"),
        ("L3", "Expert", "L2"),
    ]
    for level in levels:
        assert level.credential_valid_months == 12
        rules = level.exam
        assert (rules.form_size, rules.time_limit_minutes, rules.max_attempts) == (30, 45, 3)
        assert (rules.window_days, rules.cooldown_hours) == (30, 24)
        assert (rules.pass_threshold, rules.dimension_threshold) == (0.70, 0.60)
        assert len(level.description) >= 80


def test_shipped_content_has_no_errors() -> None:
    if not any((REPO / "curriculum").glob("L*/L*_M*.yaml")):
        pytest.skip("no shipped modules yet")
    report = validate_content(REPO)
    assert [str(p) for p in report.errors] == []


def test_sets_and_modules_need_a_defined_level(tree: Path) -> None:
    levels = tree / "curriculum/levels.yaml"
    text = levels.read_text(encoding="utf-8")
    levels.write_text(text[: text.index("  - id: L2")], encoding="utf-8")
    (tree / "assessments/exams/L2.jsonl").write_text(
        '{"kind": "exam", "level": "L2"}\n'
        + (tree / EXAM).read_text(encoding="utf-8").split("\n", 1)[1].replace("L1_X", "L2_X"),
        encoding="utf-8",
    )
    found = problems(tree)
    assert Problem("assessments/exams/L2.jsonl", 1, "exam set: level L2 is not defined") in found


def test_drift_is_set_once_on_the_first_level(tree: Path) -> None:
    levels = "curriculum/levels.yaml"
    # The same value on a later level is harmless; a different one could never apply.
    edit(tree, levels, "    requires: L1\n", "    requires: L1\n    drift_threshold: 0.70\n")
    load_catalog(tree)
    line = edit(tree, levels, "    requires: L2\n", "    requires: L2\n    drift_window: 80\n") + 1
    assert problems(tree) == [
        Problem(
            levels,
            line,
            "level L3: drift_window is set once, on L1 (a trainee's rolling agreement spans the "
            "practice of every level); remove it here or set 80 on L1",
        )
    ]


def test_duplicate_yaml_keys_are_reported(tree: Path) -> None:
    line = edit(tree, M1, "    gold: mixed\n", "    gold: mixed\n    gold: negative\n") + 1
    found = problems(tree)
    assert Problem(M1, line, "invalid YAML: duplicate key 'gold'") in found


def test_failed_list_elements_do_not_also_report_the_list(tree: Path) -> None:
    line = edit(tree, M2, "        gold: refuted\n", "        gold: wrong\n")
    [problem] = problems(tree)
    assert problem == Problem(
        M2,
        line,
        "fact_check item L1_M002_P01: claims[1].gold: should be 'supported', 'refuted' or "
        "'not_enough_info' (got 'wrong')",
    )
