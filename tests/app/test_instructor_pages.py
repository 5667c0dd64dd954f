"""The instructor pages on a small seeded cohort: each renders, shows the figures the
services compute for a known fixture, and refuses trainees."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta

import krippendorff
import numpy as np
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from evaluator_cert.content.schema import ClassificationItem
from evaluator_cert.db.models import Annotation, Attempt, Dispute, Remediation, Review, User, utcnow
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import attempts, calibration, disputes, overrides, reviews
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer
from evaluator_cert.ui.navigation import pages_for
from evaluator_cert.ui.notices import GENERATIONS, PENDING_KEY
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


def notices(at: AppTest) -> list[str]:
    """What the page flashed after an action. AppTest runs a page it switched to without
    app.py, so there the notices are still pending; test_notices.py shows app.py renders them."""
    pending = at.session_state.get(PENDING_KEY, [])
    return [t.value for t in at.toast] + [message for _, message in pending]


def open_page(user: User, page: str) -> AppTest:
    """Through app.py's navigation when the page is listed for the role, else the file."""
    if page in pages_for(user.role):
        at = app_as(user)
        at.run()
        at.switch_page(f"app_pages/{page}")
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
    _press(at, "Save note")
    assert not at.exception, at.exception
    assert "Note on" in " ".join(notices(at))
    publish = next(b for b in at.button if b.label == "Publish results to the trainees")
    assert publish.disabled  # until the instructor confirms
    next(c for c in at.checkbox if c.label.startswith("I understand publishing")).check()
    at.run()
    _press(at, "Publish results to the trainees")
    assert not at.exception, at.exception
    assert f"Session {cohort['session']} published." in notices(at)
    assert {m.label: m.value for m in at.metric}["Status"] == "published"
    assert not [b for b in at.button if b.label == "Publish results to the trainees"]
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
    _press(at, "Submit review")
    assert not at.exception, at.exception
    assert any("now scores" in t for t in notices(at))


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


# ------------------------------------------------ act once, see the result, keep the input


def _review_ids(ctx: AppContext, user: User) -> list[int]:
    with ctx.session() as s:
        queue = reviews.review_queue(s, Actor.of(user), ctx.base_catalog)
    return [int(i) for i in queue["annotation_id"]]


def _reviews_of(ctx: AppContext, annotation_id: int) -> list[Review]:
    with ctx.session() as s:
        return list(s.scalars(select(Review).where(Review.annotation_id == annotation_id)))


