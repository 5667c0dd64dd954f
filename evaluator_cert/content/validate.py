"""Content validation report and the ``validate-content`` command.

Errors make the content unusable. Warnings are the product requirements of the shipped
bank (enough modules, items, exam and calibration items, every task type, a small
download); a private deployment's smaller bank is still valid unless ``strict`` is set.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluator_cert.content.catalog import catalog_from_content
from evaluator_cert.content.loader import (
    ASSESSMENTS,
    CURRICULUM,
    LEVEL_ORDER,
    ContentError,
    LoadedContent,
    Problem,
    load_content,
)
from evaluator_cert.content.schema import TASK_TYPES

MIN_MODULES = 15
MIN_PRACTICE_ITEMS = 25
MIN_EXAM_ITEMS = 60
MIN_CALIBRATION_ITEMS = 20
MIN_ITEMS = 600
MAX_CONTENT_BYTES = 20 * 1024 * 1024


@dataclass
class ValidationReport:
    levels: int = 0
    modules: int = 0
    items: int = 0
    items_by_task_type: dict[str, int] = field(default_factory=dict)
    practice_items_by_module: dict[str, int] = field(default_factory=dict)
    exam_items_by_level: dict[str, int] = field(default_factory=dict)
    calibration_items_by_level: dict[str, int] = field(default_factory=dict)
    content_bytes: int = 0
    content_version: str | None = None  # None while there are errors
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _folder_bytes(root: Path) -> int:
    total = 0
    for folder in (CURRICULUM, ASSESSMENTS):
        for dirpath, _dirs, files in os.walk(root / folder):
            for name in files:
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                except OSError:
                    continue
    return total


def _requirements(content: LoadedContent, report: ValidationReport) -> list[Problem]:
    out: list[Problem] = []
    if report.modules < MIN_MODULES:
        out.append(
            Problem(
                CURRICULUM,
                None,
                f"{report.modules} modules; the shipped curriculum needs >= {MIN_MODULES}",
            )
        )
    for module_id in sorted(content.modules):
        count = report.practice_items_by_module.get(module_id, 0)
        if count < MIN_PRACTICE_ITEMS:
            source = content.module_sources[module_id]
            out.append(
                Problem(
                    source.path,
                    source.line_of("id"),
                    f"module {module_id} has {count} practice items; the shipped bank needs "
                    f">= {MIN_PRACTICE_ITEMS}",
                )
            )
    for level_id in sorted(content.levels, key=LEVEL_ORDER.index):
        exams = report.exam_items_by_level.get(level_id, 0)
        if exams < MIN_EXAM_ITEMS:
            out.append(
                Problem(
                    f"{ASSESSMENTS}/exams",
                    None,
                    f"level {level_id} exam bank has {exams} items; the shipped bank needs "
                    f">= {MIN_EXAM_ITEMS}",
                )
            )
        calibration = report.calibration_items_by_level.get(level_id, 0)
        if calibration < MIN_CALIBRATION_ITEMS:
            out.append(
                Problem(
                    f"{ASSESSMENTS}/calibration",
                    None,
                    f"level {level_id} calibration batch has {calibration} items; the shipped "
                    f"bank needs >= {MIN_CALIBRATION_ITEMS}",
                )
            )
    if report.items < MIN_ITEMS:
        out.append(
            Problem(
                ASSESSMENTS,
                None,
                f"{report.items} items in all; the shipped bank needs >= {MIN_ITEMS}",
            )
        )
    missing = [t for t in TASK_TYPES if report.items_by_task_type.get(t, 0) == 0]
    if missing:
        out.append(Problem(ASSESSMENTS, None, f"task types with no items: {', '.join(missing)}"))
    if report.content_bytes >= MAX_CONTENT_BYTES:
        mb = report.content_bytes / (1024 * 1024)
        out.append(
            Problem(
                f"{CURRICULUM} + {ASSESSMENTS}",
                None,
                f"content takes {mb:.1f} MB; it must stay under {MAX_CONTENT_BYTES // 2**20} MB",
            )
        )
    return out


def validate_content(root: Path, *, strict: bool = False) -> ValidationReport:
    """Check the content under ``root``; count what is valid even when some of it is not."""
    root = Path(root)
    content = load_content(root)
    report = ValidationReport(levels=len(content.levels), modules=len(content.modules))
    by_type: Counter[str] = Counter()
    practice: Counter[str] = Counter({m: 0 for m in content.modules})
    exams: Counter[str] = Counter({lv: 0 for lv in content.levels})
    calibration: Counter[str] = Counter({lv: 0 for lv in content.levels})
    for loaded in content.sets:
        s = loaded.item_set
        by_type.update(i.type for i in s.items)
        if s.kind == "practice" and s.module is not None:
            practice[s.module] += len(s.items)
        elif s.kind == "exam":
            exams[s.level] += len(s.items)
        elif s.kind == "calibration":
            calibration[s.level] += len(s.items)
    report.items = sum(by_type.values())
    report.items_by_task_type = {t: by_type.get(t, 0) for t in TASK_TYPES}
    report.practice_items_by_module = dict(sorted(practice.items()))
    report.exam_items_by_level = dict(sorted(exams.items()))
    report.calibration_items_by_level = dict(sorted(calibration.items()))
    report.content_bytes = _folder_bytes(root)
    report.errors = list(content.problems)
    report.warnings = _requirements(content, report)
    if not report.errors:
        try:
            report.content_version = catalog_from_content(content).version
        except ContentError as exc:  # defensive: the loader already found nothing wrong
            report.errors.extend(exc.problems)
    if strict:
        report.errors.extend(report.warnings)
        report.warnings = []
    return report


def report_to_json(report: ValidationReport) -> dict[str, Any]:
    return {
        "levels": report.levels,
        "modules": report.modules,
        "items": report.items,
        "items_by_task_type": dict(report.items_by_task_type),
        "practice_items_by_module": dict(report.practice_items_by_module),
        "exam_items_by_level": dict(report.exam_items_by_level),
        "calibration_items_by_level": dict(report.calibration_items_by_level),
        "errors": [str(p) for p in report.errors],
        "warnings": [str(p) for p in report.warnings],
        "content_version": report.content_version,
    }


def run_validate_cli(root: Path, as_json: bool, strict: bool) -> int:
    """Print the report (text or JSON) to stdout; exit code 0 when there are no errors."""
    report = validate_content(root, strict=strict)
    if as_json:
        print(json.dumps(report_to_json(report), indent=2, ensure_ascii=False))
        return 0 if report.ok else 1
    types = ", ".join(f"{t} {n}" for t, n in report.items_by_task_type.items())
    print(f"content: {Path(root)}")
    print(
        f"{report.levels} levels, {report.modules} modules, {report.items} items "
        f"({report.content_bytes / 2**20:.1f} MB)"
    )
    print(f"by task type: {types}")
    print(f"exam items by level: {report.exam_items_by_level}")
    print(f"calibration items by level: {report.calibration_items_by_level}")
    for problem in report.errors:
        print(f"{problem}")
    for problem in report.warnings:
        print(f"{problem} [warning]")
    verdict = "valid" if report.ok else "INVALID"
    print(
        f"{verdict}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        + (f", content version {report.content_version}" if report.content_version else "")
    )
    return 0 if report.ok else 1
