"""Gold from an expert panel: import several experts' labels for a batch, compare majority
vote with the Dawid-Skene estimate, flag contested items, export the proposed gold as an
item-set YAML of classification items."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from evaluator_cert import agreement
from evaluator_cert.content.importers import write_item_set
from evaluator_cert.content.schema import ClassificationItem, ItemSet
from evaluator_cert.dawid_skene import DawidSkeneResult, dawid_skene, majority_shares, panel_data
from evaluator_cert.errors import InvalidInputError
from evaluator_cert.services.actors import Actor, require_role

LOW_POSTERIOR = 0.70  # below this the panel's estimate is too uncertain to be gold
LOW_ITEM_AGREEMENT = 0.60  # share of experts with the proposed label
MAX_ROWS = 200_000
REQUIRED = ("item_id", "expert", "label")


def parse_panel_csv(text: str) -> pd.DataFrame:
    """Rows of ``item_id, expert, label`` (optionally ``text``: the item's material)."""
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in fields]
    if missing:
        raise InvalidInputError(f"The CSV needs the columns {', '.join(REQUIRED)}.")
    rows = []
    for n, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not all(row.get(c) for c in REQUIRED):
            raise InvalidInputError(f"Line {n}: item_id, expert and label must all be filled.")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise InvalidInputError(f"Import at most {MAX_ROWS} labels at a time.")
    if not rows:
        raise InvalidInputError("The CSV has no labels.")
    frame = pd.DataFrame(rows)
    if "text" not in frame:
        frame["text"] = ""
    return frame[["item_id", "expert", "label", "text"]]


@dataclass(frozen=True)
class PanelReport:
    items: pd.DataFrame  # item_id, labels, majority, majority_share, ds_label, ds_posterior,
    #                      agree_share, flagged, why
    experts: pd.DataFrame  # expert, labels, accuracy (Dawid-Skene), agree_with_proposal
    classes: tuple[str, ...]
    alpha: float | None  # Krippendorff's alpha (nominal) over the whole panel
    fleiss: float | None  # Fleiss' kappa, when every item has the same number of labels
    model: DawidSkeneResult


def propose_gold(actor: Actor, labels: pd.DataFrame) -> PanelReport:
    require_role(actor, "instructor", "admin")
    data = panel_data(
        labels["item_id"].tolist(), labels["expert"].tolist(), labels["label"].tolist()
    )
    model = dawid_skene(data)
    shares = majority_shares(data.counts)
    per_item = data.counts.sum(axis=1)  # items x classes
    n_labels = per_item.sum(axis=1)
    ds_idx = model.posterior.argmax(axis=1)
    mv_idx = shares.argmax(axis=1)
    agree = per_item[np.arange(len(ds_idx)), ds_idx] / np.maximum(n_labels, 1)
    posterior = model.confidence
    why = []
    for p, a, m, d in zip(posterior, agree, mv_idx, ds_idx, strict=True):
        reasons = []
        if p < LOW_POSTERIOR:
            reasons.append(f"posterior {p:.2f} < {LOW_POSTERIOR:.2f}")
        if a < LOW_ITEM_AGREEMENT:
            reasons.append(f"only {a:.0%} of experts agree")
        if m != d:
            reasons.append("majority vote and Dawid-Skene differ")
        why.append("; ".join(reasons))
    items = pd.DataFrame(
        {
            "item_id": list(data.items),
            "labels": n_labels.astype(int),
            "majority": [data.classes[i] for i in mv_idx],
            "majority_share": shares.max(axis=1),
            "ds_label": [data.classes[i] for i in ds_idx],
            "ds_posterior": posterior,
            "agree_share": agree,
            "flagged": [bool(w) for w in why],
            "why": why,
        }
    )
    # How often each expert gave the proposed label.
    given = data.counts  # items x experts x classes
    hits = given[np.arange(len(ds_idx)), :, ds_idx].sum(axis=0)
    total = given.sum(axis=(0, 2))
    experts = pd.DataFrame(
        {
            "expert": list(data.experts),
            "labels": total.astype(int),
            "accuracy": model.reliability().to_numpy(),
            "agree_with_proposal": hits / np.maximum(total, 1),
        }
    )
    # Reliability matrix for alpha: experts x items, an expert's first label per item.
    first = labels.drop_duplicates(["item_id", "expert"])
    matrix = first.pivot(index="expert", columns="item_id", values="label")
    try:
        alpha = agreement.krippendorff_alpha(
            matrix.astype(object).where(matrix.notna(), None).to_numpy()
        )
    except ValueError:
        alpha = None
    fleiss = None
    if len(set(n_labels.tolist())) == 1 and n_labels[0] >= 2:
        try:
            fleiss = agreement.fleiss_kappa(per_item)
        except ValueError:
            fleiss = None
    return PanelReport(items, experts, data.classes, alpha, fleiss, model)


def gold_item_set_yaml(
    actor: Actor,
    report: PanelReport,
    labels: pd.DataFrame,
    *,
    level: str,
    instructions: str,
    title: str | None = None,
    use: str = "ds_label",
) -> str:
    """The proposed gold as a calibration item set (classification items), as YAML text.

    Each item's material is the ``text`` column of its rows; flagged items carry a
    ``contested`` note saying why."""
    require_role(actor, "instructor", "admin")
    if use not in ("ds_label", "majority"):
        raise InvalidInputError("Choose Dawid-Skene or majority-vote gold.")
    texts: Mapping[str, str] = (
        labels[labels["text"] != ""].drop_duplicates("item_id").set_index("item_id")["text"]
    ).to_dict()
    built = []
    for row in report.items.itertuples(index=False):
        material = texts.get(row.item_id, "")
        if not material:
            raise InvalidInputError(f"{row.item_id} has no text: add a text column to the CSV.")
        gold = getattr(row, use)
        explanation = (
            f"Gold from a panel of {row.labels} expert labels: {row.agree_share:.0%} chose "
            f"{gold}; Dawid-Skene posterior {row.ds_posterior:.2f}."
        )
        try:
            built.append(
                ClassificationItem(
                    id=row.item_id,
                    type="classification",
                    instructions=instructions,
                    text=material,
                    labels=report.classes,
                    gold=gold,
                    explanation=explanation,
                    contested=row.why or None,
                )
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInputError(f"{row.item_id}: {where} {first['msg']}") from exc
    try:
        item_set = ItemSet(kind="calibration", level=level, title=title, items=tuple(built))
    except ValidationError as exc:
        raise InvalidInputError(f"The item set is not valid: {exc.errors()[0]['msg']}") from exc
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gold.yaml"
        write_item_set(item_set, path)
        return path.read_text(encoding="utf-8")