def test_a_review_is_saved_to_the_answer_shown_and_the_page_moves_on(cohort, app_ctx) -> None:
    ivy = cohort["ivy"]
    first, second, *_ = _review_ids(app_ctx, ivy)
    at = open_page(ivy, "reviews.py")
    at.run()
    at.text_area(key=f"feedback_{first}").input("Name the source you relied on.")
    _press(at, "Submit review")
    assert not at.exception, at.exception
    assert f"Review of answer #{first} saved" in " ".join(notices(at))
    assert [r.feedback for r in _reviews_of(app_ctx, first)] == ["Name the source you relied on."]
    # Fresh from the database: one fewer in the queue, and the next answer's own form.
    assert {m.label: m.value for m in at.metric}["In the queue"] == str(
        len(_review_ids(app_ctx, ivy))
    )
    assert at.selectbox[0].value == second
    assert at.text_area(key=f"feedback_{second}").value == ""
    # Shown again for a second review, the answer says who reviewed it, without a raw dict,
    # and offers no form to the instructor who already did.
    at.toggle(key="include_reviewed").set_value(True).run()
    assert at.selectbox[0].value == first
    caption = next(c.value for c in at.caption if c.value.startswith("Reviewed by ivy"))
    assert "{" not in caption and "/4" in caption
    assert any(f"You have reviewed answer #{first}" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Submit review"]


def test_a_stale_review_form_never_lands_on_another_answer(
    cohort, app_ctx, make_user: Callable[..., User]
) -> None:
    ivy, joe = cohort["ivy"], make_user("joe", "instructor")
    first, second, *_ = _review_ids(app_ctx, ivy)
    at = open_page(ivy, "reviews.py")
    at.run()
    at.text_area(key=f"feedback_{first}").input("Feedback meant for the first answer.")
    # Meanwhile another instructor reviews the answer on ivy's screen.
    with app_ctx.session() as s:
        task = reviews.review_task(s, Actor.of(joe), app_ctx.base_catalog, first)
        scores = {c: 1 for c in task.criteria}
        reviews.submit_review(s, Actor.of(joe), app_ctx.base_catalog, first, scores, "Done.")
    _press(at, "Submit review")
    assert not at.exception, at.exception
    assert [r.reviewer_id for r in _reviews_of(app_ctx, first)] == [joe.id]
    assert _reviews_of(app_ctx, second) == []  # not saved to whatever came first next
    assert at.selectbox[0].value == second


def _open_dispute(ctx: AppContext, trainee: User, reason: str) -> int:
    """A challenge to the newest classification item the trainee answered in practice."""
    catalog = ctx.base_catalog
    with ctx.session() as s:
        answered = s.scalars(
            select(Annotation.item_id)
            .join(Attempt, Attempt.id == Annotation.attempt_id)
            .where(
                Annotation.user_id == trainee.id,
                Attempt.kind == "practice",
                Annotation.item_id.not_like("%#dup"),
            )
            .order_by(Annotation.id.desc())
        )
        item_id = next(i for i in answered if isinstance(catalog.item(i), ClassificationItem))
        return disputes.open_dispute(s, Actor.of(trainee), catalog, item_id, reason).id


def _dispute(ctx: AppContext, dispute_id: int) -> Dispute:
    with ctx.session() as s:
        found = s.get(Dispute, dispute_id)
        assert found is not None
        return found


def test_accepting_a_challenge_reports_the_regrade_and_closes_it(cohort, app_ctx) -> None:
    dispute_id = _open_dispute(app_ctx, cohort["trainees"][2], "The gold misses the irony.")
    at = open_page(cohort["ivy"], "disputes.py")
    at.run()
    assert any(o.startswith(f"#{dispute_id} ") for o in at.selectbox[0].options)
    at.selectbox[0].set_value(dispute_id).run()
    item = app_ctx.base_catalog.item(_dispute(app_ctx, dispute_id).item_id)
    assert isinstance(item, ClassificationItem)
    with app_ctx.session() as s:
        given = s.scalar(
            select(Annotation.answer).where(
                Annotation.user_id == cohort["trainees"][2].id, Annotation.item_id == item.id
            )
        )
    # The challenger's own label when it differs from gold, so that their answer moves
    # whichever label they gave (a third label would move for neither gold).
    others = [label for label in item.labels if label != item.gold]
    new_gold = given["label"] if given["label"] in others else others[0]
    at.selectbox(key=f"gold_{dispute_id}").set_value(new_gold)
    box = at.text_area(key=f"explanation_{dispute_id}")
    assert box.value == item.explanation  # shown as it stands, ready to edit
    rewritten = "The last sentence decides the tone, and it reverses everything before it."
    box.input(rewritten)
    at.text_area(key=f"accept_text_{dispute_id}").input("Right: the last sentence decides.")
    _press(at, "Accept, correct and regrade")
    assert not at.exception, at.exception
    with app_ctx.session() as s:
        answers = s.execute(
            select(Annotation.answer)
            .join(Attempt, Attempt.id == Annotation.attempt_id)
            .where(Annotation.item_id.in_([item.id, item.id + "#dup"]), Attempt.kind == "practice")
        ).all()
    moved = sum((a["label"] == item.gold) != (a["label"] == new_gold) for (a,) in answers)
    assert moved > 0
    assert f"{len(answers)} answer" in " ".join(notices(at))
    assert f"regraded, {moved} changed" in " ".join(notices(at))
    assert _dispute(app_ctx, dispute_id).status == "accepted"
    assert app_ctx.catalog().item(item.id).explanation == rewritten
    # Not shown as open any more: the list is read again after the action.
    assert dispute_id not in at.dataframe[0].value["id"].tolist()
    assert not [o for o in at.selectbox[0].options if o.startswith(f"#{dispute_id} ")]


def test_a_stale_reject_never_settles_another_challenge(cohort, app_ctx) -> None:
    first = int(_review_first_dispute(app_ctx, cohort))
    second = _open_dispute(app_ctx, cohort["trainees"][1], "The gold ignores the question asked.")
    at = open_page(cohort["ivy"], "disputes.py")
    at.run()
    assert int(at.selectbox[0].value) == first
    at.text_area(key=f"reject_text_{first}").input("The rubric's clause 3 settles it.")
    # Meanwhile another instructor rejects it.
    with app_ctx.session() as s:
        disputes.reject_dispute(s, Actor.of(cohort["ivy"]), first, "Settled at the desk today.")
    _press(at, "Reject")
    assert not at.exception, at.exception
    assert _dispute(app_ctx, first).resolution == "Settled at the desk today."
    assert _dispute(app_ctx, second).status == "open"
    # The second one shows its own empty form: the first one's reason did not carry over.
    assert at.text_area(key=f"reject_text_{second}").value == ""


def _review_first_dispute(ctx: AppContext, cohort: dict[str, object]) -> int:
    with ctx.session() as s:
        frame = disputes.disputes_frame(s, Actor.of(cohort["ivy"]), ctx.base_catalog)  # type: ignore[arg-type]
    return int(frame.iloc[0]["id"])


@pytest.mark.parametrize(
    ("page", "key"), [("disputes.py", "dispute_status"), ("items.py", "items_kind")]
)
def test_a_segmented_toggle_cannot_empty_the_page(cohort, page: str, key: str) -> None:
    at = open_page(cohort["ivy"], page)
    at.run()
    control = at.button_group(key=key)
    assert control.proto.required
    control.set_value(None).run()
    assert not at.exception, at.exception
    assert at.dataframe  # the default view, not an empty page


def test_new_calibration_session_form_empties_after_create(cohort) -> None:
    at = open_page(cohort["ivy"], "calibration_manage.py")
    at.run()
    assert any(s.label.startswith("Cohort (required") for s in at.selectbox)
    title = next(t for t in at.text_input if t.label == "Title")
    title.input("Week two")
    _press(at, "Create session")
    assert not at.exception, at.exception
    assert "Choose a cohort or pick trainees." in [e.value for e in at.error]
    assert next(t for t in at.text_input if t.label == "Title").value == "Week two"  # kept
    next(s for s in at.selectbox if s.label.startswith("Cohort (required")).set_value("spring")
    _press(at, "Create session")
    assert not at.exception, at.exception
    assert any("created: Week two" in n for n in notices(at))
    assert next(t for t in at.text_input if t.label == "Title").value == ""
    assert at.header[0].value == "Week two"  # the new session is the one shown
    # A second click on the emptied form creates nothing.
    _press(at, "Create session")
    assert "Give the session a title of 3 to 200 characters." in [e.value for e in at.error]
    titles = at.dataframe[0].value["title"].tolist()
    assert titles.count("Week two") == 1


def test_alpha_trend_is_one_point_per_published_session(cohort, app_ctx) -> None:
    at = open_page(cohort["ivy"], "calibration_manage.py")
    at.run()
    assert any("two sessions that trainees answered are published" in c.value for c in at.caption)
    ivy, catalog = Actor.of(cohort["ivy"]), app_ctx.base_catalog
    items = [i for i in catalog.calibration_batch("L1") if isinstance(i, ClassificationItem)][:4]
    with app_ctx.session() as s:
        calibration.publish(s, ivy, cohort["session"])
        sid = calibration.create_session(
            s,
            ivy,
            catalog,
            level_id="L1",
            title="Week two",
            item_ids=[i.id for i in items],
            cohort="spring",
        )
        for n, trainee in enumerate(cohort["trainees"]):
            rng = random.Random(n)
            attempt_id = calibration.start_calibration(s, Actor.of(trainee), catalog, sid)
            for item in items:
                calibration.answer_calibration(
                    s,
                    Actor.of(trainee),
                    catalog,
                    attempt_id,
                    item.id,
                    simulated_answer(item, 0.7, rng),
                )
        calibration.publish(s, ivy, sid)
    at.run()
    figure = json.loads(
        next(c.proto.spec for c in at.get("plotly_chart") if "Krippendorff" in c.proto.spec)
    )
    names = {trace["name"] for trace in figure["data"]}
    assert names <= {"nominal", "interval"} and "nominal" in names
    nominal = next(t for t in figure["data"] if t["name"] == "nominal")
    assert list(nominal["x"]) == ["Week one", "Week two"]
    assert figure["layout"]["xaxis"]["type"] == "category"


def test_an_override_shows_at_once_and_its_form_empties(cohort, app_ctx) -> None:
    bob = cohort["trainees"][1]
    at = open_page(cohort["ivy"], "trainee_detail.py")
    at.session_state["detail_user"] = bob.id
    at.run()
    assert any(m.label == "Rolling agreement, last 50 items" for m in at.metric)
    before = len(at.dataframe[2].value)
    # An open module: refused, and the reason stays for the fix.
    at.selectbox(key=f"{_form(at, 'override')}_module").set_value("L1_M001")
    at.text_area(key=f"{_form(at, 'override')}_reason").input("Start him on the basics.")
    _press(at, "Apply override")
    assert any("L1_M001 is already open to" in e.value for e in at.error)
    assert at.text_area(key=f"{_form(at, 'override')}_reason").value == "Start him on the basics."
    at.selectbox(key=f"{_form(at, 'override')}_module").set_value("L1_M005")
    _press(at, "Apply override")
    assert not at.exception, at.exception
    assert any("L1_M005 unlocked" in n for n in notices(at))
    overrides_tab = at.dataframe[2].value
    assert len(overrides_tab) == before + 1 and "L1_M005" in overrides_tab["target"].tolist()
    assert at.text_area(key=f"{_form(at, 'override')}_reason").value == ""
    # Applying again on the emptied form saves nothing.
    _press(at, "Apply override")
    assert any("Give a reason" in e.value for e in at.error)
    assert len(at.dataframe[2].value) == before + 1


def test_an_instructor_assigns_remediation_from_the_trainee_page(cohort, app_ctx) -> None:
    bob = cohort["trainees"][1]
    at = open_page(cohort["ivy"], "trainee_detail.py")
    at.session_state["detail_user"] = bob.id
    at.run()
    before = len(at.dataframe[1].value)  # the Remediation tab
    next(r for r in at.radio if r.label == "Action").set_value("Assign remediation")
    at.run()
    picker = at.multiselect(key=f"{_form(at, 'override')}_modules")
    picker.set_value(["L1_M002"])
    at.text_area(key=f"{_form(at, 'override')}_reason").input("Rubric ratings drift upward.")
    _press(at, "Assign remediation")
    assert not at.exception, at.exception
    assert any("L1_M002 reassigned" in n for n in notices(at))
    remediation_tab = at.dataframe[1].value
    assert len(remediation_tab) == before + 1
    with app_ctx.session() as s:
        rows = s.scalars(select(Remediation).where(Remediation.user_id == bob.id)).all()
    assert [r.module_ids for r in rows][-1] == ["L1_M002"]
    assert rows[-1].reason == "Rubric ratings drift upward."


def _press(at: AppTest, label: str) -> None:
    """Click the button with this label and run the page again."""
    next(b for b in at.button if b.label == label).click()
    at.run()


def _form(at: AppTest, name: str) -> str:
    """The current key of a form made with notices.form_key (it changes on reset)."""
    generations = at.session_state.get(GENERATIONS, {})
    return f"{name}_{generations.get(name, 0)}"


PANEL_P00 = "item_id,expert,label,text\n" + "\n".join(
    f"P0{n},{expert},{'pos' if (n + k) % 3 else 'neg'},Text {n}"
    for n in range(4)
    for k, expert in enumerate(("ann", "ben", "cal"))
)


def test_gold_page_explains_bad_ids_in_plain_text(cohort) -> None:
    at = open_page(cohort["ivy"], "gold.py")
    at.run()
    at.text_area(key="panel_csv").input(PANEL_P00)
    at.run()
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "Item ids look like" in w.value)
    assert "P00" in warning
    _press(at, "Build YAML")
    error = next(e.value for e in at.error)
    assert error.startswith(r"Item ids look like L1\_M001\_P01")  # escaped: no italics
    assert "pattern" not in error and not at.code


