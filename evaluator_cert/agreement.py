"""Agreement metrics between raters: numpy in, float (or pandas) out.

Conventions shared by every function here:

* Labels may be strings or numbers. The categories default to the sorted union of the labels
  used; ``labels=`` fixes the scale (unused categories included) and its order, which is the
  order weighted statistics use (weights follow rank, not value, as in scikit-learn and R's irr).
  A label outside ``labels=`` is a ``ValueError``.
* Missing ratings (``None`` or NaN) are dropped: pairwise for two-rater functions, per cell for
  the raters x units functions.
* Degenerate input raises ``ValueError``: empty input, different lengths, everything missing,
  and a chance-corrected statistic whose expected agreement is 1 (both raters use one single
  category), where the statistic is 0/0. Only the batched :func:`grouped_cohen_kappa` returns NaN
  for such a group, and callers must read that NaN as "not enough evidence", never as a pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Weights = Literal["linear", "quadratic"] | None
Level = Literal["nominal", "ordinal", "interval", "ratio"]

UNDEFINED_KAPPA = "kappa is undefined when both raters use a single category"

__all__ = [
    "UNDEFINED_KAPPA",
    "bootstrap_ci",
    "cohen_kappa",
    "cohen_kappa_ci",
    "cohen_kappa_se",
    "fleiss_kappa",
    "grouped_cohen_kappa",
    "gwet_ac1",
    "gwet_ac1_multi",
    "interpret_kappa",
    "kendall_tau_b",
    "krippendorff_alpha",
    "percent_agreement",
    "scott_pi",
]


# ----------------------------------------------------------------------------- input handling


def _missing(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.asarray(pd.isna(values), dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def _as_1d(values: npt.ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _sorted_categories(values: np.ndarray) -> np.ndarray:
    try:
        return np.unique(values)
    except TypeError as exc:  # e.g. a mix of strings and numbers
        raise ValueError(f"labels cannot be ordered: {exc}") from exc


def _codes(values: np.ndarray, categories: np.ndarray, fixed: bool) -> np.ndarray:
    """Integer code of each value in ``categories`` (rank order); ValueError if outside."""
    order = np.argsort(categories, kind="stable")
    ranked = categories[order]
    pos = np.searchsorted(ranked, values)
    pos = np.clip(pos, 0, len(ranked) - 1)
    found = ranked[pos] == values
    if not np.all(found):
        outside = sorted({str(v) for v in np.asarray(values)[~found]})
        where = "labels=" if fixed else "the categories"
        raise ValueError(f"labels outside {where}: {', '.join(outside[:5])}")
    return order[pos]


def _fixed_categories(labels: Sequence[Any]) -> np.ndarray:
    cats = np.asarray(list(labels))
    if cats.ndim != 1 or len(cats) == 0:
        raise ValueError("labels= must be a non-empty list")
    if len(np.unique(cats)) != len(cats):
        raise ValueError("labels= must not repeat a label")
    return cats


def _encode_pair(
    a: npt.ArrayLike, b: npt.ArrayLike, labels: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate two raters' labels and encode them as category indices 0..K-1."""
    x, y = _as_1d(a, "a"), _as_1d(b, "b")
    if len(x) != len(y):
        raise ValueError(f"a and b have different lengths ({len(x)} and {len(y)})")
    if len(x) == 0:
        raise ValueError("empty input")
    keep = ~(_missing(x) | _missing(y))
    if not keep.any():
        raise ValueError("all ratings are missing")
    x, y = x[keep], y[keep]
    if x.dtype.kind == "O" or y.dtype.kind == "O":
        # Object arrays (from None-padded input) hold plain labels once missing ones are gone.
        x, y = np.asarray(x.tolist()), np.asarray(y.tolist())
    if labels is None:
        cats = _sorted_categories(np.concatenate([x, y]))
        fixed = False
    else:
        cats = _fixed_categories(labels)
        fixed = True
    return _codes(x, cats, fixed), _codes(y, cats, fixed), len(cats)


