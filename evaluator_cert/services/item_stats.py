"""Item analytics over practice answers: difficulty (share agreeing with gold), discrimination
(point-biserial of the item against the attempt's overall score) and exposure; items that
strong trainees mostly miss are flagged as possible gold errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from evaluator_cert.db.models import Annotation, Attempt, Grade
from evaluator_cert.services.actors import Actor, require_role
from evaluator_cert.services.attempts import DUPLICATE_SUFFIX

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog

STRONG_MISS = 0.5  # strong trainees agree with gold less often than this: suspicious
MIN_STRONG = 3  # strong trainees' answers needed before flagging
COLUMNS = [
    "item",
    "type",
    "module",
    "exposure",
    "p_value",
    "mean_score",
    "discrimination",
    "strong_answers",
    "strong_p_value",
    "possible_gold_error",
]


def _answers(session: Session, kind: str) -> pd.DataFrame:
    """One row per graded answer, with its attempt's and its trainee's mean score (SQL
    window functions on both backends)."""
    correct = case((Grade.correct.is_(True), 1.0), else_=0.0)
    query = (
        select(
            Annotation.item_id,
            Annotation.user_id,
            Grade.score,
            correct.label("correct"),
            func.avg(Grade.score).over(partition_by=Annotation.attempt_id).label("attempt_score"),
            func.count().over(partition_by=Annotation.attempt_id).label("attempt_items"),
            func.avg(Grade.score).over(partition_by=Annotation.user_id).label("user_score"),
        )
        .join(Grade, Grade.annotation_id == Annotation.id)
        .join(Attempt, Attempt.id == Annotation.attempt_id)
        .where(Attempt.kind == kind, Annotation.item_id.not_like(f"%{DUPLICATE_SUFFIX}"))
    )
    return pd.DataFrame(
        session.execute(query).all(),
        columns=[
            "item",
            "user_id",
            "score",
            "correct",
            "attempt_score",
            "attempt_items",
            "user_score",
        ],
    )


def _point_biserial(frame: pd.DataFrame) -> pd.Series:
    """Per item: Pearson r of item correctness (0/1) with the rest-of-attempt score.

    The item's own score is taken out of the attempt mean so it does not correlate with
    itself."""
    n = frame["attempt_items"].astype(float)
    rest = np.where(
        n > 1, (frame["attempt_score"] * n - frame["score"]) / np.maximum(n - 1, 1), np.nan
    )
    data = pd.DataFrame({"item": frame["item"], "x": frame["correct"].astype(float), "y": rest})
    data = data.dropna()
    g = data.groupby("item")
    mx, my = g["x"].transform("mean"), g["y"].transform("mean")
    data["xy"] = (data["x"] - mx) * (data["y"] - my)
    data["xx"] = (data["x"] - mx) ** 2
    data["yy"] = (data["y"] - my) ** 2
    sums = data.groupby("item")[["xy", "xx", "yy"]].sum()
    denom = np.sqrt(sums["xx"] * sums["yy"])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(denom > 0, sums["xy"] / denom, np.nan)
    return pd.Series(r, index=sums.index, name="discrimination")


def item_frame(
    session: Session, actor: Actor, catalog: Catalog, *, kind: str = "practice"
) -> pd.DataFrame:
    require_role(actor, "instructor", "admin")
    answers = _answers(session, kind)
    if answers.empty:
        return pd.DataFrame(columns=COLUMNS)
    answers = answers[answers["item"].map(catalog.has_item)]
    by_item = answers.groupby("item").agg(
        exposure=("score", "size"), p_value=("correct", "mean"), mean_score=("score", "mean")
    )
    by_item["discrimination"] = _point_biserial(answers)
    # Strong trainees: the top third by mean practice score.
    users = answers.drop_duplicates("user_id").set_index("user_id")["user_score"]
    cut = users.quantile(2 / 3) if len(users) >= 3 else np.inf
    strong = answers[answers["user_id"].isin(users[users >= cut].index)]
    strong_stats = strong.groupby("item")["correct"].agg(["size", "mean"])
    by_item["strong_answers"] = strong_stats["size"].reindex(by_item.index).fillna(0).astype(int)
    by_item["strong_p_value"] = strong_stats["mean"].reindex(by_item.index)
    by_item["possible_gold_error"] = (by_item["strong_answers"] >= MIN_STRONG) & (
        by_item["strong_p_value"] < STRONG_MISS
    )
    by_item = by_item.reset_index()
    by_item["type"] = by_item["item"].map(lambda i: catalog.item(i).type)
    by_item["module"] = by_item["item"].map(
        lambda i: catalog.item_origin(i).module or catalog.item_origin(i).level
    )
    return (
        by_item[COLUMNS]
        .sort_values(["possible_gold_error", "p_value"], ascending=[False, True])
        .reset_index(drop=True)
    )
