"""The instructor pages on a small seeded cohort: each renders, shows the figures the
services compute for a known fixture, and refuses trainees."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import krippendorff
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from evaluator_cert.content.schema import ClassificationItem
from evaluator_cert.db.models import User, utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import attempts, calibration, disputes, overrides
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer
from evaluator_cert.ui.navigation import pages_for
from tests.app.conftest import app_as

INSTRUCTOR_PAGES = [
    "cohort.py",
    "trainee_detail.py",
    "calibration_manage.py",
    "reviews.py",
    "disputes.py",
    "gold.py",
    "items.py",
]


def open_page(user: User, page: str) -> AppTest:
    """Through app.py's navigation when the page is listed for the role, else the file."""
    if page in pages_for(user.role):
        at = app_as(user)
        at.run()
        at.switch_page(f"pages/{page}")
        return at
    return app_as(user, page, timeout=60)


def _practise(ctx: AppContext, user: User, module_id: str, skill: float, limit: int, seed: int):
    actor = Actor.of(user)
    catalog = ctx.base_catalog
    rng = random.Random(seed)
    now = utcnow() - timedelta(hours=1)
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id, now=now)
        view = attempts.attempt_view(s, actor, catalog, attempt_id, now=now)
        for key in view.item_ids[:limit]:
            now += timedelta(seconds=10)
            item = catalog.item(attempts.base_item_id(key))
            attempts.record_answer(
                s, actor, catalog, attempt_id, key, simulated_answer(item, skill, rng), now=now
            )


@pytest.fixture
def cohort(app_ctx: AppContext, make_user: Callable[..., User]) -> dict[str, object]:
    """An instructor, four trainees with practice answers, a calibration session with
    answers, a justification to review and an open dispute."""
    ctx = app_ctx
    catalog = ctx.base_catalog
    ivy = make_user("ivy", "instructor")
    trainees = [make_user(n, cohort="spring") for n in ("amy", "bob", "cat", "dan")]
    for n, (user, skill) in enumerate(zip(trainees, (0.95, 0.8, 0.6, 0.9), strict=True)):
        _practise(ctx, user, "L1_M001", skill, 22, n)
    items = [i for i in catalog.calibration_batch("L1") if isinstance(i, ClassificationItem)][:5]
    boss = Actor.of(ivy)
    labels = {}
    with ctx.session() as s:
        sid = calibration.create_session(
            s,
            boss,
            catalog,
            level_id="L1",
            title="Week one",
            item_ids=[i.id for i in items],
            cohort="spring",
        )
        for n, user in enumerate(trainees):
            actor = Actor.of(user)
            rng = random.Random(100 + n)
            attempt_id = calibration.start_calibration(s, actor, catalog, sid)
            for item in items:
                answer = simulated_answer(item, 0.6, rng)
                labels[(n, item.id)] = answer["label"]
                calibration.answer_calibration(s, actor, catalog, attempt_id, item.id, answer)
        overrides.unlock_module(s, boss, catalog, trainees[0].id, "L1_M003", "Fast-tracked in.")
    _practise(ctx, trainees[0], "L1_M003", 0.9, 6, 9)
    first_item = catalog.practice_items("L1_M001")[0]
    with ctx.session() as s:
        answered = [
            t
            for t in trainees
            if attempts.trainee_record(s, t.id, catalog).module_progress.get("L1_M001")
        ]
        from sqlalchemy import select

        from evaluator_cert.db.models import Annotation

        item_id = (
            s.scalar(
                select(Annotation.item_id).where(
                    Annotation.user_id == answered[0].id, Annotation.item_id.not_like("%#dup")
                )
            )
            or first_item.id
        )
        disputes.open_dispute(
            s, Actor.of(answered[0]), catalog, item_id, "The label ignores the last sentence."
        )
    codes = {v: k for k, v in enumerate(sorted(set(labels.values())))}
    matrix = np.array([[codes[labels[(n, i.id)]] for i in items] for n in range(4)], dtype=float)
    alpha = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    return {"ivy": ivy, "trainees": trainees, "session": sid, "alpha": alpha}


