"""Plotly figure builders shared by the dashboards."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluator_cert.services.trainee_stats import TIMELINE_WINDOW

# One palette for every chart, matching the exam page's verdict colours.
PASS_COLOUR = "#2e7d32"
WARN_COLOUR = "#ef8f00"
FAIL_COLOUR = "#c62828"
DONE_COLOUR = "#1565c0"
NO_DATA_COLOUR = "#9e9e9e"
LINE_COLOUR = "#3b5bdb"
BAND = "rgba(59, 91, 219, 0.15)"
THRESHOLD_COLOUR = "#424242"

ABOVE, BELOW = "at or above the bar", "below the bar"
VERDICT_COLOURS = {ABOVE: PASS_COLOUR, BELOW: FAIL_COLOUR}

# Cohort statuses (services/cohort.py), worst first; "no data" is not a status the service
# gives today but keeps its grey if one appears.
STATUS_COLOURS = {
    "remediation": FAIL_COLOUR,
    "at risk": WARN_COLOUR,
    "on track": PASS_COLOUR,
    "certified": DONE_COLOUR,
    "no data": NO_DATA_COLOUR,
}
STATUS_ORDER = tuple(STATUS_COLOURS)

# Dimension kinds from trainee_stats, in the order they are shown.
KIND_ORDER = ("task type", "rubric dimension")

KAPPA_BIN = 0.05  # bin width of the cohort histogram
SMALL_COUNT = 10  # up to this many per bar, tick every trainee


def _threshold_line(fig: go.Figure, threshold: float, *, vertical: bool) -> None:
    style = {"line_dash": "dash", "line_color": THRESHOLD_COLOUR, "line_width": 1.5}
    label = {"annotation_text": f"{threshold:.2f} bar", "annotation_font_color": THRESHOLD_COLOUR}
    if vertical:
        fig.add_vline(x=threshold, **style, **label, annotation_position="top")
    else:
        fig.add_hline(y=threshold, **style, **label, annotation_position="bottom right")


def agreement_timeline(timeline: pd.DataFrame, threshold: float) -> go.Figure:
    """Agreement against the trainee's answer number, with its 95% band and the pass line.

    Answers come in sessions minutes long with days between them: on a time axis the points
    clump, so the x axis counts graded answers and the date goes in the hover text."""
    data = timeline.sort_values("items")
    x = data["items"].astype(int)
    # Each point covers the window of answers ending at it.
    hover = [
        f"answers {max(1, end - TIMELINE_WINDOW + 1)}–{end}<br>{pd.Timestamp(at):%d %b %Y, %H:%M}"
        for end, at in zip(x, data["at"], strict=True)
    ]
    fig = go.Figure()
    band = data.dropna(subset=["low", "high"])
    if not band.empty:
        fig.add_trace(
            go.Scatter(
                x=band["items"],
                y=band["high"],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=band["items"],
                y=band["low"],
                mode="lines",
                fill="tonexty",
                fillcolor=BAND,
                line={"width": 0},
                name="95% interval",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=data["agreement"],
            mode="lines+markers",
            name=f"agreement over {TIMELINE_WINDOW} answers",
            line={"color": LINE_COLOUR},
            customdata=hover,
            hovertemplate="%{y:.2f} over %{customdata}<extra></extra>",
        )
    )
    _threshold_line(fig, threshold, vertical=False)
    lowest = data["agreement"].min()
    pad = 2.5
    fig.update_layout(
        yaxis={
            "range": [min(-0.1, float(0 if pd.isna(lowest) else lowest) - 0.05), 1.02],
            "title": "agreement",
        },
        xaxis={
            "title": "graded answers",
            "range": [float(x.min()) - pad, float(x.max()) + pad],
            "tickformat": "d",
        },
        height=340,
        margin={"t": 40, "b": 20},
        # Above the plot area, right-aligned: clear of the axis labels and the data.
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
    )
    return fig


def _verdicts(values: pd.Series, threshold: float | None) -> list[str]:
    return [ABOVE if threshold is None or v >= threshold else BELOW for v in values.fillna(-1)]


def _bar_hover(frame: pd.DataFrame, x: str) -> list[str]:
    items = frame["items"] if "items" in frame else pd.Series([None] * len(frame))
    out = []
    for value, n in zip(frame[x], items, strict=True):
        text = "n/a" if pd.isna(value) else f"{value:.2f}"
        if n is not None and not pd.isna(n):
            text += f" over {int(n)} items"
        out.append(text)
    return out


def threshold_bars(
    frame: pd.DataFrame,
    x: str,
    y: str,
    threshold: float | None = None,
    group: str | None = None,
    group_order: Sequence[str] = (),
) -> go.Figure:
    """Horizontal bars with an optional pass line; bars below it are red, others green.

    ``group``: a column whose values get a panel each, titled with the value, so unlike
    things (task types, rubric dimensions) do not share one axis."""
    data = frame.copy()
    data[x] = data[x].astype(float)
    if group is None:
        groups: list[str | None] = [None]
        parts = [data]
    else:
        present = list(dict.fromkeys(data[group]))
        groups = [g for g in group_order if g in present]
        groups += [g for g in present if g not in group_order]
        parts = [data[data[group] == g] for g in groups]
    sizes = [len(p) for p in parts]
    gap = 50  # pixels between panels: room for the next panel's title
    height = 100 + 32 * len(data) + gap * (len(groups) - 1)
    fig = make_subplots(
        rows=len(groups),
        cols=1,
        shared_xaxes=True,
        row_heights=[s / sum(sizes) for s in sizes] if sum(sizes) else None,
        vertical_spacing=gap / (height - 60) if len(groups) > 1 else 0,
        subplot_titles=groups if group is not None else None,
    )
    for row, (name, part) in enumerate(zip(groups, parts, strict=True), start=1):
        fig.add_trace(
            go.Bar(
                x=part[x],
                y=part[y],
                orientation="h",
                marker_color=[VERDICT_COLOURS[v] for v in _verdicts(part[x], threshold)],
                customdata=_bar_hover(part, x),
                hovertemplate="%{y}: %{customdata}<extra>" + (name or "") + "</extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(autorange="reversed", row=row, col=1)
        if threshold is not None:
            label = (
                {
                    "annotation_text": f"{threshold:.2f} bar",
                    "annotation_position": "top",
                    "annotation_font_color": THRESHOLD_COLOUR,
                }
                if row == 1
                else {}
            )
            fig.add_vline(
                x=threshold,
                line_dash="dash",
                line_color=THRESHOLD_COLOUR,
                line_width=1.5,
                row=row,
                col=1,
                **label,
            )
    if group is not None:
        # Panel titles flush left above their bars, clear of the centred threshold label.
        for annotation in fig.layout.annotations[: len(groups)]:
            annotation.update(x=0, xanchor="left", font={"size": 13})
    low = min(-0.2, float(data[x].min()) if data[x].notna().any() else 0.0)
    fig.update_xaxes(range=[low, 1.02], dtick=0.25)
    fig.update_xaxes(title_text=x, row=len(groups), col=1)
    fig.update_yaxes(title_text=y if group is None else None)
    fig.update_layout(
        height=height,
        margin={"t": 40, "b": 20},
        showlegend=False,
        bargap=0.25,
    )
    return fig


def confusion_heatmap(confusion: pd.DataFrame) -> go.Figure:
    """Counts of (gold, your label): every label on both axes, the count in its cell."""
    columns = [str(c) for c in confusion.columns]
    rows = [str(r) for r in confusion.index]
    counts = confusion.to_numpy()
    # Zeros left blank: the few off-diagonal mistakes stand out from an empty background.
    text = [[str(int(v)) if v else "" for v in row] for row in counts]
    fig = go.Figure(
        go.Heatmap(
            z=counts,
            x=columns,
            y=rows,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11 if len(columns) <= 15 else 9},
            colorscale="Blues",
            zmin=0,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="gold: %{y}<br>your label: %{x}<br>answers: %{z}<extra></extra>",
        )
    )
    fig.update_xaxes(
        title_text="your label",
        tickmode="array",
        tickvals=columns,
        ticktext=columns,
        tickangle=-90,
        side="bottom",
        showgrid=False,
    )
    fig.update_yaxes(
        title_text="gold",
        tickmode="array",
        tickvals=rows,
        ticktext=rows,
        autorange="reversed",
        showgrid=False,
    )
    longest = max((len(c) for c in columns), default=0)
    fig.update_layout(
        # Rows at a readable height; the upright column labels need room below.
        height=80 + 24 * len(rows) + int(7 * longest),
        margin={"t": 10, "b": 10, "l": 10, "r": 10},
        plot_bgcolor="white",
    )
    return fig


def _kappa_bins(values: pd.Series, threshold: float) -> pd.Series:
    """Left edge of each value's bin, [left, left + width), with an edge on the threshold so
    every bar is wholly below or at/above it."""
    # Rounded first so a value on an edge (the threshold itself) lands in the bin it opens.
    steps = ((values - threshold) / KAPPA_BIN).round(9).apply(math.floor)
    left = threshold + steps * KAPPA_BIN
    # A perfect 1.0 joins the bin below it rather than opening one past the end of the scale.
    left = left.where(left < 1.0 - 1e-9, left - KAPPA_BIN)
    return left.round(6) + 0.0  # + 0.0: no "-0.00" in the hover text


def status_histogram(
    frame: pd.DataFrame, x: str, threshold: float, x_title: str, status: str = "status"
) -> go.Figure:
    """Trainees per bin of ``x``, stacked by status in fixed colours and order."""
    data = frame.dropna(subset=[x]).copy()
    data["bin"] = _kappa_bins(data[x].astype(float), threshold)
    counts = data.groupby(["bin", status]).size().unstack(fill_value=0)
    known = [s for s in STATUS_ORDER if s in counts.columns]
    order = known + sorted(s for s in counts.columns if s not in STATUS_ORDER)
    fig = go.Figure()
    for name in order:
        column = counts[name]
        column = column[column > 0]
        fig.add_trace(
            go.Bar(
                x=column.index + KAPPA_BIN / 2,
                y=column.to_numpy(),
                width=KAPPA_BIN,
                name=name,
                marker={
                    "color": STATUS_COLOURS.get(name, NO_DATA_COLOUR),
                    "line": {"color": "white", "width": 1},
                },
                customdata=[f"{b:.2f}–{b + KAPPA_BIN:.2f}" for b in column.index],
                hovertemplate="%{customdata}: %{y} " + name + "<extra></extra>",
            )
        )
    _threshold_line(fig, threshold, vertical=True)
    tallest = int(counts.sum(axis=1).max()) if not counts.empty else 0
    yaxis: dict[str, object] = {"title": "trainees", "rangemode": "tozero", "tickformat": "d"}
    if tallest <= SMALL_COUNT:
        yaxis["dtick"] = 1
    low = min(float(data["bin"].min()), threshold) if not data.empty else threshold
    high = max(float(data["bin"].max()) + KAPPA_BIN, 1.0) if not data.empty else 1.0
    fig.update_layout(
        barmode="stack",
        bargap=0,
        height=300,
        margin={"t": 30, "b": 20},
        xaxis={"title": x_title, "range": [low - KAPPA_BIN, high + KAPPA_BIN / 2]},
        yaxis=yaxis,
        legend={"title": {"text": "status"}, "traceorder": "normal"},
    )
    return fig


def distribution(values: pd.Series, threshold: float, title: str) -> go.Figure:
    fig = px.histogram(
        values.dropna(), nbins=20, labels={"value": title}, color_discrete_sequence=[LINE_COLOUR]
    )
    _threshold_line(fig, threshold, vertical=True)
    fig.update_layout(
        height=280,
        showlegend=False,
        margin={"t": 30, "b": 20},
        yaxis={"title": "trainees", "tickformat": "d", "rangemode": "tozero"},
    )
    return fig
