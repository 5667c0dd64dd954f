"""Rolling agreement per trainee: unweighted pooled kappa over the decisions of the last
``window`` graded practice answers with its analytic 95% interval, and the kappa of the
``window`` answers before them (the trend). One vectorised pass for any number of trainees,
so the answer path, the bulk seed and the cohort view all compute the same figures."""

from __future__ import annotations

import contextlib
import math
from statistics import NormalDist

import numpy as np
import pandas as pd

from evaluator_cert import agreement

_Z95 = NormalDist().inv_cdf(0.975)
FIGURES = ["kappa", "low", "high", "previous"]


def grouped_kappa_ci(groups: np.ndarray, given: np.ndarray, gold: np.ndarray) -> pd.DataFrame:
    """Unweighted kappa per group with its analytic 95% interval, all groups at once.

    Kappa comes from :func:`agreement.grouped_cohen_kappa`; the standard error is Fleiss,
    Cohen & Everitt's (1969) large-sample formula (as :func:`agreement.cohen_kappa_ci`),
    evaluated for every group's confusion table in one array expression.
    """
    kappa = agreement.grouped_cohen_kappa(groups, given, gold)
    gcode, gindex = pd.factorize(pd.Series(groups), sort=True)
    codes, _ = pd.factorize(np.concatenate([given, gold]), sort=True)
    k = int(codes.max()) + 1
    n = len(given)
    flat = (gcode.astype(np.int64) * k + codes[:n]) * k + codes[n:]
    tables = np.bincount(flat, minlength=len(gindex) * k * k).reshape(len(gindex), k, k)
    tables = tables.astype(float)
    totals = tables.sum(axis=(1, 2))
    p = tables / totals[:, None, None]
    row, col = p.sum(axis=2), p.sum(axis=1)
    kap = kappa.reindex(gindex).to_numpy()
    pe = (row * col).sum(axis=1)
    eye = np.eye(k)[None, :, :]
    # w_row[i] = col[i] and w_col[j] = row[j] for identity agreement weights.
    mix = col[:, :, None] + row[:, None, :]
    term = (p * (eye - mix * (1.0 - kap)[:, None, None]) ** 2).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (term - (kap - pe * (1.0 - kap)) ** 2) / ((1.0 - pe) ** 2 * totals)
    se = np.sqrt(np.clip(var, 0.0, None))
    low = np.clip(kap - _Z95 * se, -1.0, 1.0)
    high = np.clip(kap + _Z95 * se, -1.0, 1.0)
    return pd.DataFrame(
        {"kappa": kap, "low": low, "high": high, "n": totals},
        index=pd.Index(gindex, name="group"),
    )


def rolling_figures(decisions: pd.DataFrame, window: int) -> pd.DataFrame:
    """Per trainee (index ``user_id``): kappa, low, high of ranks 1..window and the kappa of
    ranks window+1..2*window as ``previous``; NaN where undefined.

    ``decisions`` has one row per decision: ``user_id``, ``rn`` (1 = newest answer), ``given``,
    ``gold``. Trainees without decisions are absent.
    """
    out = pd.DataFrame(columns=FIGURES, dtype=float, index=pd.Index([], name="user_id"))
    if decisions.empty:
        return out
    recent = decisions[decisions["rn"] <= window]
    prior = decisions[decisions["rn"] > window]
    if len(recent):
        now = grouped_kappa_ci(
            recent["user_id"].to_numpy(), recent["given"].to_numpy(), recent["gold"].to_numpy()
        )[["kappa", "low", "high"]]
    else:
        now = pd.DataFrame(columns=["kappa", "low", "high"], dtype=float)
    if len(prior):
        before = agreement.grouped_cohen_kappa(
            prior["user_id"].to_numpy(), prior["given"].to_numpy(), prior["gold"].to_numpy()
        ).rename("previous")
    else:
        before = pd.Series(dtype=float, name="previous")
    now.index.name = None
    before.index.name = None
    out = now.join(before, how="outer")
    out.index.name = "user_id"
    return out.reindex(columns=FIGURES).astype(float)


def single_figures(
    recent: list[tuple[str, str]], prior: list[tuple[str, str]]
) -> tuple[float, float, float, float]:
    """``rolling_figures`` for one trainee, without pandas (the answer path): the same
    formulas, through :func:`agreement.cohen_kappa_ci` and :func:`agreement.cohen_kappa`."""
    nan = math.nan
    kappa = low = high = previous = nan
    if recent:
        # An undefined kappa (ValueError) stays NaN, as in the vectorised pass.
        with contextlib.suppress(ValueError):
            kappa, low, high = agreement.cohen_kappa_ci(
                [t for t, _ in recent], [g for _, g in recent]
            )
    if prior:
        with contextlib.suppress(ValueError):
            previous = agreement.cohen_kappa([t for t, _ in prior], [g for _, g in prior])
    return kappa, low, high, previous


def decisions_frame(
    ranked: list[tuple[int, int, list[list[str]] | list[tuple[str, str]] | None]],
) -> pd.DataFrame:
    """(user_id, rn, decisions) triples -> one row per decision, as ``rolling_figures`` takes."""
    users, ranks, given, gold = [], [], [], []
    for user_id, rank, decisions in ranked:
        for t, g in decisions or ():
            users.append(user_id)
            ranks.append(rank)
            given.append(str(t))
            gold.append(str(g))
    return pd.DataFrame({"user_id": users, "rn": ranks, "given": given, "gold": gold})


def finite(value: float | None) -> float | None:
    """NaN (undefined kappa) is stored and shown as missing."""
    return None if value is None or math.isnan(value) else float(value)
