"""The dashboards' figure builders: axes, labels and colours a reader relies on."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from evaluator_cert.ui import figures

THRESHOLD = 0.7


def _timeline() -> pd.DataFrame:
    # Two bursts two days apart, as practice sessions come.
    at = pd.to_datetime(
        [
            "2026-11-24T20:34Z",
            "2026-11-24T20:45Z",
            "2026-11-26T20:56Z",
            "2026-11-26T21:05Z",
        ]
    )
    return pd.DataFrame(
        {
            "at": at,
            "items": [20, 25, 30, 35],
            "agreement": [0.87, 0.87, 0.9, 0.93],
            "low": [0.77, 0.76, None, None],
            "high": [0.98, 0.99, None, None],
        }
    )


def _line(fig: go.Figure) -> go.Scatter:
    return next(t for t in fig.data if t.mode == "lines+markers")


def test_timeline_plots_against_the_answer_number_with_the_date_in_the_hover() -> None:
    fig = figures.agreement_timeline(_timeline(), THRESHOLD)
    line = _line(fig)
    assert list(line.x) == [20, 25, 30, 35]
    assert fig.layout.xaxis.title.text == "graded answers"
    assert "24 Nov 2026" in line.customdata[0]
    assert "26 Nov 2026" in line.customdata[-1]
    assert line.customdata[0].startswith("answers 1–20")
    # The band follows the same axis and stops where the interval does.
    band = [t for t in fig.data if t is not line]
    assert [list(t.x) for t in band] == [[20, 25], [20, 25]]


def test_timeline_keeps_the_bar_and_puts_the_legend_above_the_plot() -> None:
    fig = figures.agreement_timeline(_timeline(), THRESHOLD)
    lines = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert [(s.y0, s.y1) for s in lines] == [(THRESHOLD, THRESHOLD)]
    assert any(a.text == "0.70 bar" for a in fig.layout.annotations)
    legend = fig.layout.legend
    assert legend.orientation == "h"
    assert legend.yanchor == "bottom" and legend.y > 1
    assert legend.xanchor == "right"


def test_confusion_shows_every_label_and_the_counts_without_a_colour_bar() -> None:
    labels = [f"label_{i:02d}" for i in range(14)]
    counts = pd.DataFrame(0, index=labels, columns=[*labels, "extra"])
    for i, label in enumerate(labels):
        counts.loc[label, label] = i + 1
    counts.loc["label_03", "extra"] = 2
    fig = figures.confusion_heatmap(counts)
    heat = fig.data[0]
    assert list(fig.layout.xaxis.tickvals) == [*labels, "extra"]
    assert list(fig.layout.yaxis.tickvals) == labels
    assert fig.layout.xaxis.title.text == "your label"
    assert fig.layout.yaxis.title.text == "gold"
    assert heat.showscale is False
    assert heat.text[3][3] == "4" and heat.text[3][-1] == "2"
    assert heat.text[0][1] == ""  # zeros blank
    # Taller with more labels, so rows keep a readable height.
    assert fig.layout.height > figures.confusion_heatmap(counts.iloc[:3, :3]).layout.height


def test_dimension_bars_put_task_types_and_rubric_dimensions_in_separate_panels() -> None:
    dims = pd.DataFrame(
        {
            "dimension": ["classification", "span", "safety", "clarity"],
            "kind": ["task type", "task type", "rubric dimension", "rubric dimension"],
            "agreement": [0.5, 0.9, 0.95, 0.65],
            "items": [10, 12, None, None],
        }
    )
    # Given rubric rows first: the panels still follow KIND_ORDER.
    fig = figures.threshold_bars(
        dims.iloc[::-1],
        "agreement",
        "dimension",
        THRESHOLD,
        group="kind",
        group_order=figures.KIND_ORDER,
    )
    titles = [a.text for a in fig.layout.annotations if a.text in figures.KIND_ORDER]
    assert titles == list(figures.KIND_ORDER)
    by_panel = {tuple(t.y): list(t.marker.color) for t in fig.data}
    assert by_panel == {
        ("span", "classification"): [figures.PASS_COLOUR, figures.FAIL_COLOUR],
        ("clarity", "safety"): [figures.FAIL_COLOUR, figures.PASS_COLOUR],
    }
    assert fig.data[0].yaxis != fig.data[1].yaxis
    # The dashed bar on every panel.
    dashed = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert len(dashed) == 2 and {s.x0 for s in dashed} == {THRESHOLD}


def test_threshold_bars_without_groups_colour_by_the_bar() -> None:
    modules = pd.DataFrame({"module": ["M1", "M2"], "agreement": [0.69, 0.7]})
    fig = figures.threshold_bars(modules, "agreement", "module", THRESHOLD)
    assert len(fig.data) == 1
    assert list(fig.data[0].marker.color) == [figures.FAIL_COLOUR, figures.PASS_COLOUR]


def _cohort(kappas: list[float], statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"rolling_kappa": kappas, "status": statuses})


def test_status_histogram_has_fixed_colours_in_a_fixed_order() -> None:
    frame = _cohort(
        [0.95, 0.9, 0.72, 0.4, 0.99, None],
        ["certified", "on track", "at risk", "remediation", "on track", "on track"],
    )
    fig = figures.status_histogram(frame, "rolling_kappa", THRESHOLD, "kappa")
    assert [t.name for t in fig.data] == ["remediation", "at risk", "on track", "certified"]
    assert {t.name: t.marker.color for t in fig.data} == {
        "remediation": figures.FAIL_COLOUR,
        "at risk": figures.WARN_COLOUR,
        "on track": figures.PASS_COLOUR,
        "certified": figures.DONE_COLOUR,
    }
    assert figures.STATUS_COLOURS["no data"] == figures.NO_DATA_COLOUR
    assert fig.layout.barmode == "stack"


def test_status_histogram_counts_whole_trainees() -> None:
    few = figures.status_histogram(
        _cohort([0.8, 0.81, 0.9], ["on track"] * 3), "rolling_kappa", THRESHOLD, "kappa"
    )
    assert few.layout.yaxis.dtick == 1
    many = figures.status_histogram(
        _cohort([0.8] * 40, ["on track"] * 40), "rolling_kappa", THRESHOLD, "kappa"
    )
    assert many.layout.yaxis.dtick is None
    assert many.layout.yaxis.tickformat == "d"
    assert list(many.data[0].y) == [40]


def test_status_histogram_bins_split_at_the_bar_and_end_at_one() -> None:
    frame = _cohort([0.7, 0.6999, 1.0, 0.97], ["at risk", "at risk", "on track", "on track"])
    fig = figures.status_histogram(frame, "rolling_kappa", THRESHOLD, "kappa")
    at_risk, on_track = fig.data
    # Centres: [0.65, 0.70) and [0.70, 0.75) for the two at-risk trainees, one bin each.
    assert sorted(round(x, 3) for x in at_risk.x) == [0.675, 0.725]
    # A perfect 1.0 shares the last bin below 1 with 0.97.
    assert [round(x, 3) for x in on_track.x] == [0.975] and list(on_track.y) == [2]
