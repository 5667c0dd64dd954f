"""Dawid-Skene EM: a hand-checked E-step, the paper's own data, and synthetic panels.

The paper's Table 1 (45 patients, 5 anaesthetists, the first of whom rated every patient three
times) is fitted and checked against the class probabilities the paper reports, and against
a plain loop over the paper's equations (2.3)-(2.5). Synthetic panels, whose experts have known
confusion matrices, check that the estimates recover the truth that generated them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from evaluator_cert.dawid_skene import (
    dawid_skene,
    majority_vote,
    panel_data,
    posterior_given,
)

CLASSES = ("safe", "borderline", "unsafe")


def test_posterior_by_hand() -> None:
    # One item: expert 0 says "a", expert 1 says "b".
    counts = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    priors = np.array([0.5, 0.5])
    confusion = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.6, 0.4], [0.3, 0.7]]])
    # P(a) ~ 0.5*0.9*0.4 = 0.18, P(b) ~ 0.5*0.2*0.7 = 0.07.
    post = posterior_given(counts, priors, confusion)
    assert post[0] == pytest.approx([0.18 / 0.25, 0.07 / 0.25])


def test_panel_data_counts_repeated_labels() -> None:
    data = panel_data(["i1", "i1", "i1", "i2"], ["x", "x", "y", "y"], ["a", "b", "a", "b"])
    assert data.items == ("i1", "i2") and data.experts == ("x", "y")
    assert data.counts[0, 0].tolist() == [1.0, 1.0]
    assert data.counts[0, 1].tolist() == [1.0, 0.0]
    assert data.counts[1, 0].sum() == 0
    with pytest.raises(ValueError, match="not among"):
        panel_data(["i1"], ["x"], ["c"], classes=["a", "b"])


def _synthetic(seed: int, n_items: int = 1500):
    rng = np.random.default_rng(seed)
    priors = np.array([0.5, 0.3, 0.2])
    truth = rng.choice(3, size=n_items, p=priors)
    good = np.array([[0.9, 0.08, 0.02], [0.1, 0.8, 0.1], [0.02, 0.08, 0.9]])
    fair = np.array([[0.75, 0.2, 0.05], [0.2, 0.6, 0.2], [0.05, 0.2, 0.75]])
    # A rater who calls nearly everything "safe": majority vote trusts them as much as anyone.
    lazy = np.array([[0.95, 0.04, 0.01], [0.85, 0.1, 0.05], [0.8, 0.1, 0.1]])
    experts = {"e1": good, "e2": fair, "e3": lazy, "e4": lazy, "e5": fair}
    rows = []
    for i, k in enumerate(truth):
        for name, pi in experts.items():
            rows.append((f"it{i:04d}", name, CLASSES[rng.choice(3, p=pi[k])]))
    items, raters, labels = zip(*rows, strict=True)
    return truth, experts, panel_data(items, raters, labels, classes=CLASSES)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_known_truth_and_confusion(seed: int) -> None:
    truth, experts, data = _synthetic(seed)
    result = dawid_skene(data)
    assert result.converged
    ds_acc = float(np.mean(result.posterior.argmax(axis=1) == truth))
    mv_acc = float(np.mean(majority_vote(data.counts) == truth))
    # Down-weighting the two lazy raters beats one-rater-one-vote.
    assert ds_acc > mv_acc
    assert ds_acc > 0.85
    for r, name in enumerate(data.experts):
        assert np.abs(result.confusion[r] - experts[name]).max() < 0.1, name
    assert result.priors == pytest.approx([0.5, 0.3, 0.2], abs=0.07)
    reliability = result.reliability()
    assert reliability["e1"] > reliability["e2"] > reliability["e3"]


def test_log_likelihood_never_decreases() -> None:
    _, _, data = _synthetic(7, n_items=120)
    values = [dawid_skene(data, max_iter=n, tol=0.0).log_likelihood for n in range(1, 15)]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values))


def test_unanimous_panel_is_certain() -> None:
    data = panel_data(
        ["a", "a", "a", "b", "b", "b"],
        ["x", "y", "z", "x", "y", "z"],
        ["pos", "pos", "pos", "neg", "neg", "neg"],
    )
    result = dawid_skene(data)
    assert result.labels == ["pos", "neg"]
    assert result.confidence.min() > 0.99


# Dawid & Skene (1979), Table 1: per patient, observer 1's three ratings then observers 2-5.
TABLE_1 = """
111 1 1 1 1|333 4 3 3 4|112 2 1 2 2|222 3 1 2 1|222 3 2 2 2|222 3 3 2 2|122 2 1 1 1
333 3 4 3 3|222 2 2 2 3|232 2 2 2 3|444 4 4 4 4|222 3 3 4 3|111 1 1 1 1|222 3 2 1 2
121 1 1 1 1|111 2 1 1 1|111 1 1 1 1|111 1 1 1 1|222 2 2 2 1|222 1 3 2 2|222 2 2 2 2
222 2 2 2 1|222 3 2 2 2|221 2 2 2 2|111 1 1 1 1|111 1 1 1 1|232 2 2 2 2|111 1 1 1 1
111 1 1 1 1|112 1 1 2 1|111 1 1 1 1|333 3 2 3 3|111 1 1 1 1|222 2 2 2 2|222 3 2 3 2
433 4 3 4 3|221 2 2 3 2|232 3 2 3 3|333 3 4 3 2|111 1 1 1 1|111 1 1 1 1|121 2 1 1 1
232 2 2 2 2|121 1 1 1 1|222 2 2 2 2
"""


def _table_1():
    rows = []
    for patient, cell in enumerate(TABLE_1.replace("\n", "|").strip("|").split("|"), start=1):
        first, *others = cell.split()
        rows += [(f"p{patient:02d}", "obs1", label) for label in first]
        rows += [(f"p{patient:02d}", f"obs{k}", label) for k, label in enumerate(others, start=2)]
    items, observers, labels = zip(*rows, strict=True)
    return panel_data(items, observers, labels)


def _em_by_the_equations(counts: np.ndarray, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """The paper's EM as plain loops from its starting point (3.1): each round estimates the
    error rates (2.3) and class marginals (2.4), then the patients' class probabilities (2.5)."""
    n_items, n_obs, n_cls = counts.shape
    t = [[counts[i, :, j].sum() / counts[i].sum() for j in range(n_cls)] for i in range(n_items)]
    p: list[float] = []
    for _ in range(rounds):
        p = [sum(t[i][j] for i in range(n_items)) / n_items for j in range(n_cls)]
        pi = np.zeros((n_obs, n_cls, n_cls))
        for k in range(n_obs):
            for j in range(n_cls):
                row = [sum(t[i][j] * counts[i, k, m] for i in range(n_items)) for m in range(n_cls)]
                pi[k, j] = [v / sum(row) for v in row]
        for i in range(n_items):
            joint = [
                p[j]
                * math.prod(
                    pi[k, j, m] ** counts[i, k, m] for k in range(n_obs) for m in range(n_cls)
                )
                for j in range(n_cls)
            ]
            t[i] = [v / sum(joint) for v in joint]
    return np.array(p), np.array(t)


def test_the_papers_data_gives_the_papers_class_probabilities() -> None:
    data = _table_1()
    assert data.counts.shape == (45, 5, 4)
    assert data.counts[:, 0].sum() == 135 and data.counts[:, 1:].sum() == 180
    result = dawid_skene(data, smoothing=0.0, tol=1e-12, max_iter=1000)
    assert result.converged
    # The maximum-likelihood class probabilities the paper reports for this data.
    assert result.priors == pytest.approx([0.40, 0.42, 0.11, 0.07], abs=0.005)
    # The default pseudo-count is too small to move them.
    assert dawid_skene(data).priors == pytest.approx(result.priors, abs=1e-4)


@pytest.mark.parametrize("rounds", [1, 2, 5, 12])
def test_vectorised_em_matches_the_papers_equations_step_by_step(rounds: int) -> None:
    data = _table_1()
    fit = dawid_skene(data, smoothing=0.0, tol=0.0, max_iter=rounds)
    # The fit's first M-step comes before its loop, so its n rounds are the loops' n + 1.
    priors, posterior = _em_by_the_equations(data.counts, rounds + 1)
    assert fit.posterior == pytest.approx(posterior, abs=1e-9)
    assert fit.priors == pytest.approx(priors, abs=1e-9)
