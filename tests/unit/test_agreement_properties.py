"""Property tests: every metric equals its reference implementation to 1e-9."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from evaluator_cert import agreement as ag

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
TOL = 1e-9

int_labels = st.integers(min_value=0, max_value=4)
str_labels = st.sampled_from(["neg", "neu", "pos", "mixed"])


@st.composite
def rater_pairs(draw: st.DrawFn, labels: st.SearchStrategy = int_labels) -> tuple[list, list]:
    n = draw(st.integers(min_value=2, max_value=60))
    a = draw(st.lists(labels, min_size=n, max_size=n))
    # Mix copies of a (agreement) with free labels (disagreement).
    b = [x if draw(st.booleans()) else draw(labels) for x in a]
    return a, b


def _defined(a: list, b: list) -> bool:
    return len(set(a) | set(b)) > 1


@SETTINGS
@given(rater_pairs(), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_equals_sklearn(pair: tuple[list, list], weights: str | None) -> None:
    a, b = pair
    assume(_defined(a, b))
    assert ag.cohen_kappa(a, b, weights=weights) == pytest.approx(
        cohen_kappa_score(a, b, weights=weights), abs=TOL
    )


@SETTINGS
@given(rater_pairs(str_labels), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_string_labels_equal_sklearn(
    pair: tuple[list, list], weights: str | None
) -> None:
    a, b = pair
    assume(_defined(a, b))
    assert ag.cohen_kappa(a, b, weights=weights) == pytest.approx(
        cohen_kappa_score(a, b, weights=weights), abs=TOL
    )


@SETTINGS
@given(rater_pairs(), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_fixed_scale_equals_sklearn(
    pair: tuple[list, list], weights: str | None
) -> None:
    a, b = pair
    assume(_defined(a, b))
    scale = [0, 1, 2, 3, 4, 5, 6]
    assert ag.cohen_kappa(a, b, weights=weights, labels=scale) == pytest.approx(
        cohen_kappa_score(a, b, weights=weights, labels=scale), abs=TOL
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # statsmodels' own z-test at se0 = 0
@SETTINGS
@given(rater_pairs(), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_se_equals_statsmodels(pair: tuple[list, list], weights: str | None) -> None:
    a, b = pair
    assume(_defined(a, b))
    scale = sorted(set(a) | set(b))
    k = len(scale)
    index = {v: i for i, v in enumerate(scale)}
    table = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    res = sm_cohens_kappa(table, wt=weights)
    # statsmodels takes sqrt of a variance that rounding can push just below 0 (-> NaN).
    std = float(np.sqrt(max(res.var_kappa, 0.0)))
    kappa, se = ag.cohen_kappa_se(a, b, weights=weights)
    assert kappa == pytest.approx(res.kappa, abs=TOL)
    if res.var_kappa > 1e-12:
        assert se == pytest.approx(std, abs=TOL)
    else:  # a zero variance up to rounding: sqrt would magnify 1e-16 into 1e-8
        assert se**2 == pytest.approx(max(res.var_kappa, 0.0), abs=1e-12)
        std = se
    z = 1.6448536269514722
    _, low, high = ag.cohen_kappa_ci(a, b, weights=weights, level=0.9)
    assert low == pytest.approx(max(-1.0, res.kappa - z * std), abs=TOL)
    assert high == pytest.approx(min(1.0, res.kappa + z * std), abs=TOL)


@SETTINGS
@given(rater_pairs())
def test_scott_pi_equals_two_rater_fleiss(pair: tuple[list, list]) -> None:
    # Fleiss' kappa with two ratings per subject is Scott's pi (Fleiss 1971).
    a, b = pair
    assume(_defined(a, b))
    counts = np.zeros((len(a), 5))
    for row, (x, y) in enumerate(zip(a, b, strict=True)):
        counts[row, x] += 1
        counts[row, y] += 1
    assert ag.scott_pi(a, b) == pytest.approx(sm_fleiss_kappa(counts), abs=TOL)


@SETTINGS
@given(rater_pairs(str_labels))
def test_gwet_ac1_two_raters_equals_multi_rater_form(pair: tuple[list, list]) -> None:
    a, b = pair
    assume(_defined(a, b))
    assert ag.gwet_ac1(a, b) == pytest.approx(ag.gwet_ac1_multi([a, b]), abs=TOL)
    assert ag.percent_agreement(a, b) == pytest.approx(np.mean(np.array(a) == np.array(b)), abs=TOL)


def _ac1_by_definition(data: list[list[float]]) -> float:
    """Gwet (2014) AC1 written out unit by unit, as an independent reference."""
    units = list(zip(*data, strict=True))
    cats = sorted({v for u in units for v in u if v == v})
    q = len(cats)
    pa_terms, pi = [], dict.fromkeys(cats, 0.0)
    rated = 0
    for unit in units:
        vals = [v for v in unit if v == v]
        r = len(vals)
        if r >= 1:
            rated += 1
            for c in cats:
                pi[c] += vals.count(c) / r
        if r >= 2:
            pa_terms.append(sum(vals.count(c) * (vals.count(c) - 1) for c in cats) / (r * (r - 1)))
    pa = sum(pa_terms) / len(pa_terms)
    pe = sum((p / rated) * (1 - p / rated) for p in pi.values()) / (q - 1)
    return (pa - pe) / (1 - pe)


@st.composite
def reliability_data(draw: st.DrawFn, values: st.SearchStrategy) -> list[list[float]]:
    raters = draw(st.integers(min_value=2, max_value=6))
    units = draw(st.integers(min_value=1, max_value=30))
    cell = st.one_of(values, st.just(np.nan)) if draw(st.booleans()) else values
    return [draw(st.lists(cell, min_size=units, max_size=units)) for _ in range(raters)]


@SETTINGS
@given(reliability_data(st.integers(min_value=1, max_value=4).map(float)))
def test_gwet_ac1_multi_equals_definition(data: list[list[float]]) -> None:
    cats = {v for row in data for v in row if v == v}
    paired = any(sum(row[u] == row[u] for row in data) >= 2 for u in range(len(data[0])))
    assume(len(cats) >= 2 and paired)
    assert ag.gwet_ac1_multi(data) == pytest.approx(_ac1_by_definition(data), abs=TOL)


@SETTINGS
@given(
    reliability_data(st.integers(min_value=0, max_value=5).map(float)),
    st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_krippendorff_alpha_equals_package(data: list[list[float]], level: str) -> None:
    _assert_alpha_matches(data, level)


@SETTINGS
@given(
    reliability_data(st.sampled_from([0.5, 1.25, 2.0, 3.75, 10.0])),
    st.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_krippendorff_alpha_non_integer_values_equal_package(
    data: list[list[float]], level: str
) -> None:
    _assert_alpha_matches(data, level)


def _assert_alpha_matches(data: list[list[float]], level: str) -> None:
    arr = np.array(data, dtype=float)
    try:
        with np.errstate(all="ignore"):
            oracle = krippendorff.alpha(arr, level_of_measurement=level)
    except ValueError:
        assume(False)
        return
    if not np.isfinite(oracle):
        # 0/0 in the package: every pairable value is the same. We refuse to guess.
        with pytest.raises(ValueError):
            ag.krippendorff_alpha(arr, level=level)
        return
    assert ag.krippendorff_alpha(arr, level=level) == pytest.approx(oracle, abs=TOL)


@SETTINGS
@given(reliability_data(st.sampled_from(["a", "b", "c"])))
def test_krippendorff_nominal_strings_with_none_equal_package(data: list[list]) -> None:
    ours_data = [[None if v != v else v for v in row] for row in data]
    arr = np.array(data, dtype=object)
    arr_str = np.where(arr != arr, "nan", arr).astype(str)  # the package's missing marker
    try:
        with np.errstate(all="ignore"):
            oracle = krippendorff.alpha(arr_str, level_of_measurement="nominal")
    except ValueError:
        assume(False)
        return
    assume(np.isfinite(oracle))
    assert ag.krippendorff_alpha(ours_data, level="nominal") == pytest.approx(oracle, abs=TOL)


@st.composite
def count_tables(draw: st.DrawFn) -> np.ndarray:
    subjects = draw(st.integers(min_value=1, max_value=15))
    cats = draw(st.integers(min_value=2, max_value=5))
    raters = draw(st.integers(min_value=2, max_value=8))
    table = np.zeros((subjects, cats))
    for s in range(subjects):
        for c in draw(st.lists(st.integers(0, cats - 1), min_size=raters, max_size=raters)):
            table[s, c] += 1
    return table


@SETTINGS
@given(count_tables())
def test_fleiss_kappa_equals_statsmodels(table: np.ndarray) -> None:
    assume(np.count_nonzero(table.sum(axis=0)) > 1)
    assert ag.fleiss_kappa(table) == pytest.approx(sm_fleiss_kappa(table), abs=TOL)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=2, max_size=60))
def test_kendall_tau_b_equals_scipy(pairs: list[tuple[int, int]]) -> None:
    x, y = zip(*pairs, strict=True)
    assume(len(set(x)) > 1 and len(set(y)) > 1)
    assert ag.kendall_tau_b(x, y) == pytest.approx(kendalltau(x, y).statistic, abs=TOL)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), int_labels, int_labels),
        min_size=1,
        max_size=120,
    ),
    st.sampled_from([None, "linear", "quadratic"]),
)
def test_grouped_kappa_equals_per_group_sklearn(
    rows: list[tuple[str, int, int]], weights: str | None
) -> None:
    groups, a, b = (list(col) for col in zip(*rows, strict=True))
    result = ag.grouped_cohen_kappa(groups, a, b, weights=weights, labels=[0, 1, 2, 3, 4])
    assert list(result.index) == sorted(set(groups))
    for group, value in result.items():
        ga = [x for g, x in zip(groups, a, strict=True) if g == group]
        gb = [y for g, y in zip(groups, b, strict=True) if g == group]
        if len(set(ga) | set(gb)) == 1:
            assert np.isnan(value)
        else:
            expected = cohen_kappa_score(ga, gb, weights=weights, labels=[0, 1, 2, 3, 4])
            assert value == pytest.approx(expected, abs=TOL)
