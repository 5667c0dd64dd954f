"""The content in force: the shipped catalog plus gold corrections accepted since."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator_cert.db.models import GoldOverride

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog


def gold_overrides(session: Session) -> dict[str, Any]:
    """item id -> corrected gold, the latest correction winning."""
    rows = session.scalars(select(GoldOverride).order_by(GoldOverride.id)).all()
    return {row.item_id: row.gold["gold"] for row in rows}


@lru_cache(maxsize=16)
def _apply(base: Catalog, frozen: tuple[tuple[str, str], ...]) -> Catalog:
    import json

    return base.with_gold_overrides({k: json.loads(v) for k, v in frozen})


def current_catalog(session: Session, base: Catalog) -> Catalog:
    overrides = gold_overrides(session)
    if not overrides:
        return base
    import json

    frozen = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in overrides.items()))
    return _apply(base, frozen)
