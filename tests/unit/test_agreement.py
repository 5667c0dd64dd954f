"""Agreement metrics: published worked examples, input validation and degenerate cases."""

from __future__ import annotations

import math
from collections.abc import Callable

import krippendorff
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from evaluator_cert import agreement as ag

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers
# x 12 units, values 1-5, missing marked. Also irrCAC's `cac.raw4raters` data set (Gwet 2014).
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)

# Fleiss (1971)-style worked example used by the Wikipedia article "Fleiss' kappa":
# 10 subjects, 14 raters each, 5 categories; published kappa 0.210.
FLEISS_EXAMPLE = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def _table_to_pairs(table: list[list[int]], cats: list[str]) -> tuple[list[str], list[str]]:
    a: list[str] = []
    b: list[str] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [cats[i]] * count
            b += [cats[j]] * count
    return a, b


# ----------------------------------------------------------------------------- published values


def test_cohen_kappa_wikipedia_example() -> None:
    # Wikipedia "Cohen's kappa", simple example: 50 proposals, yes/yes 20, yes/no 5,
    # no/yes 10, no/no 15 -> p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a, b = _table_to_pairs([[20, 5], [10, 15]], ["yes", "no"])
    assert cohen_kappa_score(a, b) == pytest.approx(0.4, abs=1e-12)
    assert ag.cohen_kappa(a, b) == pytest.approx(0.4, abs=1e-12)
    assert ag.percent_agreement(a, b) == pytest.approx(0.7, abs=1e-12)


def test_fleiss_kappa_published_example() -> None:
    oracle = sm_fleiss_kappa(FLEISS_EXAMPLE)
    assert round(oracle, 3) == 0.210
    assert ag.fleiss_kappa(FLEISS_EXAMPLE) == pytest.approx(oracle, abs=1e-12)
    assert round(ag.fleiss_kappa(FLEISS_EXAMPLE), 3) == 0.210


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_example(level: str, published: float) -> None:
    oracle = krippendorff.alpha(KRIPPENDORFF_2011, level_of_measurement=level)
    assert round(oracle, 3) == published
    ours = ag.krippendorff_alpha(KRIPPENDORFF_2011, level=level)
    assert ours == pytest.approx(oracle, abs=1e-9)
    assert round(ours, 3) == published


def test_krippendorff_example_with_strings_and_none() -> None:
    words = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    data = [[None if math.isnan(v) else words[int(v)] for v in row] for row in KRIPPENDORFF_2011]
    domain = list(words.values())
    assert ag.krippendorff_alpha(data, level="nominal") == pytest.approx(0.743421, abs=1e-6)
    assert ag.krippendorff_alpha(data, level="ordinal", value_domain=domain) == pytest.approx(
        ag.krippendorff_alpha(KRIPPENDORFF_2011, level="ordinal"), abs=1e-12
    )


def test_gwet_ac1_multi_published_example() -> None:
    # irrCAC (Gwet 2014 handbook companion) on cac.raw4raters, the same 4 x 12 data:
    # AC1 = 0.77544 (p_a = 0.8181818, p_e = 0.1903212).
    ours = ag.gwet_ac1_multi(KRIPPENDORFF_2011)
    assert round(ours, 5) == 0.77544
    pa, pe = 9 / 11, 0.1903212
    assert ours == pytest.approx((pa - pe) / (1 - pe), abs=1e-6)


def test_gwet_ac1_two_raters_by_hand() -> None:
    # 125 units: ++ 118, +- 5, -+ 2, -- 0. p_o = 0.944; pi_+ = (0.984 + 0.96) / 2 = 0.972;
    # p_e = 2 * 0.972 * 0.028 / (2 - 1) = 0.054432; AC1 = 0.889568 / 0.945568.
    a, b = _table_to_pairs([[118, 5], [2, 0]], ["+", "-"])
    assert ag.gwet_ac1(a, b) == pytest.approx(0.889568 / 0.945568, abs=1e-12)
    # The "kappa paradox": high agreement, kappa near zero because one category dominates.
    assert ag.cohen_kappa(a, b) < 0.0 < 0.9 < ag.gwet_ac1(a, b)


def test_landis_koch_bands() -> None:
    # Landis & Koch (1977), Biometrics 33:159, table of strength-of-agreement labels.
    assert ag.interpret_kappa(-0.1) == "poor"
    assert ag.interpret_kappa(0.15) == "slight"
    assert ag.interpret_kappa(0.35) == "fair"
    assert ag.interpret_kappa(0.5) == "moderate"
    assert ag.interpret_kappa(0.7) == "substantial"
    assert ag.interpret_kappa(0.9) == "almost perfect"
    assert ag.interpret_kappa(float("nan")) == "undefined"


