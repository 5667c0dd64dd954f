"""Dawid-Skene EM: a hand-checked E-step, and recovery of known truth on synthetic panels.

The synthetic panel plays the role of Dawid & Skene's (1979) worked example: experts with
known confusion matrices label items of known class, so the estimates can be checked against
the truth that generated them.
"""

from __future__ import annotations

import itertools

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
