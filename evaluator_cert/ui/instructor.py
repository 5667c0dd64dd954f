"""Pieces the instructor pages share: filterable, sortable, downloadable tables, a page
pager, and a gold editor suited to each task type."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from evaluator_cert.content.schema import (
    VERDICTS,
    ClassificationItem,
    FactCheckItem,
    Item,
    JustificationItem,
    PairwiseItem,
    RubricRatingItem,
)

PAGE_SIZE = 50


def table(
    frame: pd.DataFrame,
    key: str,
    *,
    filters: tuple[str, ...] = (),
    file_name: str = "table.csv",
    page_size: int | None = None,
    column_config: dict[str, Any] | None = None,
    no_match: str = "No row matches these filters.",
) -> pd.DataFrame:
    """Show ``frame`` with a text search, a multiselect per column in ``filters``, column
    sorting (click a header), optional pages and a CSV download of the filtered rows;
    ``no_match`` instead of an empty grid when the filters leave nothing.
    Returns the filtered frame."""
    shown = frame
    cols = st.columns([2] + [1] * len(filters)) if filters else [st.container()]
    query = cols[0].text_input(
        "Search", key=f"{key}_search", placeholder="Filter rows…", max_chars=200
    )
    if query:
        text = shown.astype(str).apply(lambda c: c.str.contains(query, case=False, regex=False))
        shown = shown[text.any(axis=1)]
    for col, name in zip(cols[1:], filters, strict=True):
        options = sorted(str(v) for v in frame[name].dropna().unique())
        picked = col.multiselect(name.replace("_", " "), options, key=f"{key}_{name}")
        if picked:
            shown = shown[shown[name].astype(str).isin(picked)]
    if shown.empty and not frame.empty:
        st.info(no_match, icon=":material/filter_alt_off:")
        return shown
    page_rows = shown
    if page_size and len(shown) > page_size:
        pages = (len(shown) + page_size - 1) // page_size
        page = st.number_input(
            f"Page (of {pages})", min_value=1, max_value=pages, value=1, key=f"{key}_page"
        )
        start = (int(page) - 1) * page_size
        page_rows = shown.iloc[start : start + page_size]
    st.dataframe(page_rows, hide_index=True, key=f"{key}_df", column_config=column_config)
    st.download_button(
        "Download CSV",
        shown.to_csv(index=False).encode("utf-8"),
        file_name=file_name,
        mime="text/csv",
        key=f"{key}_csv",
        icon=":material/download:",
    )
    return shown


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 answer``, ``2 answers`` (``nouns`` for irregular plurals)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def gold_editor(item: Item, key: str) -> Any:
    """A widget for corrected gold in the item's own shape; JSON for the other task types."""
    match item:
        case ClassificationItem():
            labels = list(item.labels)
            return st.selectbox("Corrected gold label", labels, key=key)
        case PairwiseItem():
            return st.radio("Corrected gold", item.choices, key=key, horizontal=True)
        case JustificationItem():
            return st.selectbox("Corrected gold choice", list(item.choices), key=key)
        case RubricRatingItem():
            return {
                dim: int(
                    st.slider(
                        f"Gold for {dim}",
                        item.scale_min,
                        item.scale_max,
                        item.gold[dim],
                        key=f"{key}_{dim}",
                    )
                )
                for dim in item.dimensions
            }
        case FactCheckItem():
            return {
                c.id: st.selectbox(
                    f"Verdict for {c.id}: {c.text}",
                    list(VERDICTS),
                    index=list(VERDICTS).index(c.gold),
                    key=f"{key}_{c.id}",
                )
                for c in item.claims
            }
    current = json.dumps(item.model_dump(mode="json")["gold"], ensure_ascii=False)
    raw = st.text_area(
        "Corrected gold (JSON, in the item's gold shape)", current, key=key, max_chars=20_000
    )
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        st.error("That is not valid JSON.")
        return None