def test_kendall_tau_b_by_hand_and_vs_scipy() -> None:
    # x = 1, 2, 3 vs y = 1, 3, 2: two concordant pairs, one discordant -> 1/3.
    assert ag.kendall_tau_b([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3, abs=1e-12)
    x, y = [1, 1, 2, 3, 3, 4], [2, 1, 2, 4, 3, 3]
    assert ag.kendall_tau_b(x, y) == pytest.approx(kendalltau(x, y).statistic, abs=1e-12)


# ----------------------------------------------------------------------------- label handling


def test_weighted_kappa_uses_rank_order_of_labels() -> None:
    a = [1, 2, 10, 10, 2, 1]
    b = [1, 10, 10, 2, 2, 2]
    # Weights follow rank: 1 < 2 < 10 behaves as 0 < 1 < 2 (as scikit-learn does).
    assert ag.cohen_kappa(a, b, weights="linear") == pytest.approx(
        ag.cohen_kappa([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 1], weights="linear"), abs=1e-12
    )
    assert ag.cohen_kappa(a, b, weights="linear") == pytest.approx(
        cohen_kappa_score(a, b, weights="linear"), abs=1e-12
    )


def test_fixed_scale_includes_unused_categories() -> None:
    a = [2, 3, 3, 4, 2, 3]
    b = [2, 3, 4, 4, 3, 3]
    scale = [1, 2, 3, 4, 5]
    fixed = ag.cohen_kappa(a, b, weights="quadratic", labels=scale)
    assert fixed == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=scale), abs=1e-12
    )
    # The unused ends change quadratic weights (they are scaled by the span of the scale)
    # but not the kappa, which is invariant to the scale of the weights; they do change AC1.
    assert fixed == pytest.approx(ag.cohen_kappa(a, b, weights="quadratic"), abs=1e-12)
    assert ag.gwet_ac1(a, b, labels=scale) != pytest.approx(ag.gwet_ac1(a, b), abs=1e-6)


def test_labels_outside_fixed_scale_raise() -> None:
    with pytest.raises(ValueError, match="outside"):
        ag.cohen_kappa([1, 2, 6], [1, 2, 3], labels=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="outside"):
        ag.grouped_cohen_kappa([0, 0, 1], ["a", "b", "c"], ["a", "b", "b"], labels=["a", "b"])
    with pytest.raises(ValueError, match="outside"):
        ag.krippendorff_alpha([[1, 2], [1, 9]], value_domain=[1, 2, 3])


def test_missing_pairs_are_dropped() -> None:
    a = ["x", None, "y", "x", "y", np.nan]
    b = ["x", "y", "y", None, "x", "x"]
    assert ag.cohen_kappa(a, b) == pytest.approx(
        ag.cohen_kappa(["x", "y", "y"], ["x", "y", "x"]), abs=1e-12
    )


# ----------------------------------------------------------------------------- degenerate input


