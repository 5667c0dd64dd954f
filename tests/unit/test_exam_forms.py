"""Exam forms drawn from the real banks: what a trainee who answers like the expert gets."""

from __future__ import annotations

import random

import pytest

from evaluator_cert import grading
from evaluator_cert.config import REPO_ROOT
from evaluator_cert.content.catalog import Catalog, catalog_from_content
from evaluator_cert.content.loader import load_content
from evaluator_cert.services.attempts import draw_exam_form
from evaluator_cert.simulation import simulated_answer

FORMS = 150


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return catalog_from_content(load_content(REPO_ROOT))


@pytest.mark.parametrize("level_id", ["L1", "L2", "L3"])
def test_expert_answers_pass_every_form(catalog: Catalog, level_id: str) -> None:
    # Forms hold two to four items per task type, so some dimensions see a single category
    # of gold; matching the expert on all of them must still pass.
    level = catalog.level(level_id)
    bank = catalog.exam_bank(level_id)
    for seed in range(FORMS):
        rng = random.Random(seed)
        form = draw_exam_form(bank, level.exam.form_size, seed)
        grades = [
            grading.grade_item(catalog.item(i), simulated_answer(catalog.item(i), 1.0, rng))
            for i in form
        ]
        result = grading.exam_result(grades, level.exam)
        assert result.passed, (seed, result.reason)
        assert result.overall == pytest.approx(1.0)


@pytest.mark.parametrize("level_id", ["L1", "L2", "L3"])
def test_pass_rate_follows_skill(catalog: Catalog, level_id: str) -> None:
    level = catalog.level(level_id)
    bank = catalog.exam_bank(level_id)

    def pass_rate(skill: float) -> float:
        passed = 0
        for seed in range(FORMS):
            rng = random.Random(seed * 7 + 1)
            form = draw_exam_form(bank, level.exam.form_size, seed)
            grades = [
                grading.grade_item(catalog.item(i), simulated_answer(catalog.item(i), skill, rng))
                for i in form
            ]
            passed += grading.exam_result(grades, level.exam).passed
        return passed / FORMS

    strong, middling, weak = pass_rate(0.95), pass_rate(0.8), pass_rate(0.5)
    assert strong >= 0.8, strong
    assert strong > middling > weak
    assert weak <= 0.1, weak