def test_cohort_page_lists_trainees_with_distribution(cohort) -> None:
    at = open_page(cohort["ivy"], "cohort.py")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Cohort"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trainees"] == "4"
    table = at.dataframe[0].value
    assert sorted(table["trainee"]) == ["amy", "bob", "cat", "dan"]
    assert "user_id" not in table.columns
    assert at.get("plotly_chart")
    assert any(b.label == "Download CSV" for b in at.get("download_button"))


def test_trainee_detail_page_shows_the_record(cohort) -> None:
    amy = cohort["trainees"][0]
    at = open_page(cohort["ivy"], "trainee_detail.py")
    at.session_state["detail_user"] = amy.id
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith(amy.display_name)
    overrides_table = at.dataframe[2].value
    assert overrides_table["kind"].tolist() == ["unlock_module"]


def test_calibration_manage_shows_the_sessions_alpha(cohort) -> None:
    at = open_page(cohort["ivy"], "calibration_manage.py")
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Alpha (labels, nominal)"] == f"{cohort['alpha']:.3f}"
    assert metrics["Trainees answered"] == "4"
    # Write a note and publish; the trainee's page then shows it.
    note_area = next(t for t in at.text_area if t.label == "Note for the trainees")
    note_area.input("Harm outweighs tone here.")
    next(b for b in at.button if b.label == "Save note").click()
    at.run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Publish results to the trainees").click()
    at.run()
    assert not at.exception, at.exception
    trainee = app_as(cohort["trainees"][1], "calibration.py", timeout=60)
    trainee.run()
    assert not trainee.exception, trainee.exception
    feedback = trainee.dataframe[0].value
    assert "Harm outweighs tone here." in feedback["note"].tolist()
    assert "Harm outweighs tone here." in [t.value for t in trainee.text]


def test_trainee_calibration_page_is_blind_before_publishing(cohort, app_ctx) -> None:
    at = app_as(cohort["trainees"][2], "calibration.py", timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert not at.dataframe  # no results table, no gold
    assert "All answered" in " ".join(s.value for s in at.success)
    text = " ".join(m.value for m in at.markdown)
    assert "Gold" not in text


def test_reviews_page_scores_a_justification(cohort) -> None:
    at = open_page(cohort["ivy"], "reviews.py")
    at.run()
    assert not at.exception, at.exception
    queued = {m.label: m.value for m in at.metric}["In the queue"]
    assert int(queued) >= 1
    assert at.text  # the justification, as plain text
    next(b for b in at.button if b.label == "Submit review").click()
    at.run()
    assert not at.exception, at.exception
    assert any("now scores" in s.value for s in at.success)


def test_disputes_page_shows_the_challenge_and_distribution(cohort) -> None:
    at = open_page(cohort["ivy"], "disputes.py")
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 1 and table.iloc[0]["trainee"] in {"amy", "bob", "cat", "dan"}
    assert "The label ignores the last sentence." in [t.value for t in at.text]
    assert at.get("plotly_chart")


def test_gold_page_runs_the_panel(cohort) -> None:
    rows = ["item_id,expert,label,text"]
    for n in range(6):
        for expert in ("e1", "e2", "e3"):
            label = "safe" if (n + (expert == "e3")) % 2 else "unsafe"
            rows.append(f"L1_PANEL_{n},{expert},{label},Response {n}")
    at = open_page(cohort["ivy"], "gold.py")
    at.run()
    at.text_area(key="panel_csv").input("\n".join(rows))
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Items"] == "6"


def test_items_page_shows_item_statistics(cohort) -> None:
    at = open_page(cohort["ivy"], "items.py")
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert {"p_value", "discrimination", "exposure"} <= set(table.columns)
    assert at.get("plotly_chart")


@pytest.mark.parametrize("page", INSTRUCTOR_PAGES)
def test_trainee_opening_an_instructor_page_is_refused(cohort, page: str) -> None:
    at = app_as(cohort["trainees"][0], page)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["This is only open to instructors and administrators."]
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
