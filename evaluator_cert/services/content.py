"""The content in force: the shipped catalog plus corrections accepted since (gold, and the
expert explanation that goes with it)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator_cert.db.models import GoldOverride

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog


def corrections(session: Session) -> tuple[dict[str, Any], dict[str, str]]:
    """(item id -> corrected gold, item id -> corrected explanation), the latest winning.

    A correction that left the explanation as it was does not undo an earlier rewrite of it.
    """
    gold: dict[str, Any] = {}
    explanations: dict[str, str] = {}
    for row in session.scalars(select(GoldOverride).order_by(GoldOverride.id)):
        gold[row.item_id] = row.gold["gold"]
        if row.gold.get("explanation"):
            explanations[row.item_id] = row.gold["explanation"]
    return gold, explanations


def gold_overrides(session: Session) -> dict[str, Any]:
    """item id -> corrected gold, the latest correction winning."""
    return corrections(session)[0]


@lru_cache(maxsize=16)
def _apply(
    base: Catalog, gold: tuple[tuple[str, str], ...], explanations: tuple[tuple[str, str], ...]
) -> Catalog:
    return base.with_gold_overrides(
        {k: json.loads(v) for k, v in gold}, explanations=dict(explanations)
    )


def current_catalog(session: Session, base: Catalog) -> Catalog:
    gold, explanations = corrections(session)
    if not gold:
        return base
    frozen = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in gold.items()))
    return _apply(base, frozen, tuple(sorted(explanations.items())))
