"""Small pieces the trainee pages share."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from evaluator_cert import grading
from evaluator_cert.progression import Gate


def gate_badge(gate: Gate) -> str:
    if gate.passed:
        return ":green-badge[:material/check: passed]"
    if gate.open:
        return ":blue-badge[:material/lock_open: open]"
    return ":gray-badge[:material/lock: locked]"


def remediation_banner(modules: frozenset[str] | None) -> None:
    if modules:
        st.warning(
            "You are in remediation: your recent agreement fell below the bar. Practise "
            f"{', '.join(sorted(modules))} again; exams reopen when they are passed.",
            icon=":material/school:",
        )


def time_left(deadline: datetime, now: datetime) -> str:
    seconds = max(0, int((deadline - now).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s"


def measures_text(dimensions: pd.DataFrame) -> str:
    """One line naming each task type's own measures, e.g. "ranking: mean Kendall tau-b
    0.62"; empty when none of the task types has any."""
    parts = []
    for row in dimensions.itertuples():
        shown = [
            f"{grading.TYPE_MEASURES[k]} {v:.2f}"
            for k, v in (row.measures or {}).items()
            if v is not None
        ]
        if shown:
            parts.append(f"{row.dimension}: {', '.join(shown)}")
    return " · ".join(parts)
