"""An accepted dispute stores corrected gold of any shape (spans, claims...) as plain JSON."""

from __future__ import annotations

import random

from evaluator_cert.content.schema import SpanItem
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import accounts, attempts, disputes
from evaluator_cert.services.actors import Actor
from evaluator_cert.services.content import gold_overrides
from evaluator_cert.simulation import simulated_answer


def test_accepting_a_span_dispute_stores_json_gold(ctx: AppContext) -> None:
    catalog = ctx.base_catalog
    with ctx.session() as s:
        trainee = Actor.of(
            accounts.create_user(s, ctx.settings, username="tina", password="pass-word-123")
        )
        boss = Actor.of(
            accounts.create_user(
                s, ctx.settings, username="ivy", password="pass-word-123", role="instructor"
            )
        )
    module_id = catalog.modules_of("L1")[0].id
    item = next(i for i in catalog.practice_items(module_id) if isinstance(i, SpanItem) and i.gold)
    with ctx.session() as s:
        attempt_id = attempts.start_practice(s, trainee, catalog, module_id)
        attempts.record_answer(
            s,
            trainee,
            catalog,
            attempt_id,
            item.id,
            simulated_answer(item, 1.0, random.Random(0)),
        )
        dispute = disputes.open_dispute(
            s, trainee, catalog, item.id, "The last span should be a location, not an org."
        )
        corrected = item.gold[:-1]  # schema objects, as the instructor's editor produces them
        disputes.accept_dispute(s, boss, catalog, dispute.id, corrected, "Agreed, corrected.")
        stored = gold_overrides(s)[item.id]
    assert stored == [g.model_dump() for g in corrected]
    assert ctx.catalog().item(item.id).gold == corrected
