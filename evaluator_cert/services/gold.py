"""Gold from an expert panel: import several experts' labels for a batch, compare majority
vote with the Dawid-Skene estimate, flag contested items, export the proposed gold as an
item-set YAML of classification items."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from evaluator_cert import agreement
from evaluator_cert.content.importers import write_item_set
from evaluator_cert.content.schema import ITEM_ID, ClassificationItem, ItemSet
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
    warnings: tuple[str, ...] = ()  # what makes the proposal weaker than it looks


def _listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def item_id_problem(item_ids: list[str], level: str | None = None) -> str | None:
    """Why these ids cannot become catalog items (``level``: the set they would join), or
    None when they all can."""
    prefix = f"{level}_" if level else None
    bad = [
        i
        for i in dict.fromkeys(item_ids)
        if not re.fullmatch(ITEM_ID, i) or (prefix and not i.startswith(prefix))
    ]
    if not bad:
        return None
    example = f"{level or 'L1'}_M001_P01"
    rule = f"start with {prefix} (the set's level)" if prefix else "start with L1_, L2_ or L3_"
    return (
        f"Item ids look like {example}: they {rule}, followed by capital letters, digits or "
        f"underscores. These do not: {_listed(bad)}. Rename them in the CSV."
    )


def panel_warnings(labels: pd.DataFrame) -> tuple[str, ...]:
    """A panel of one, and experts who labelled an item twice, in words."""
    warnings = []
    experts = sorted(labels["expert"].unique())
    if len(experts) == 1:
        warnings.append(
            f"Only one expert ({experts[0]}) is in this panel: there is no agreement to "
            "measure, and the proposed gold is just their labels."
        )
    twice = labels.groupby(["expert", "item_id"]).size()
    twice = twice[twice > 1]
    if len(twice):
        pairs = [f"{expert} on {item} ({n} labels)" for (expert, item), n in twice.items()]
        warnings.append(
            f"An expert labelled the same item more than once: {_listed(pairs)}. Each label "
            "counts as a vote in the majority and Dawid-Skene; Krippendorff's alpha uses the "
            "first. Check the CSV for copied rows."
        )
    return tuple(warnings)


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
    return PanelReport(items, experts, data.classes, alpha, fleiss, model, panel_warnings(labels))


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
    # Checked before any item is built: the schema's own message quotes a regular expression.
    problem = item_id_problem(report.items["item_id"].tolist(), level)
    if problem:
        raise InvalidInputError(problem)
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
