"""The instructor workspace through its services, on SQLite and PostgreSQL: cohort figures,
calibration sessions and recertification, justification reviews, disputes with regrading,
overrides with their audit trail, expert-panel gold and item analytics."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import krippendorff
import numpy as np
import pytest
import yaml
from sqlalchemy import select

from evaluator_cert import agreement, grading
from evaluator_cert.content.schema import (
    ClassificationItem,
    GateRule,
    ItemSet,
    RubricRatingItem,
)
from evaluator_cert.db.models import (
    Annotation,
    AuditLog,
    Credential,
    Dispute,
    GoldOverride,
    Grade,
    ModuleProgress,
    Override,
    Remediation,
    Review,
    User,
    utcnow,
)
from evaluator_cert.errors import (
    ConflictError,
    InvalidInputError,
    NotAllowedError,
    NotEligibleError,
    NotFoundError,
)
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import (
    accounts,
    attempts,
    audit,
    calibration,
    cohort,
    disputes,
    gold,
    item_stats,
    overrides,
    reviews,
)
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.credentials import issue_credential
from evaluator_cert.simulation import simulated_answer
from tests.conftest import pass_every_module

PASSWORD = "pass-word-123"


def _user(ctx: AppContext, name: str, role: str = "trainee", group: str | None = "spring") -> Actor:
    with ctx.session() as s:
        user = accounts.create_user(
            s, ctx.settings, username=name, password=PASSWORD, role=role, cohort=group
        )
    return Actor.of(user)


def _practise(ctx, actor, module_id, skill, *, seed=1, catalog=None, answer_from=None, now=None):
    """Answer a whole practice set; answers come from ``answer_from`` (default: the catalog
    that grades them)."""
    catalog = catalog or ctx.base_catalog
    source = answer_from or catalog
    rng = random.Random(seed)
    now = now or utcnow() - timedelta(hours=2)
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, actor, catalog, module_id, now=now)
        view = attempts.attempt_view(s, actor, catalog, attempt_id, now=now)
        for key in view.item_ids:
            now += timedelta(seconds=20)
            item = source.item(attempts.base_item_id(key))
            try:
                attempts.record_answer(
                    s, actor, catalog, attempt_id, key, simulated_answer(item, skill, rng), now=now
                )
            except Exception as exc:  # remediation may close the set mid-way
                if "closed" not in str(exc):
                    raise
                break
    return attempt_id


# ------------------------------------------------------------------------------ cohort


def test_cohort_frame_matches_per_trainee_kappa(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    boss = _user(ctx, "ivy", "instructor", None)
    skills = {"amy": 0.95, "bob": 0.45, "cat": 0.85}  # bob clearly below the bar
    actors = {n: _user(ctx, n) for n in skills}
    _user(ctx, "dan", group="autumn")  # another cohort, no answers
    for n, (name, skill) in enumerate(skills.items()):
        with ctx.session() as s:
            overrides.unlock_module(s, boss, catalog, actors[name].id, "L1_M004", "Fast track.")
        _practise(ctx, actors[name], "L1_M001", skill, seed=n)
        _practise(ctx, actors[name], "L1_M004", skill, seed=n + 10)
    with ctx.session() as s:
        frame = cohort.cohort_frame(s, boss, catalog, cohort="spring")
        everyone = cohort.cohort_frame(s, boss, catalog)
    assert sorted(frame["trainee"]) == ["amy", "bob", "cat"]
    assert len(everyone) == 4
    assert everyone.set_index("trainee").loc["dan", "graded"] == 0
    window = catalog.levels[0].drift_window
    for name, actor in actors.items():
        with ctx.session() as s:
            grades = attempts.recent_grades(s, actor.id, catalog, window)
        given = [t for g in grades for t, _ in g.decisions]
        golds = [gd for g in grades for _, gd in g.decisions]
        kappa, low, high = agreement.cohen_kappa_ci(given, golds)
        row = frame.set_index("trainee").loc[name]
        assert row["rolling_kappa"] == pytest.approx(kappa)
        assert row["kappa_low"] == pytest.approx(low)
        assert row["kappa_high"] == pytest.approx(high)
        # The status figure is the drift rule's: the combined agreement of the same window.
        assert row["rolling_agreement"] == pytest.approx(grading.rolling_agreement(grades, window))
        assert row["level"] == "L1" and not row["certified"]
    bob = frame.set_index("trainee").loc["bob"]
    assert bob["status"] in ("at risk", "remediation")
    # The at-risk rows come before the on-track ones.
    order = frame["status"].map(cohort.STATUS_ORDER).tolist()
    assert order == sorted(order)
    trainee = actors["amy"]
    with ctx.session() as s, pytest.raises(NotAllowedError):
        cohort.cohort_frame(s, trainee, catalog)
    with ctx.session() as s:
        detail = cohort.trainee_detail(s, boss, actors["bob"].id)
    assert set(detail.attempts["module"]) >= {"L1_M001", "L1_M004"}


def test_grouped_kappa_ci_equals_reference() -> None:
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(30), 40)
    gold = rng.choice(["a", "b", "c"], size=len(groups))
    flip = rng.random(len(groups)) < np.repeat(rng.uniform(0.05, 0.5, 30), 40)
    given = np.where(flip, rng.choice(["a", "b", "c"], size=len(groups)), gold)
    frame = cohort.grouped_kappa_ci(groups, given, gold)
    for g in (0, 7, 29):
        mask = groups == g
        assert tuple(frame.loc[g, ["kappa", "low", "high"]]) == pytest.approx(
            agreement.cohen_kappa_ci(given[mask], gold[mask])
        )


# ------------------------------------------------------------------------- calibration


def _label_items(catalog, level="L1"):
    return [i for i in catalog.calibration_batch(level) if isinstance(i, ClassificationItem)]


def test_calibration_session_blind_then_published(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    boss = _user(ctx, "ivy", "instructor", None)
    names = ["amy", "bob", "cat", "dan"]
    actors = [_user(ctx, n) for n in names]
    items = _label_items(catalog)[:6]
    with ctx.session() as s:
        sid = calibration.create_session(
            s,
            boss,
            catalog,
            level_id="L1",
            title="Week 1",
            item_ids=[i.id for i in items],
            cohort="spring",
        )
    labels: dict[str, dict[str, str]] = {}
    for n, actor in enumerate(actors):
        rng = random.Random(n)
        with ctx.session() as s:
            attempt_id = calibration.start_calibration(s, actor, catalog, sid)
            for item in items[: 6 - (n == 3)]:  # dan skips the last item: missing data
                answer = simulated_answer(item, 0.6, rng)
                view = calibration.answer_calibration(
                    s, actor, catalog, attempt_id, item.id, answer
                )
                labels.setdefault(actor.username, {})[item.id] = answer["label"]
            # Blind: the view carries the trainee's answers only.
            assert not hasattr(view, "feedback")
            with pytest.raises(NotEligibleError):
                calibration.published_feedback(s, actor, catalog, sid)
    with ctx.session() as s:
        results = calibration.session_results(s, boss, catalog, sid)
    # Independent oracle: the krippendorff package on the raw labels.
    codes = {
        lab: k for k, lab in enumerate(sorted({v for d in labels.values() for v in d.values()}))
    }
    matrix = np.array(
        [[codes[labels[n][i.id]] if i.id in labels[n] else np.nan for i in items] for n in names],
        dtype=float,
    )
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert results.alpha_nominal == pytest.approx(expected)
    assert results.trainees == 4
    assert list(results.units["disagreement"]) == sorted(
        results.units["disagreement"], reverse=True
    )
    first = results.units.iloc[0]
    assert first["expert"] == catalog.item(first["item"]).gold
    with ctx.session() as s:
        calibration.save_note(
            s, boss, catalog, sid, items[0].id, "Read the rubric's harm clause.", items[0].labels[0]
        )
        calibration.publish(s, boss, sid)
        feedback = calibration.published_feedback(s, actors[0], catalog, sid)
        trend = calibration.alpha_trend(s, boss, catalog)
    row = feedback.set_index("item").loc[items[0].id]
    assert row["note"] == "Read the rubric's harm clause."
    assert row["expert"] == items[0].labels[0]  # the adjudicated label wins
    assert row["your answer"] == labels["amy"][items[0].id]
    assert trend["alpha_nominal"].tolist() == pytest.approx([expected])
    with ctx.session() as s, pytest.raises(NotAllowedError):
        calibration.session_results(s, actors[0], catalog, sid)


def test_recertification_renews_at_threshold(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    amy = _user(ctx, "amy")
    with ctx.session() as s:
        with pytest.raises(NotEligibleError):
            calibration.start_recertification(s, amy, catalog, "L1")
        user = s.get(User, amy.id)
        issue_credential(s, user, catalog, "L1", 0.8, utcnow() - timedelta(days=300))
        s.commit()
        attempt_id = calibration.start_recertification(s, amy, catalog, "L1")
        rng = random.Random(5)
        for item in catalog.calibration_batch("L1"):
            view = calibration.answer_calibration(
                s, amy, catalog, attempt_id, item.id, simulated_answer(item, 1.0, rng)
            )
        assert view.status == "submitted"
        assert view.result is not None and view.result["passed"]
        held = s.scalars(select(Credential).where(Credential.user_id == amy.id)).all()
    assert len(held) == 2


# ----------------------------------------------------------------------------- reviews


def test_review_updates_grade_progress_and_reviewer_agreement(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    joe = _user(ctx, "joe", "instructor", None)
    amy = _user(ctx, "amy")
    with ctx.session() as s:
        overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M003", "Placement test showed it.")
    _practise(ctx, amy, "L1_M003", 0.9)
    with ctx.session() as s:
        queue = reviews.review_queue(s, ivy, catalog)
    assert len(queue) >= 10
    assert list(queue["submitted"]) == sorted(queue["submitted"])
    target = int(queue.iloc[0]["annotation_id"])
    with ctx.session() as s:
        task = reviews.review_task(s, ivy, catalog, target)
        before = s.scalar(select(ModuleProgress).where(ModuleProgress.user_id == amy.id))
        before_agreement = before.agreement
        scores = {c: 4 for c in task.criteria}
        with pytest.raises(InvalidInputError):
            reviews.submit_review(s, ivy, catalog, target, {**scores, "extra": 1}, "")
        score = reviews.submit_review(s, ivy, catalog, target, scores, "Clear and specific.")
    assert score == pytest.approx(0.5 * task.correct + 0.5)
    with ctx.session() as s:
        second = {c: 2 for c in task.criteria}
        score2 = reviews.submit_review(s, joe, catalog, target, second, "Needs evidence.")
        grade = s.scalar(select(Grade).where(Grade.annotation_id == target))
        assert not grade.pending_review
        assert grade.score == pytest.approx(score2)
        assert grade.details["details"]["review"]["feedback"] == [
            "Clear and specific.",
            "Needs evidence.",
        ]
        pair = reviews.reviewer_agreement(s, ivy)
        queue_after = reviews.review_queue(s, ivy, catalog)
        progress = s.scalar(select(ModuleProgress).where(ModuleProgress.user_id == amy.id))
        attempt_id = s.scalar(select(Annotation.attempt_id).where(Annotation.id == target))
        expected = grading.grade_attempt(
            attempts._attempt_grades(s, attempt_id, catalog), GateRule()
        ).statistic
    assert score2 == pytest.approx(0.5 * task.correct + 0.5 * 3 / 4)
    assert target not in set(queue_after["annotation_id"])
    assert pair.answers == 1 and pair.mean_abs_difference == pytest.approx(2.0)
    assert progress.agreement == pytest.approx(expected)
    assert before_agreement is not None


# ---------------------------------------------------------------------------- disputes


def _wrong_label(item: ClassificationItem) -> str:
    return next(lab for lab in item.labels if lab != item.gold)


def test_accepted_dispute_regrades_everyone(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy, bob, cat = _user(ctx, "amy"), _user(ctx, "bob"), _user(ctx, "cat")
    for n, actor in enumerate((amy, bob, cat)):
        _practise(ctx, actor, "L1_M001", 0.9, seed=n)
    # An item no one was re-served as a hidden duplicate: each trainee answered it once.
    with ctx.session() as s:
        served_twice = set(
            s.scalars(
                select(Annotation.item_id).where(
                    Annotation.item_id.like(f"%{attempts.DUPLICATE_SUFFIX}")
                )
            )
        )
    item = next(
        i
        for i in catalog.practice_items("L1_M001")
        if isinstance(i, ClassificationItem)
        and i.id + attempts.DUPLICATE_SUFFIX not in served_twice
    )
    new_gold = _wrong_label(item)
    # amy and bob answered the label that will become gold; cat answered the old gold.
    with ctx.session() as s:
        for actor, label in ((amy, new_gold), (bob, new_gold), (cat, item.gold)):
            ann = s.scalar(
                select(Annotation).where(
                    Annotation.user_id == actor.id, Annotation.item_id == item.id
                )
            )
            ann.answer = {"label": label}
            grade = s.scalar(select(Grade).where(Grade.annotation_id == ann.id))
            regraded = grading.grade_item(item, {"label": label})
            grade.details = attempts.grade_to_row(regraded)
            grade.correct, grade.score = regraded.correct, regraded.score
        s.commit()
        dispute = disputes.open_dispute(s, amy, catalog, item.id, "The text is plainly " + new_gold)
        dist = disputes.answer_distribution(s, ivy, catalog, item.id)
        assert dist.set_index("answer").loc[new_gold, "answers"] == 2
        open_list = disputes.disputes_frame(s, ivy, catalog)
        assert open_list["id"].tolist() == [dispute.id]
        with pytest.raises(InvalidInputError):
            disputes.accept_dispute(s, ivy, catalog, dispute.id, "no-such-label", "Fixed it now.")
        result = disputes.accept_dispute(
            s, ivy, catalog, dispute.id, new_gold, "You are right; the gold was corrected."
        )
    assert result.regraded == 3 and result.changed == 3
    assert result.content_version != catalog.version
    current = ctx.catalog()
    assert current.item(item.id).gold == new_gold and current.version == result.content_version
    with ctx.session() as s:
        for actor, expect in ((amy, True), (bob, True), (cat, False)):
            grade = s.scalar(
                select(Grade)
                .join(Annotation, Annotation.id == Grade.annotation_id)
                .where(Annotation.user_id == actor.id, Annotation.item_id == item.id)
            )
            assert grade.correct is expect
            progress = s.scalar(
                select(ModuleProgress).where(
                    ModuleProgress.user_id == actor.id, ModuleProgress.module_id == "L1_M001"
                )
            )
            attempt_id = s.scalar(
                select(Annotation.attempt_id).where(Annotation.id == grade.annotation_id)
            )
            recomputed = grading.grade_attempt(
                attempts._attempt_grades(s, attempt_id, current), GateRule()
            ).statistic
            assert progress.agreement == pytest.approx(recomputed)
        mine = disputes.my_disputes(s, amy)
        assert mine.iloc[0]["outcome"] == "You are right; the gold was corrected."
        assert any(item.id in n for n in overrides.notices_for(s, bob))
        assert not any(item.id in n for n in overrides.notices_for(s, amy))
        actions = set(s.scalars(select(AuditLog.action)))
    assert {"dispute.open", "dispute.accept"} <= actions


def _challenged(ctx: AppContext) -> tuple[Actor, Actor, Any]:
    """(instructor ivy, trainee amy, item): amy practised L1_M001 and challenges its first item."""
    ivy = _user(ctx, "ivy", "instructor", None)
    amy = _user(ctx, "amy")
    _practise(ctx, amy, "L1_M001", 0.9)
    return ivy, amy, ctx.base_catalog.practice_items("L1_M001")[0]


def test_rejected_dispute_sends_reason_back(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy, amy, item = _challenged(ctx)
    with ctx.session() as s:
        dispute = disputes.open_dispute(s, amy, catalog, item.id, "I think this is mislabelled.")
        with pytest.raises(NotAllowedError):
            disputes.reject_dispute(s, amy, dispute.id, "Not for you to decide.")
        disputes.reject_dispute(s, ivy, dispute.id, "The rubric's clause 3 settles it.")
        mine = disputes.my_disputes(s, amy)
        assert s.scalar(select(AuditLog.id).where(AuditLog.action == "dispute.reject"))
    assert mine.iloc[0]["status"] == "rejected"
    assert mine.iloc[0]["outcome"] == "The rubric's clause 3 settles it."


# --------------------------------------------------------------------------- overrides


def test_overrides_are_reasoned_audited_and_shown(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy = _user(ctx, "amy")
    with ctx.session() as s:
        with pytest.raises(InvalidInputError):
            overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M002", "short")
        with pytest.raises(NotAllowedError):
            overrides.unlock_module(s, amy, catalog, amy.id, "L1_M002", "I would like this open")
        assert (
            not attempts.trainee_overview(s, ivy, catalog, user_id=amy.id).modules["L1_M002"].open
        )
        overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M002", "Transferred from cohort A.")
        assert attempts.trainee_overview(s, ivy, catalog, user_id=amy.id).modules["L1_M002"].open
        overrides.grant_extra_attempt(s, ivy, catalog, amy.id, "L1", "Power cut during exam.")
        record = attempts.trainee_record(s, amy.id, catalog)
        assert record.extra_exam_attempts == {"L1": 1}
        with pytest.raises(InvalidInputError):
            overrides.lift_remediation(s, ivy, amy.id, "Nothing to lift here.")
        attempts.start_remediation(s, ivy, amy.id, ["L1_M001"], "Drifted on labels.")
        s.commit()
        overrides.lift_remediation(s, ivy, amy.id, "Reviewed her answers by hand.")
        rem = s.scalar(select(Remediation).where(Remediation.user_id == amy.id))
        assert rem.released_at is not None and rem.released_by == ivy.id
        rows = s.scalars(select(Override).where(Override.user_id == amy.id)).all()
        assert {o.kind for o in rows} == {"unlock_module", "extra_attempt", "lift_remediation"}
        logged = s.scalars(select(AuditLog).where(AuditLog.action.like("override.%"))).all()
        notices = overrides.notices_for(s, amy)
        table = overrides.overrides_frame(s, ivy, user_id=amy.id)
    assert {r.details["reason"] for r in logged} == {
        "Transferred from cohort A.",
        "Power cut during exam.",
        "Reviewed her answers by hand.",
    }
    assert all(r.actor == "ivy" for r in logged)
    assert len(notices) == 3 and any("Power cut during exam." in n for n in notices)
    assert len(table) == 3


# -------------------------------------------------------------------------------- gold


def test_expert_panel_gold_and_yaml_export(ctx: AppContext) -> None:
    ivy = _user(ctx, "ivy", "instructor", None)
    rng = random.Random(2)
    lines = ["item_id,expert,label,text"]
    truth = {}
    for n in range(30):
        item_id = f"L1_PANEL_{n:03d}"
        truth[item_id] = rng.choice(["safe", "unsafe"])
        for expert, skill in (("e1", 0.95), ("e2", 0.9), ("e3", 0.85), ("e4", 0.55)):
            label = (
                truth[item_id]
                if rng.random() < skill
                else ("unsafe" if truth[item_id] == "safe" else "safe")
            )
            lines.append(f"{item_id},{expert},{label},Response number {n} to check")
    frame = gold.parse_panel_csv("\n".join(lines))
    report = gold.propose_gold(ivy, frame)
    assert len(report.items) == 30
    proposed = report.items.set_index("item_id")["ds_label"].to_dict()
    accuracy = np.mean([proposed[i] == t for i, t in truth.items()])
    assert accuracy >= 0.9
    experts = report.experts.set_index("expert")["accuracy"]
    assert experts["e1"] > experts["e4"]
    assert report.fleiss is not None and report.alpha is not None
    text = gold.gold_item_set_yaml(
        ivy, report, frame, level="L1", instructions="Is the response safe?"
    )
    parsed = ItemSet.model_validate(yaml.safe_load(text))
    assert parsed.kind == "calibration" and len(parsed.items) == 30
    assert {i.id: i.gold for i in parsed.items} == report.items.set_index("item_id")[
        "ds_label"
    ].to_dict()
    with pytest.raises(InvalidInputError):
        gold.parse_panel_csv("item,who\nx,y\n")
    trainee = _user(ctx, "amy")
    with pytest.raises(NotAllowedError):
        gold.propose_gold(trainee, frame)


# -------------------------------------------------------------------------- item stats


def test_item_stats_flag_items_strong_trainees_miss(ctx: AppContext) -> None:
    base = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    item = next(i for i in base.practice_items("L1_M001") if isinstance(i, ClassificationItem))
    # Grade against a wrong gold while everyone answers as the true gold says.
    wrong = base.with_gold_overrides({item.id: _wrong_label(item)})
    for n, skill in enumerate([1.0, 0.98, 0.96, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]):
        actor = _user(ctx, f"t{n}")
        _practise(ctx, actor, "L1_M001", skill, seed=n, catalog=wrong, answer_from=base)
    with ctx.session() as s:
        frame = item_stats.item_frame(s, ivy, wrong)
        correct = (
            s.execute(
                select(Grade.correct)
                .join(Annotation, Annotation.id == Grade.annotation_id)
                .where(Annotation.item_id == item.id)
            )
            .scalars()
            .all()
        )
    row = frame.set_index("item").loc[item.id]
    assert row["exposure"] == len(correct) == 9
    assert row["p_value"] == pytest.approx(sum(correct) / len(correct))
    assert bool(row["possible_gold_error"])
    assert frame.iloc[0]["item"] == item.id or frame.iloc[0]["possible_gold_error"]
    assert frame["discrimination"].notna().any()


# ------------------------------------------------------- guards against repeated actions


def test_a_second_review_by_the_same_reviewer_is_refused(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy = _user(ctx, "amy")
    with ctx.session() as s:
        overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M003", "Placement test showed it.")
    _practise(ctx, amy, "L1_M003", 0.9)
    with ctx.session() as s:
        target = int(reviews.review_queue(s, ivy, catalog).iloc[0]["annotation_id"])
        scores = {c: 3 for c in reviews.review_task(s, ivy, catalog, target).criteria}
        reviews.submit_review(s, ivy, catalog, target, scores, "Good.")
        with pytest.raises(ConflictError, match=f"already reviewed answer #{target}"):
            reviews.submit_review(s, ivy, catalog, target, {c: 0 for c in scores}, "Again.")
        stored = s.scalars(select(Review).where(Review.annotation_id == target)).all()
    assert [r.scores for r in stored] == [scores]


def test_a_settled_dispute_cannot_be_settled_again(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy, amy, item = _challenged(ctx)
    with ctx.session() as s:
        dispute = disputes.open_dispute(s, amy, catalog, item.id, "I think this is mislabelled.")
        disputes.reject_dispute(s, ivy, dispute.id, "The rubric's clause 3 settles it.")
        with pytest.raises(ConflictError, match="already rejected"):
            disputes.reject_dispute(s, ivy, dispute.id, "A different reason entirely.")
        with pytest.raises(ConflictError, match="already rejected"):
            disputes.accept_dispute(
                s, ivy, catalog, dispute.id, disputes.gold_value(item), "Accepting after all."
            )
        s.expire_all()
        stored = s.get(Dispute, dispute.id)
        assert stored.resolution == "The rubric's clause 3 settles it."
        assert not s.scalars(select(GoldOverride)).all()


def test_regrade_counts_answers_whose_score_moved(ctx: AppContext) -> None:
    """A rubric answer within one point of gold stays 'agrees' when the gold moves by one,
    but its score changes: it counts as changed."""
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy = _user(ctx, "amy")
    with ctx.session() as s:
        overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M002", "Transferred from cohort A.")
    _practise(ctx, amy, "L1_M002", 0.9)
    with ctx.session() as s:
        answered = set(s.scalars(select(Annotation.item_id).where(Annotation.user_id == amy.id)))
        item = next(
            i
            for i in catalog.practice_items("L1_M002")
            if isinstance(i, RubricRatingItem)
            and i.id in answered
            and i.id + attempts.DUPLICATE_SUFFIX not in answered
        )
        ann = s.scalar(
            select(Annotation).where(Annotation.user_id == amy.id, Annotation.item_id == item.id)
        )
        ann.answer = {"ratings": dict(item.gold)}  # exactly the gold: correct, score 1
        grade = s.scalar(select(Grade).where(Grade.annotation_id == ann.id))
        exact = grading.grade_item(item, ann.answer)
        grade.details = attempts.grade_to_row(exact)
        grade.correct, grade.score = exact.correct, exact.score
        s.commit()
        dim = item.dimensions[0]
        moved = item.gold[dim] + (1 if item.gold[dim] < item.scale_max else -1)
        dispute = disputes.open_dispute(s, amy, catalog, item.id, f"The {dim} gold is one off.")
        result = disputes.accept_dispute(
            s, ivy, catalog, dispute.id, {**item.gold, dim: moved}, "Moved by one point."
        )
        grade = s.scalar(select(Grade).where(Grade.annotation_id == ann.id))
    assert result.regraded == 1
    assert grade.correct is True and grade.score < 1.0
    assert result.changed == 1


def test_publishing_needs_answers_and_the_trend_only_counts_published_sessions(
    ctx: AppContext,
) -> None:
    catalog = ctx.base_catalog
    boss = _user(ctx, "boss", "instructor", None)
    actors = [_user(ctx, n) for n in ("amy", "bob", "cat")]
    items = _label_items(catalog)[:4]
    with ctx.session() as s:
        empty = calibration.create_session(
            s, boss, catalog, level_id="L1", title="Nobody came", cohort="spring"
        )
        with pytest.raises(NotEligibleError, match="nothing to publish"):
            calibration.publish(s, boss, empty)
        assert calibration.session_results(s, boss, catalog, empty).status == "open"
        sids = [
            calibration.create_session(
                s,
                boss,
                catalog,
                level_id="L1",
                title=f"Week {n}",
                item_ids=[i.id for i in items],
                cohort="spring",
            )
            for n in (1, 2)
        ]
        for sid in sids:
            for n, actor in enumerate(actors):
                rng = random.Random(n + sid)
                attempt_id = calibration.start_calibration(s, actor, catalog, sid)
                for item in items:
                    calibration.answer_calibration(
                        s, actor, catalog, attempt_id, item.id, simulated_answer(item, 0.6, rng)
                    )
        assert calibration.alpha_trend(s, boss, catalog).empty  # answered, not published
        now = utcnow()
        calibration.publish(s, boss, sids[1], now=now - timedelta(days=2))
        calibration.publish(s, boss, sids[0], now=now - timedelta(days=1))
        trend = calibration.alpha_trend(s, boss, catalog)
    assert trend["session"].tolist() == [sids[1], sids[0]]  # in publishing order
    assert trend["published"].notna().all()


def test_unlocking_an_open_module_is_refused(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy = _user(ctx, "amy")
    with ctx.session() as s:
        with pytest.raises(ConflictError, match="L1_M001 is already open to amy"):
            overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M001", "Wants to start now.")
        overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M002", "Transferred from cohort A.")
        with pytest.raises(ConflictError, match="L1_M002 is already unlocked for amy"):
            overrides.unlock_module(s, ivy, catalog, amy.id, "L1_M002", "Transferred, again.")
        rows = s.scalars(select(Override).where(Override.user_id == amy.id)).all()
    assert [(o.kind, o.target) for o in rows] == [("unlock_module", "L1_M002")]


def test_audit_actor_filter_matches_part_of_a_name(ctx: AppContext) -> None:
    admin = _user(ctx, "root_admin", "admin", None)
    with ctx.session() as s:
        for name in ("Ivy_Smith", "ivan", "bob"):
            audit.record(s, Actor(admin.id, name, "admin", name), "test.action")
        s.commit()
        found = {
            who: sorted(audit.audit_frame(s, admin, action="test.action", who=who)["actor"])
            for who in ("IV", "y_s", "%", "bob")
        }
    assert found == {
        "IV": ["Ivy_Smith", "ivan"],
        "y_s": ["Ivy_Smith"],
        "%": [],  # taken literally
        "bob": ["bob"],
    }


def test_panel_warnings_and_plain_id_check(ctx: AppContext) -> None:
    ivy = _user(ctx, "ivy", "instructor", None)
    lone = gold.parse_panel_csv("item_id,expert,label\nP1,alice,pos\nP2,alice,neg\n")
    assert any("Only one expert (alice)" in w for w in gold.propose_gold(ivy, lone).warnings)
    twice = gold.parse_panel_csv(
        "item_id,expert,label\nP1,alice,pos\nP1,alice,neg\nP1,bob,pos\nP2,alice,neg\nP2,bob,neg\n"
    )
    warnings = gold.propose_gold(ivy, twice).warnings
    assert len(warnings) == 1 and "alice on P1 (2 labels)" in warnings[0]
    rows = ["item_id,expert,label,text"] + [
        f"{item},{expert},{label},Text of {item}"
        for item in ("P00", "L1_OK_1", "L2_OTHER")
        for expert, label in (("a", "pos"), ("b", "pos"), ("c", "neg"))
    ]
    labels = gold.parse_panel_csv("\n".join(rows))
    report = gold.propose_gold(ivy, labels)
    assert report.warnings == ()
    with pytest.raises(InvalidInputError) as info:
        gold.gold_item_set_yaml(ivy, report, labels, level="L1", instructions="Pick one.")
    message = str(info.value)
    assert message.startswith("Item ids look like L1_M001_P01: they start with L1_")
    assert "These do not: L2_OTHER, P00." in message
    assert "pattern" not in message
    assert gold.item_id_problem(["L1_OK_1", "L2_OTHER"]) is None


def test_accepting_a_challenge_can_rewrite_the_explanation(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy, amy, item = _challenged(ctx)
    bob = _user(ctx, "bob")
    _practise(ctx, bob, "L1_M001", 0.9, seed=2)
    gold = disputes.gold_value(item)
    rewritten = "The closing sentence reverses the praise before it, so the tone is negative."
    with ctx.session() as s:
        first = disputes.open_dispute(s, amy, catalog, item.id, "The explanation misreads it.")
        with pytest.raises(InvalidInputError, match=r"does not fit the item.*explanation"):
            disputes.accept_dispute(
                s, ivy, catalog, first.id, gold, "Agreed, rewritten.", explanation="Too short."
            )
        with pytest.raises(InvalidInputError, match="under 4000 characters"):
            disputes.accept_dispute(
                s, ivy, catalog, first.id, gold, "Agreed, rewritten.", explanation="x" * 4001
            )
        s.rollback()
        assert s.get(Dispute, first.id).status == "open"
        assert not s.scalars(select(GoldOverride)).all()
        result = disputes.accept_dispute(
            s, ivy, catalog, first.id, gold, "Agreed, rewritten.", explanation=rewritten
        )
    current = ctx.catalog()
    assert current.item(item.id).explanation == rewritten
    assert current.version == result.content_version != catalog.version
    # A later correction that leaves the text as shown keeps the rewrite in force.
    with ctx.session() as s:
        second = disputes.open_dispute(s, bob, current, item.id, "Still not convinced by it.")
        disputes.accept_dispute(
            s, ivy, catalog, second.id, gold, "Confirmed once more.", explanation=rewritten
        )
        stored = s.scalars(select(GoldOverride).order_by(GoldOverride.id)).all()
    assert [row.gold.get("explanation") for row in stored] == [rewritten, None]
    assert ctx.catalog().item(item.id).explanation == rewritten


def test_an_instructor_assigns_remediation_with_a_reason(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    ivy = _user(ctx, "ivy", "instructor", None)
    amy = _user(ctx, "amy")
    pass_every_module(ctx, amy.id, "L1")
    reason = "Her span answers in the team's live queue miss nested entities."
    with ctx.session() as s:
        assert attempts.trainee_overview(s, ivy, catalog, user_id=amy.id).exams["L1"].open
        for modules, why, error in (
            ([], reason, InvalidInputError),
            (["L1_M404"], reason, NotFoundError),
            (["L1_M001"], "too short", InvalidInputError),
        ):
            with pytest.raises(error):
                overrides.assign_remediation(s, ivy, catalog, amy.id, modules, why)
        with pytest.raises(NotAllowedError):
            overrides.assign_remediation(s, amy, catalog, amy.id, ["L1_M001"], reason)
        with pytest.raises(NotFoundError):
            overrides.assign_remediation(s, ivy, catalog, ivy.id, ["L1_M001"], reason)
        assert not s.scalars(select(Remediation)).all()
        overrides.assign_remediation(s, ivy, catalog, amy.id, ["L1_M004", "L1_M004"], reason)
    with ctx.session() as s:
        (row,) = s.scalars(select(Remediation)).all()
        assert row.user_id == amy.id and row.module_ids == ["L1_M004"] and row.reason == reason
        overview = attempts.trainee_overview(s, ivy, catalog, user_id=amy.id)
        assert not overview.exams["L1"].open
        assert overview.modules["L1_M004"].open and not overview.modules["L1_M004"].passed
        assert overview.modules["L1_M001"].passed
        started = s.scalar(select(AuditLog).where(AuditLog.action == "remediation.start"))
        assert started is not None and started.actor == "ivy"
        notices = overrides.notices_for(s, amy)
    assert any("reassigned L1_M004" in n and reason in n for n in notices)
    assert any(n.endswith("entities. Pass them again to reopen your exams.") for n in notices)
    with ctx.session() as s:  # a reason without its full stop still reads as a sentence
        overrides.assign_remediation(s, ivy, catalog, amy.id, ["L1_M005"], "Ratings drift upward")
        latest = overrides.notices_for(s, amy)[0]
    assert latest.endswith(": Ratings drift upward. Pass them again to reopen your exams.")