@pytest.mark.parametrize(
    "fn", [ag.cohen_kappa, ag.scott_pi, ag.gwet_ac1, ag.percent_agreement, ag.kendall_tau_b]
)
def test_two_rater_functions_reject_bad_input(fn: Callable[..., float]) -> None:
    with pytest.raises(ValueError, match="empty"):
        fn([], [])
    with pytest.raises(ValueError, match="different lengths"):
        fn([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="missing"):
        fn([None, None], [1, None])
    with pytest.raises(ValueError, match="one-dimensional"):
        fn([[1, 2], [2, 1]], [[1, 2], [2, 1]])


def test_single_shared_category_is_undefined() -> None:
    with pytest.raises(ValueError, match="kappa is undefined when both raters use a single"):
        ag.cohen_kappa(["a", "a", "a"], ["a", "a", "a"])
    with pytest.raises(ValueError, match="undefined"):
        ag.cohen_kappa(["a", "a"], ["a", "a"], weights="quadratic", labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="undefined"):
        ag.cohen_kappa_ci([1, 1], [1, 1])
    with pytest.raises(ValueError, match="undefined"):
        ag.scott_pi([1, 1], [1, 1])
    with pytest.raises(ValueError, match="undefined"):
        ag.fleiss_kappa([[3, 0], [3, 0]])
    with pytest.raises(ValueError, match="undefined"):
        ag.krippendorff_alpha([[1, 1, 2], [1, 1, NAN]])
    with pytest.raises(ValueError, match="undefined"):
        ag.kendall_tau_b([1, 1, 1], [1, 2, 3])
    # Different single categories are defined: complete disagreement, kappa 0.
    assert ag.cohen_kappa(["a", "a"], ["b", "b"]) == 0.0


def test_grouped_kappa_marks_undefined_groups_nan() -> None:
    groups = ["t2", "t1", "t1", "t2", "t1", "t3", "t3"]
    a = [1, 2, 3, 1, 2, 4, 4]
    b = [1, 2, 2, 1, 2, 4, 4]
    result = ag.grouped_cohen_kappa(groups, a, b)
    assert list(result.index) == ["t1", "t2", "t3"]
    assert result["t1"] == pytest.approx(ag.cohen_kappa([2, 3, 2], [2, 2, 2]), abs=1e-12)
    assert math.isnan(result["t2"]) and math.isnan(result["t3"])


def test_fleiss_kappa_validates_table() -> None:
    with pytest.raises(ValueError, match="same number"):
        ag.fleiss_kappa([[2, 1], [1, 1]])
    with pytest.raises(ValueError, match="at least two"):
        ag.fleiss_kappa([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="non-negative"):
        ag.fleiss_kappa([[3, -1], [1, 1]])


def test_krippendorff_validates_input() -> None:
    with pytest.raises(ValueError, match="raters x units"):
        ag.krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValueError, match="missing"):
        ag.krippendorff_alpha([[NAN, NAN], [NAN, NAN]])
    with pytest.raises(ValueError, match="two raters"):
        ag.krippendorff_alpha([[1, NAN], [NAN, 2]])
    with pytest.raises(ValueError, match="numeric"):
        ag.krippendorff_alpha([["a", "b"], ["a", "a"]], level="interval")
    with pytest.raises(ValueError, match="level"):
        ag.krippendorff_alpha([[1, 2], [1, 2]], level="cardinal")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- intervals


def test_cohen_kappa_ci_matches_statsmodels_and_contains_kappa() -> None:
    table = [[22, 4, 1], [5, 18, 3], [2, 3, 12]]
    a, b = _table_to_pairs(table, ["c0", "c1", "c2"])
    for weights, wt in ((None, None), ("linear", "linear"), ("quadratic", "quadratic")):
        res = sm_cohens_kappa(np.array(table), wt=wt)
        kappa, low, high = ag.cohen_kappa_ci(a, b, weights=weights, level=0.95)
        assert kappa == pytest.approx(res.kappa, abs=1e-9)
        assert (high - low) / 2 == pytest.approx(1.959963984540054 * res.std_kappa, abs=1e-9)
        assert low < kappa < high


def test_cohen_kappa_ci_narrows_with_lower_level() -> None:
    a, b = _table_to_pairs([[30, 6], [9, 25]], ["y", "n"])
    _, low95, high95 = ag.cohen_kappa_ci(a, b, level=0.95)
    _, low80, high80 = ag.cohen_kappa_ci(a, b, level=0.80)
    assert low95 < low80 < high80 < high95
    with pytest.raises(ValueError, match="level"):
        ag.cohen_kappa_ci(a, b, level=1.5)


def test_bootstrap_ci_is_reproducible_and_sensible() -> None:
    rng = np.random.default_rng(7)
    gold = rng.integers(0, 3, 300)
    rater = np.where(rng.random(300) < 0.75, gold, rng.integers(0, 3, 300))
    first = ag.bootstrap_ci(ag.gwet_ac1, rater, gold, n_resamples=400, seed=3)
    again = ag.bootstrap_ci(ag.gwet_ac1, rater, gold, n_resamples=400, seed=3)
    assert first == again
    estimate, low, high = first
    assert estimate == pytest.approx(ag.gwet_ac1(rater, gold), abs=1e-12)
    assert low < estimate < high
    # The percentile interval for kappa should be close to the analytic one on 300 units.
    _, a_low, a_high = ag.cohen_kappa_ci(rater, gold)
    _, b_low, b_high = ag.bootstrap_ci(ag.cohen_kappa, rater, gold, n_resamples=400)
    assert b_low == pytest.approx(a_low, abs=0.03)
    assert b_high == pytest.approx(a_high, abs=0.03)


def test_bootstrap_ci_over_units_of_reliability_data() -> None:
    estimate, low, high = ag.bootstrap_ci(
        lambda d: ag.krippendorff_alpha(d, level="interval"),
        KRIPPENDORFF_2011,
        n_resamples=200,
        axis=1,
    )
    assert estimate == pytest.approx(ag.krippendorff_alpha(KRIPPENDORFF_2011, level="interval"))
    assert low <= estimate <= high


def test_bootstrap_ci_refuses_mostly_undefined_statistic() -> None:
    def fragile_mean(values: np.ndarray) -> float:
        # Defined only when the resample holds the 1 exactly once (about 39% of resamples).
        if int(values.sum()) != 1:
            raise ValueError("undefined")
        return float(values.mean())

    values = np.array([0] * 9 + [1])
    with pytest.raises(ValueError, match="undefined on most resamples"):
        ag.bootstrap_ci(fragile_mean, values, n_resamples=200)


def test_grouped_kappa_returns_series_named_kappa() -> None:
    result = ag.grouped_cohen_kappa([5, 3, 5, 3], [1, 2, 2, 1], [1, 2, 1, 1])
    assert isinstance(result, pd.Series)
    assert list(result.index) == [3, 5]
