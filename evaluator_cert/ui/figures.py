"""Plotly figure builders shared by the dashboards."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

PASS_COLOUR = "#2f9e44"
FAIL_COLOUR = "#e03131"
BAND = "rgba(59, 91, 219, 0.15)"


def agreement_timeline(timeline: pd.DataFrame, threshold: float) -> go.Figure:
    """Agreement over time with its 95% band and the pass line."""
    fig = go.Figure()
    band = timeline.dropna(subset=["low", "high"])
    if not band.empty:
        fig.add_trace(
            go.Scatter(
                x=band["at"],
                y=band["high"],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=band["at"],
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
            x=timeline["at"],
            y=timeline["agreement"],
            mode="lines+markers",
            name="agreement",
            line={"color": "#3b5bdb"},
            customdata=timeline["items"],
            hovertemplate="%{y:.2f} after %{customdata} items<extra></extra>",
        )
    )
    fig.add_hline(
        y=threshold,
        line_dash="dash",
        line_color=FAIL_COLOUR,
        annotation_text=f"{threshold:.2f} bar",
        annotation_position="bottom right",
    )
    fig.update_layout(
        yaxis={
            "range": [min(-0.1, float(timeline["agreement"].min() or 0) - 0.05), 1.02],
            "title": "agreement",
        },
        height=320,
        margin={"t": 20, "b": 20},
        legend={"orientation": "h"},
    )
    if timeline["at"].nunique() == 1:
        # A single point would get an axis of milliseconds; show the day around it instead.
        at = pd.Timestamp(timeline["at"].iloc[0])
        fig.update_xaxes(range=[at - pd.Timedelta(hours=12), at + pd.Timedelta(hours=12)])
    return fig


def threshold_bars(
    frame: pd.DataFrame, x: str, y: str, threshold: float | None = None, color: str | None = None
) -> go.Figure:
    """Horizontal bars with an optional pass line."""
    data = frame.copy()
    data[x] = data[x].astype(float)
    if color is None:
        data["status"] = [
            "at or above" if threshold is None or v >= threshold else "below"
            for v in data[x].fillna(-1)
        ]
        color = "status"
    fig = px.bar(
        data,
        x=x,
        y=y,
        orientation="h",
        color=color,
        color_discrete_map={"at or above": PASS_COLOUR, "below": FAIL_COLOUR},
    )
    if threshold is not None:
        fig.add_vline(x=threshold, line_dash="dash")
    fig.update_layout(
        height=80 + 32 * len(data),
        margin={"t": 20, "b": 20},
        showlegend=False,
        xaxis={"range": [min(-0.2, float(data[x].min() if data[x].notna().any() else 0)), 1.0]},
    )
    return fig


def confusion_heatmap(confusion: pd.DataFrame) -> go.Figure:
    fig = px.imshow(
        confusion,
        text_auto=True,
        color_continuous_scale="Blues",
        labels={"x": "your label", "y": "gold label", "color": "answers"},
    )
    fig.update_layout(height=120 + 36 * len(confusion), margin={"t": 20, "b": 20})
    return fig


def distribution(values: pd.Series, threshold: float, title: str) -> go.Figure:
    fig = px.histogram(values.dropna(), nbins=20, labels={"value": title})
    fig.add_vline(x=threshold, line_dash="dash", line_color=FAIL_COLOUR)
    fig.update_layout(
        height=280, showlegend=False, margin={"t": 20, "b": 20}, yaxis_title="trainees"
    )
    return fig
