"""The trainee's pages, run as the app runs them (AppTest through app.py's navigation)."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from evaluator_cert.db.models import Annotation, Override
from evaluator_cert.services import attempts, trainee_stats
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer
from tests.app.conftest import app_as, page_text
from tests.conftest import pass_every_module


def _open(user, page: str):
    at = app_as(user)
    at.switch_page(f"app_pages/{page}")
    at.run()
    assert not at.exception, at.exception
    return at


def test_home_shows_next_step_and_locked_reasons(app_ctx, make_user) -> None:
    at = _open(make_user("tina", display_name="Tina T"), "home.py")
    assert at.title[0].value == "Welcome, Tina T"
    assert any("Next step" in i.value for i in at.info)
    captions = " ".join(c.value for c in at.caption)
    assert "opens when you pass" in captions
    assert "L2 opens when L1 Foundation is certified." in captions


def test_practice_answer_shows_feedback_and_survives_a_reload(app_ctx, make_user) -> None:
    user = make_user("tina")
    catalog = app_ctx.base_catalog
    at = _open(user, "practice.py")
    start = next(b for b in at.button if b.label == "Start the practice set")
    start.click()
    at.run()
    assert not at.exception
    with app_ctx.session() as s:
        attempt_id = attempts.open_attempt_id(s, Actor.of(user), kind="practice")
        view = attempts.attempt_view(s, Actor.of(user), catalog, attempt_id)
    item = catalog.item(attempts.base_item_id(view.item_ids[0]))
    # Before answering: no gold, no explanation anywhere on the page.
    assert item.explanation not in page_text(at)
    # Answer it the way the widget would, through the page's own service call.
    with app_ctx.session() as s:
        attempts.record_answer(
            s,
            Actor.of(user),
            catalog,
            attempt_id,
            view.item_ids[0],
            simulated_answer(item, 1.0, random.Random(0)),
        )
    at.session_state[f"feedback_{attempt_id}"] = view.item_ids[0]
    at.run()
    assert any(
        "Agrees with gold" in s.value or "agrees with gold" in s.value
        for s in [*at.success, *at.info]
    )
    assert item.explanation in page_text(at)
    # A reload is a new browser session: the set resumes at the next item.
    again = _open(user, "practice.py")
    assert "1 of" in page_text(again)
    # ... and offers the explanation of the last answer again, in case it was never read.
    assert any(e.label.startswith("Your last answer") for e in again.expander)
    assert item.explanation in page_text(again)
    with app_ctx.session() as s:
        assert s.scalar(select(func.count()).select_from(Annotation)) == 1


def test_practice_resumes_the_set_in_progress_and_counts_every_item(app_ctx, make_user) -> None:
    user = make_user("tina")
    actor, catalog = Actor.of(user), app_ctx.base_catalog
    first, second = [m.id for m in catalog.modules_of("L1")[:2]]
    with app_ctx.session() as s:
        # An instructor-unlocked second module, with a set in progress.
        s.add(
            Override(
                user_id=user.id,
                kind="unlock_module",
                target=second,
                reason="Fast track.",
                created_by=user.id,
            )
        )
        s.commit()
        attempt_id = attempts.start_practice(s, actor, catalog, second)
        key = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids[0]
        item = catalog.item(attempts.base_item_id(key))
        attempts.record_answer(
            s, actor, catalog, attempt_id, key, simulated_answer(item, 1.0, random.Random(0))
        )
    at = _open(user, "practice.py")  # a new visit: not the first open module, the one in progress
    assert at.selectbox(key="practice_pick").value == second
    at.selectbox(key="practice_pick").set_value(first)
    at.run()
    size = attempts.practice_set_size(catalog, first)
    assert size == len(catalog.practice_items(first)) + attempts.HIDDEN_DUPLICATES
    assert any(c.value.startswith(f"{size} items, one at a time") for c in at.caption)


def test_dashboard_empty_state_then_figures(app_ctx, make_user) -> None:
    user = make_user("tina")
    at = _open(user, "dashboard.py")
    assert any("Answer practice items" in i.value for i in at.info)
    catalog = app_ctx.base_catalog
    actor = Actor.of(user)
    rng = random.Random(3)
    module_id = catalog.modules_of("L1")[0].id
    with app_ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id)
        for key in attempts.attempt_view(s, actor, catalog, attempt_id).item_ids:
            item = catalog.item(attempts.base_item_id(key))
            attempts.record_answer(
                s, actor, catalog, attempt_id, key, simulated_answer(item, 0.9, rng)
            )
    at = _open(user, "dashboard.py")
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Graded items"]) == len(catalog.practice_items(module_id))
    assert metrics["Self-consistency"].endswith(f"/{attempts.HIDDEN_DUPLICATES}")
    # Sentiment, intent and request-type labels each get their own table, never one mixed grid.
    label_sets = {
        tuple(item.labels)
        for item in catalog.practice_items(module_id)
        if item.type == "classification"
    }
    with app_ctx.session() as s:
        dash = trainee_stats.trainee_dashboard(s, actor, catalog)
    assert len(dash.confusions) == len(label_sets) > 1
    for table in dash.confusions.values():
        used = set(table.index) | set(table.columns)
        assert any(used <= set(labels) for labels in label_sets), used
    assert (dash.weakest_labels["items"] > 0).all()
    assert any(b.label == "Label set" for b in at.selectbox)
    # The span items are read by span F1 too, pooled over the items answered.
    span = dash.dimensions.set_index("dimension").loc["span", "measures"]
    assert span["span_f1"] is not None
    captions = [c.value for c in at.caption]
    assert f"Measured in their own terms too: span: span F1 {span['span_f1']:.2f}." in captions


def test_exam_page_explains_why_it_is_closed(app_ctx, make_user) -> None:
    at = _open(make_user("tina"), "exam.py")
    assert any("opens when all" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Start the")]


def test_exam_result_shows_every_dimension_with_its_verdict(app_ctx, make_user) -> None:
    user = make_user("tina")
    actor, catalog = Actor.of(user), app_ctx.base_catalog
    pass_every_module(app_ctx, user.id, "L1")
    with app_ctx.session() as s:
        attempt_id = attempts.start_exam(s, actor, catalog, "L1")
        form = attempts.attempt_view(s, actor, catalog, attempt_id).item_ids
        rng = random.Random(1)
        for key in form:
            item = catalog.item(attempts.base_item_id(key))
            answer = simulated_answer(item, 1.0, rng)
            attempts.record_answer(s, actor, catalog, attempt_id, key, answer)
        outcome = attempts.submit_exam(s, actor, catalog, attempt_id)
    # Every answer as the expert gave it: a pass, whatever single-category dimensions the
    # form happened to hold.
    assert outcome.passed, outcome.result["reason"]
    at = _open(user, "exam.py")
    assert any("Passed with overall agreement 1.00" in m.value for m in at.success)
    text = page_text(at)
    dims = outcome.result["dimensions"]
    for name in dims:
        assert name in text
    perfect = [name for name, value in dims.items() if value is None]
    if perfect:
        assert any("No disagreement to measure on" in c.value for c in at.caption)


def test_learn_page_shows_the_lesson(app_ctx, make_user) -> None:
    at = _open(make_user("tina"), "learn.py")
    module = app_ctx.base_catalog.modules[0]
    assert at.title[0].value == module.title
    assert any(module.objectives[0] in m.value for m in at.markdown)
