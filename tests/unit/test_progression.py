"""Pure gating rules on the real catalog: remediation and drift."""

from __future__ import annotations

import pytest

from evaluator_cert import grading, progression
from evaluator_cert.content.catalog import Catalog, load_catalog
from evaluator_cert.db.models import utcnow


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_reassigned_modules_are_open_and_passed_prerequisites_stay_met(catalog: Catalog) -> None:
    first, *rest = catalog.modules_of("L1")
    dependent = next(m for m in rest if first.id in m.prerequisites)
    locked = next(m for m in rest if m.prerequisites and first.id not in m.prerequisites)
    record = progression.TraineeRecord(
        passed_modules=frozenset({first.id}),
        remediation_modules=frozenset({first.id, locked.id}),
    )
    gates = progression.overview(catalog, record, utcnow()).modules
    # The reassigned modules are open (even one whose prerequisites were never passed)...
    assert gates[first.id].open and not gates[first.id].passed
    assert gates[locked.id].open and "remediation" in gates[locked.id].reason
    # ... and remediation does not lock what the earlier pass opened.
    assert gates[dependent.id].open


def test_remediation_plan_reassigns_reached_modules_and_says_why(catalog: Catalog) -> None:
    first = catalog.modules_of("L1")[0]
    items = catalog.practice_items(first.id)[:10]
    grades = [
        grading.ItemGrade(item.id, item.type, 0.0, False, decisions=(("x", "y"),)) for item in items
    ]
    modules, reason = progression.remediation_plan(catalog, grades, 0.6981, 50, 0.70)
    assert modules == [first.id]  # the only module reached
    assert reason == "Rolling agreement 0.698 over your last 50 graded items is below 0.70."


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.6981, "0.698"),
        (0.7049, "0.705"),
        (0.6949, "0.69"),
        (0.81, "0.81"),
        (0.70, "0.70"),
        (0.69996, "0.69996"),
        (0.7 - 1e-9, "0.699999"),
        (0.7 + 1e-9, "0.700001"),
    ],
)
def test_format_against_never_shows_a_miss_as_the_threshold(value: float, shown: str) -> None:
    assert grading.format_against(value, 0.70) == shown