def _disagreement_weights(k: int, weights: Weights) -> np.ndarray:
    """Disagreement weight matrix scaled to [0, 1]: 1 - I, |i-j|/(k-1) or (i-j)^2/(k-1)^2."""
    idx = np.arange(k, dtype=float)
    diff = np.abs(idx[:, None] - idx[None, :])
    if weights is None:
        return (diff > 0).astype(float)
    span = max(k - 1, 1)
    if weights == "linear":
        return diff / span
    if weights == "quadratic":
        return (diff / span) ** 2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")


def _confusion(x: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(x * k + y, minlength=k * k).reshape(k, k).astype(float)


# ----------------------------------------------------------------------------- two raters


def _kappa_from_table(table: np.ndarray, w: np.ndarray) -> float:
    n = table.sum()
    expected = np.outer(table.sum(1), table.sum(0)) / n
    denom = float((w * expected).sum())
    if denom <= 0.0:
        raise ValueError(UNDEFINED_KAPPA)
    return 1.0 - float((w * table).sum()) / denom


def cohen_kappa(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    weights: Weights = None,
    labels: Sequence[Any] | None = None,
) -> float:
    """Cohen's kappa between two raters, optionally linearly or quadratically weighted.

    kappa = 1 - sum(w * O) / sum(w * E), with O the observed confusion table, E the table
    expected from the raters' marginals and w the disagreement weights (0 on the diagonal;
    1, |i-j| or (i-j)^2 off it). Unweighted this is (p_o - p_e) / (1 - p_e).
    Cohen (1960), Educ. Psychol. Meas. 20:37; Cohen (1968), Psychol. Bull. 70:213.
    """
    x, y, k = _encode_pair(a, b, labels)
    return _kappa_from_table(_confusion(x, y, k), _disagreement_weights(k, weights))


def _kappa_and_se(
    a: npt.ArrayLike, b: npt.ArrayLike, weights: Weights, labels: Sequence[Any] | None
) -> tuple[float, float]:
    x, y, k = _encode_pair(a, b, labels)
    table = _confusion(x, y, k)
    w_dis = _disagreement_weights(k, weights)
    kappa = _kappa_from_table(table, w_dis)
    n = table.sum()
    p = table / n
    row, col = p.sum(1), p.sum(0)
    w = 1.0 - w_dis  # agreement weights
    w_row = w @ col  # mean agreement weight of row category i, over column marginals
    w_col = row @ w  # ... of column category j, over row marginals
    pe = float(row @ w @ col)
    term = (p * (w - (w_row[:, None] + w_col[None, :]) * (1.0 - kappa)) ** 2).sum()
    var = (term - (kappa - pe * (1.0 - kappa)) ** 2) / ((1.0 - pe) ** 2 * n)
    return kappa, math.sqrt(max(float(var), 0.0))


def cohen_kappa_se(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    weights: Weights = None,
    labels: Sequence[Any] | None = None,
) -> tuple[float, float]:
    """Cohen's kappa and its large-sample standard error (see :func:`cohen_kappa_ci`)."""
    return _kappa_and_se(a, b, weights, labels)


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level}")
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def cohen_kappa_ci(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    weights: Weights = None,
    labels: Sequence[Any] | None = None,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Cohen's kappa with a Wald interval: ``(kappa, low, high)``.

    Uses the large-sample standard error of Fleiss, Cohen & Everitt (1969), Psychol. Bull.
    72:323, in its weighted generalisation (agreement weights 1 - w scaled to [0, 1]); the same
    as statsmodels' ``cohens_kappa(...).std_kappa``. Bounds are clipped to [-1, 1].
    """
    kappa, se = _kappa_and_se(a, b, weights, labels)
    half = _z(level) * se
    return kappa, max(-1.0, kappa - half), min(1.0, kappa + half)


def scott_pi(a: npt.ArrayLike, b: npt.ArrayLike, *, labels: Sequence[Any] | None = None) -> float:
    """Scott's pi: (p_o - p_e) / (1 - p_e) with p_e = sum_k ((p_k. + p_.k) / 2)^2.

    Chance agreement from the pooled marginals of both raters. Scott (1955), Public Opin. Q.
    19:321.
    """
    x, y, k = _encode_pair(a, b, labels)
    n = len(x)
    po = float(np.count_nonzero(x == y)) / n
    pooled = np.bincount(np.concatenate([x, y]), minlength=k) / (2.0 * n)
    pe = float((pooled**2).sum())
    if pe >= 1.0:
        raise ValueError(UNDEFINED_KAPPA.replace("kappa", "Scott's pi"))
    return (po - pe) / (1.0 - pe)


def gwet_ac1(a: npt.ArrayLike, b: npt.ArrayLike, *, labels: Sequence[Any] | None = None) -> float:
    """Gwet's AC1 for two raters: (p_o - p_e) / (1 - p_e), p_e = sum_k pi_k (1 - pi_k) / (q - 1).

    pi_k is the mean of both raters' shares of category k and q the number of categories.
    Gwet (2008), Br. J. Math. Stat. Psychol. 61:29. Needs q >= 2 (pass ``labels=`` to fix q).
    """
    x, y, k = _encode_pair(a, b, labels)
    if k < 2:
        raise ValueError("AC1 needs at least two categories (pass labels= to fix the scale)")
    n = len(x)
    po = float(np.count_nonzero(x == y)) / n
    pi = np.bincount(np.concatenate([x, y]), minlength=k) / (2.0 * n)
    pe = float((pi * (1.0 - pi)).sum()) / (k - 1)
    return (po - pe) / (1.0 - pe)


def percent_agreement(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Share of units on which both raters gave the same label (no chance correction)."""
    x, y, _ = _encode_pair(a, b, None)
    return float(np.count_nonzero(x == y)) / len(x)


def interpret_kappa(kappa: float) -> str:
    """Landis & Koch (1977, Biometrics 33:159) band name for a kappa value."""
    if math.isnan(kappa):
        return "undefined"
    if kappa < 0.0:
        return "poor"
    for upper, name in (
        (0.20, "slight"),
        (0.40, "fair"),
        (0.60, "moderate"),
        (0.80, "substantial"),
    ):
        if kappa <= upper:
            return name
    return "almost perfect"


# ----------------------------------------------------------------------------- batched kappa


def grouped_cohen_kappa(
    groups: npt.ArrayLike,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    weights: Weights = None,
    labels: Sequence[Any] | None = None,
) -> pd.Series:
    """Cohen's kappa of ``a`` vs ``b`` within each group (e.g. each trainee vs gold), in one pass.

    All G confusion tables are built at once with one ``np.bincount`` over
    ``group*K*K + i*K + j``; kappa is then evaluated for every group with array operations.
    The category scale is shared by all groups (the union of all labels, or ``labels=``), so a
    weighted kappa means the same thing for every group. Returns a Series indexed by group,
    sorted. A group whose kappa is undefined (both raters used one single category) gets NaN:
    callers must treat NaN as "not enough evidence" and never let it pass a gate.
    """
    g = _as_1d(groups, "groups")
    x, y = _as_1d(a, "a"), _as_1d(b, "b")
    if not len(g) == len(x) == len(y):
        raise ValueError(f"groups, a and b have different lengths ({len(g)}, {len(x)}, {len(y)})")
    if len(g) == 0:
        raise ValueError("empty input")
    keep = ~(_missing(g) | _missing(x) | _missing(y))
    if not keep.all():
        if not keep.any():
            raise ValueError("all ratings are missing")
        g, x, y = g[keep], x[keep], y[keep]
    n = len(x)
    # Hash-based factorisation is O(n), far cheaper than sorting millions of labels.
    gcode, gindex = pd.factorize(g, sort=True)
    if labels is None:
        try:
            codes, _ = pd.factorize(np.concatenate([x, y]), sort=True)
        except TypeError as exc:
            raise ValueError(f"labels cannot be ordered: {exc}") from exc
        k = int(codes.max()) + 1
        xc, yc = codes[:n], codes[n:]
    else:
        cats = _fixed_categories(labels)
        k = len(cats)
        xc, yc = _codes(x, cats, True), _codes(y, cats, True)
    n_groups = len(gindex)
    flat = (gcode.astype(np.int64) * k + xc) * k + yc
    tables = np.bincount(flat, minlength=n_groups * k * k).reshape(n_groups, k, k)
    tables = tables.astype(float)
    w = _disagreement_weights(k, weights)
    totals = tables.sum(axis=(1, 2))
    rows, cols = tables.sum(axis=2), tables.sum(axis=1)
    observed = np.einsum("gij,ij->g", tables, w)
    expected = np.einsum("gi,ij,gj->g", rows, w, cols) / totals
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(expected > 0, 1.0 - observed / expected, np.nan)
    return pd.Series(kappa, index=pd.Index(gindex, name="group"), name="kappa")


# ----------------------------------------------------------------------------- many raters


def fleiss_kappa(counts: npt.ArrayLike) -> float:
    """Fleiss' kappa from a subjects x categories table of rating counts.

    kappa = (P_bar - P_e) / (1 - P_e), P_bar the mean over subjects of
    sum_j n_ij (n_ij - 1) / (n (n - 1)) and P_e = sum_j p_j^2. Every subject must have the same
    number n >= 2 of ratings. Fleiss (1971), Psychol. Bull. 76:378.
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.size == 0:
        raise ValueError("counts must be a non-empty subjects x categories table")
    if np.any(table < 0) or np.any(table != np.round(table)):
        raise ValueError("counts must be non-negative whole numbers")
    per_subject = table.sum(axis=1)
    n = per_subject[0]
    if np.any(per_subject != n):
        raise ValueError("every subject must have the same number of ratings")
    if n < 2:
        raise ValueError("every subject needs at least two ratings")
    p_cat = table.sum(axis=0) / table.sum()
    p_bar = float(((table * table).sum(axis=1) - n).mean() / (n * (n - 1)))
    p_e = float((p_cat * p_cat).sum())
    if p_e >= 1.0:
        raise ValueError(UNDEFINED_KAPPA.replace("both raters use", "all raters use"))
    return (p_bar - p_e) / (1.0 - p_e)


def _integer_codes(arr: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """O(n) coding for whole-number ratings over a modest range (the common case), else None."""
    if arr.dtype.kind not in "iuf":
        return None
    n_missing = int(np.count_nonzero(missing))
    if arr.dtype.kind == "f":
        # NaN != NaN, so exactly the missing cells differ from their floor when all else is whole.
        if int(np.count_nonzero(np.floor(arr) != arr)) != n_missing:
            return None
        low, high = float(np.nanmin(arr)), float(np.nanmax(arr))
    else:
        low, high = int(arr.min()), int(arr.max())  # Python ints: no overflow in high - low
    if not math.isfinite(high - low) or high - low > 1_000_000:
        return None
    span = int(high - low)
    # int64 so that small integer dtypes cannot overflow when shifted.
    shifted = arr - low if arr.dtype.kind == "f" else arr.astype(np.int64) - low
    if n_missing:
        np.copyto(shifted, span + 1, where=missing)  # a bin of its own for missing cells
    raw = shifted.astype(np.intp)
    used = np.bincount(raw.ravel(), minlength=span + 2)[: span + 1] > 0
    cats = (low + np.flatnonzero(used)).astype(arr.dtype)
    if used.all():
        return raw, cats  # missing cells already carry code k = span + 1
    lookup = np.append(np.cumsum(used) - 1, len(cats))  # missing -> k
    return lookup[raw], cats


def _reliability_codes(
    data: npt.ArrayLike, labels: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Raters x units data -> (category codes, with len(categories) for missing; categories)."""
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(f"reliability data must be raters x units, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("empty input")
    if arr.dtype.kind not in "biufUSO":
        raise ValueError(f"unsupported value type {arr.dtype}")
    missing = _missing(arr)
    if arr.dtype.kind in "US":
        missing |= arr == "nan"  # np.asarray turns a NaN among strings into "nan"
    elif arr.dtype.kind == "O":
        missing |= np.asarray(arr == "nan", dtype=bool)
    if missing.all():
        raise ValueError("all ratings are missing")
    if labels is None:
        fast = _integer_codes(arr, missing)
        if fast is not None:
            return fast
        present = arr[~missing]
        if present.dtype.kind == "O":
            present = np.asarray(present.tolist())
        cats = _sorted_categories(present)
    else:
        cats = _fixed_categories(labels)
        present = arr[~missing]
        if present.dtype.kind == "O":
            present = np.asarray(present.tolist())
    codes = np.full(arr.shape, len(cats), dtype=np.int64)
    codes[~missing] = _codes(present, cats, labels is not None)
    return codes, cats


def _value_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """Units x categories table: how many raters gave each category to each unit."""
    n_units = codes.shape[1]
    # Missing cells carry code k and land in an extra column that is dropped.
    flat = codes + (k + 1) * np.arange(n_units)[None, :]
    counts = np.bincount(flat.ravel(), minlength=n_units * (k + 1))
    return counts.reshape(n_units, k + 1)[:, :k]


def gwet_ac1_multi(
    reliability_data: npt.ArrayLike, *, labels: Sequence[Any] | None = None
) -> float:
    """Gwet's AC1 for any number of raters with missing ratings (raters x units).

    p_a is the mean over units rated at least twice of sum_k r_ik (r_ik - 1) / (r_i (r_i - 1));
    pi_k the mean over units rated at least once of r_ik / r_i; p_e = sum_k pi_k (1 - pi_k) /
    (q - 1). Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., ch. 4 (as irrCAC's
    ``gwet.ac1.raw``).
    """
    codes, cats = _reliability_codes(reliability_data, labels)
    q = len(cats)
    if q < 2:
        raise ValueError("AC1 needs at least two categories (pass labels= to fix the scale)")
    counts = _value_counts(codes, q).astype(float)
    r = counts.sum(axis=1)
    rated = r >= 1
    paired = r >= 2
    if not paired.any():
        raise ValueError("no unit has ratings from two raters")
    pa_unit = (counts[paired] * (counts[paired] - 1)).sum(axis=1) / (r[paired] * (r[paired] - 1))
    pa = float(pa_unit.mean())
    pi = (counts[rated] / r[rated, None]).mean(axis=0)
    pe = float((pi * (1.0 - pi)).sum()) / (q - 1)
    return (pa - pe) / (1.0 - pe)


def _alpha_distances(level: str, values: np.ndarray, n_v: np.ndarray) -> np.ndarray:
    """Squared distance delta^2 between every pair of values (Krippendorff 2011, sec. 4)."""
    if level == "nominal":
        return 1.0 - np.eye(len(n_v))
    if level == "ordinal":
        # delta(c, k) = sum_{g=c..k} n_g - (n_c + n_k) / 2, on ranks: values are rank-ordered.
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        i = np.arange(len(n_v))
        lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
        between = cum[hi + 1] - cum[lo]
        return (between - (n_v[:, None] + n_v[None, :]) / 2.0) ** 2
    v = values.astype(float)
    diff = v[:, None] - v[None, :]
    if level == "interval":
        return diff**2
    if level == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total != 0, (diff / np.where(total != 0, total, 1.0)) ** 2, 0.0)
    raise ValueError(f"level must be nominal, ordinal, interval or ratio, not {level!r}")


def krippendorff_alpha(
    reliability_data: npt.ArrayLike,
    *,
    level: Level = "nominal",
    value_domain: Sequence[Any] | None = None,
) -> float:
    """Krippendorff's alpha for raters x units data with missing values (None or NaN).

    alpha = 1 - D_o / D_e = 1 - (n - 1) sum o_ck d_ck / sum n_c n_k d_ck, where o is the
    coincidence matrix of pairable values (units with >= 2 values; each unit's pairs weighted
    1 / (m_u - 1)), n_c its marginals, n the number of pairable values, and d the squared
    distance of the level of measurement (ordinal distance on ranks, from n_c).
    Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".
    ``value_domain`` orders string values for the ordinal level (default: sorted values).
    """
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ValueError(f"level must be nominal, ordinal, interval or ratio, not {level!r}")
    codes, cats = _reliability_codes(reliability_data, value_domain)
    if level in ("interval", "ratio") and cats.dtype.kind not in "biuf":
        raise ValueError(f"{level} alpha needs numeric values")
    k = len(cats)
    counts = _value_counts(codes, k).astype(float)
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        raise ValueError("no unit has values from two raters")
    counts, m = counts[pairable], m[pairable]
    # o = sum_u (c_u c_u^T - diag(c_u)) / (m_u - 1), as one matrix product over units.
    scaled = counts / (m - 1.0)[:, None]
    o = scaled.T @ counts
    o[np.diag_indices(k)] -= scaled.sum(axis=0)
    n_v = o.sum(axis=0)
    n = n_v.sum()
    d = _alpha_distances(level, cats, n_v)
    expected = float(n_v @ d @ n_v)
    if expected <= 0.0:
        raise ValueError("alpha is undefined when all pairable values are the same")
    return 1.0 - (float(n) - 1.0) * float((o * d).sum()) / expected


# ----------------------------------------------------------------------------- rank correlation


def kendall_tau_b(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Kendall's tau-b: (P - Q) / sqrt((n0 - n1)(n0 - n2)).

    P and Q count concordant and discordant pairs, n0 = n(n-1)/2, n1 and n2 the pairs tied in
    x and in y. Kendall (1945), Biometrika 33:239; as scipy.stats.kendalltau. O(n^2) time in
    row blocks (bounded memory); intended for rankings and ratings, not millions of points.
    """
    xa, ya = _as_1d(x, "x"), _as_1d(y, "y")
    if len(xa) != len(ya):
        raise ValueError(f"x and y have different lengths ({len(xa)} and {len(ya)})")
    if len(xa) == 0:
        raise ValueError("empty input")
    keep = ~(_missing(xa) | _missing(ya))
    if not keep.any():
        raise ValueError("all ratings are missing")
    xa, ya = xa[keep], ya[keep]
    if xa.dtype.kind == "O" or ya.dtype.kind == "O":
        xa, ya = np.asarray(xa.tolist()), np.asarray(ya.tolist())
    if len(xa) < 2:
        raise ValueError("tau needs at least two complete pairs")
    # Ranks make the sign comparisons work for any ordered label type.
    xr = np.unique(xa, return_inverse=True)[1].astype(np.int64)
    yr = np.unique(ya, return_inverse=True)[1].astype(np.int64)
    n = len(xr)
    s = 0
    block = max(1, 4_000_000 // n)
    for start in range(0, n, block):
        stop = min(n, start + block)
        sx = np.sign(xr[start:stop, None] - xr[None, :])
        sy = np.sign(yr[start:stop, None] - yr[None, :])
        s += int((sx * sy).sum())
    s //= 2  # every unordered pair was counted twice
    n0 = n * (n - 1) // 2
    n1 = int(sum(c * (c - 1) // 2 for c in np.bincount(xr)))
    n2 = int(sum(c * (c - 1) // 2 for c in np.bincount(yr)))
    if n1 == n0 or n2 == n0:
        raise ValueError("tau is undefined when x or y is constant")
    return s / math.sqrt((n0 - n1) * (n0 - n2))


# ----------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    stat_fn: Callable[..., float],
    *arrays: npt.ArrayLike,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    axis: int = 0,
) -> tuple[float, float, float]:
    """Percentile bootstrap interval over units: ``(estimate, low, high)``.

    All arrays are resampled together along ``axis`` (the unit axis: 0 for paired label vectors
    and subject x category tables, 1 for raters x units data). The resample indices are drawn in
    one batch. Resamples on which the statistic is undefined (it raises ValueError, e.g. one
    category only) are dropped; if more than half are, the interval is refused.
    Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13.
    """
    if not arrays:
        raise ValueError("bootstrap_ci needs at least one array")
    if n_resamples < 1:
        raise ValueError("n_resamples must be positive")
    alpha = 1.0 - level
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level}")
    data = [np.asarray(arr) for arr in arrays]
    n_units = {arr.shape[axis] for arr in data}
    if len(n_units) != 1:
        raise ValueError("all arrays must have the same number of units")
    n = n_units.pop()
    if n == 0:
        raise ValueError("empty input")
    estimate = float(stat_fn(*data))
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n, size=(n_resamples, n))
    values = []
    for idx in indices:
        try:
            values.append(float(stat_fn(*(np.take(arr, idx, axis=axis) for arr in data))))
        except ValueError:
            continue
    if len(values) * 2 < n_resamples:
        raise ValueError("the statistic is undefined on most resamples")
    low, high = np.quantile(np.asarray(values), [alpha / 2.0, 1.0 - alpha / 2.0])
    return estimate, float(low), float(high)