def test_gold_page_warns_about_a_thin_panel_and_keeps_the_yaml(cohort) -> None:
    at = open_page(cohort["ivy"], "gold.py")
    at.run()
    at.text_area(key="panel_csv").input(
        "item_id,expert,label,text\nL1_G1,ann,pos,One\nL1_G1,ann,neg,One\nL1_G2,ann,neg,Two"
    )
    at.run()
    warnings = " ".join(w.value for w in at.warning)
    assert "Only one expert (ann)" in warnings and "ann on L1\\_G1 (2 labels)" in warnings
    _press(at, "Build YAML")
    assert "L1_G1" in at.code[0].value
    at.selectbox[0].set_value("ann").run()  # any other rerun, e.g. after Download
    assert at.code and "L1_G1" in at.code[0].value
    download = next(d for d in at.get("download_button") if d.proto.label == "Download item set")
    assert download.proto.ignore_rerun


def test_items_page_explains_an_empty_chart(app_ctx, make_user: Callable[..., User]) -> None:
    ivy, amy = make_user("ivy", "instructor"), make_user("amy")
    _practise(app_ctx, amy, "L1_M001", 0.8, 10, 1)  # one trainee: nothing discriminates
    at = open_page(ivy, "items.py")
    at.run()
    assert not at.exception, at.exception
    assert any("nothing to plot" in i.value for i in at.info)
    assert not at.get("plotly_chart")
    assert len(at.dataframe[0].value) > 0  # the table still has the figures


def test_items_chart_colours_flagged_items_apart(cohort) -> None:
    at = open_page(cohort["ivy"], "items.py")
    at.run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in figure["data"]} <= {"not flagged", "possible gold error"}
    assert figure["data"][0]["marker"]["color"] == "#1f77b4"


def test_cohort_search_without_match_says_so(cohort) -> None:
    at = open_page(cohort["ivy"], "cohort.py")
    at.run()
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["rolling_agreement"]["label"] == "agreement, last 50 items"
    assert columns["rolling_kappa"]["label"] == "κ of label decisions, last 50 items"
    at.text_input(key="cohort_search").input("amy").run()
    assert at.dataframe[0].value["trainee"].tolist() == ["amy"]
    at.text_input(key="cohort_search").input("amy and no one else").run()
    assert not at.exception, at.exception
    assert "No trainee matches these filters." in [i.value for i in at.info]
    assert not at.dataframe  # a sentence, not an empty grid
