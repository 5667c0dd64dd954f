"""Gold from an expert panel: majority vote and the Dawid-Skene EM estimate, in numpy.

Dawid, A. P. & Skene, A. M. (1979). "Maximum likelihood estimation of observer error-rates
using the EM algorithm." Applied Statistics 28(1):20-28. Each expert r has a confusion matrix
pi[r, k, l] = P(expert says l | true class k); items have a latent true class with prior p_k.
EM alternates the posterior of each item's class (E) with the priors and confusion matrices
that maximise the expected likelihood (M), starting from the majority-vote shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PanelData:
    """Labels as a count tensor ``counts[item, expert, class]`` (an expert may repeat)."""

    items: tuple[str, ...]
    experts: tuple[str, ...]
    classes: tuple[str, ...]
    counts: np.ndarray


def panel_data(
    items: Sequence[Any],
    experts: Sequence[Any],
    labels: Sequence[Any],
    *,
    classes: Sequence[Any] | None = None,
) -> PanelData:
    """Build the count tensor from long-format rows (one row per label given)."""
    if not len(items) == len(experts) == len(labels):
        raise ValueError("items, experts and labels must have the same length")
    if len(items) == 0:
        raise ValueError("no labels given")
    icode, iindex = pd.factorize(pd.Series(items, dtype=str), sort=True)
    ecode, eindex = pd.factorize(pd.Series(experts, dtype=str), sort=True)
    label_series = pd.Series(labels, dtype=str)
    if classes is None:
        lcode, lindex = pd.factorize(label_series, sort=True)
        cls = tuple(str(c) for c in lindex)
    else:
        cls = tuple(str(c) for c in classes)
        lookup = {c: i for i, c in enumerate(cls)}
        unknown = sorted(set(label_series) - set(lookup))
        if unknown:
            raise ValueError(f"labels not among the classes: {', '.join(unknown)}")
        lcode = label_series.map(lookup).to_numpy()
    n_i, n_e, k = len(iindex), len(eindex), len(cls)
    flat = (icode.astype(np.int64) * n_e + ecode) * k + lcode
    counts = np.bincount(flat, minlength=n_i * n_e * k).reshape(n_i, n_e, k).astype(float)
    return PanelData(tuple(str(i) for i in iindex), tuple(str(e) for e in eindex), cls, counts)


def majority_shares(counts: np.ndarray) -> np.ndarray:
    """Per item, the share of all labels given to each class (items x classes)."""
    per_item = counts.sum(axis=1)
    totals = per_item.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, per_item / np.where(totals > 0, totals, 1.0), 0.0)


def majority_vote(counts: np.ndarray) -> np.ndarray:
    """Index of the most frequent class per item; ties go to the lowest class index."""
    return majority_shares(counts).argmax(axis=1)


def posterior_given(counts: np.ndarray, priors: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """E-step: P(true class k | labels of item i) for fixed priors and confusion matrices.

    log T[i, k] = log p_k + sum_r sum_l counts[i, r, l] * log pi[r, k, l], normalised per item.
    """
    with np.errstate(divide="ignore"):
        log_pi = np.log(confusion)
        log_p = np.log(priors)
    # Zero counts times log(0) must contribute 0, not NaN.
    log_pi = np.where(np.isfinite(log_pi), log_pi, -1e300)
    log_t = log_p[None, :] + np.einsum("irl,rkl->ik", counts, log_pi)
    log_t -= log_t.max(axis=1, keepdims=True)
    t = np.exp(log_t)
    return t / t.sum(axis=1, keepdims=True)


def _m_step(counts: np.ndarray, t: np.ndarray, smoothing: float) -> tuple[np.ndarray, np.ndarray]:
    priors = t.mean(axis=0)
    # confusion[r, k, l] = sum_i T[i, k] counts[i, r, l], each row (r, k) normalised over l.
    raw = np.einsum("ik,irl->rkl", t, counts) + smoothing
    confusion = raw / raw.sum(axis=2, keepdims=True)
    priors = np.clip(priors, 1e-12, None)
    return priors / priors.sum(), confusion


def _log_likelihood(counts: np.ndarray, priors: np.ndarray, confusion: np.ndarray) -> float:
    log_pi = np.log(np.clip(confusion, 1e-300, None))
    joint = np.log(np.clip(priors, 1e-300, None))[None, :] + np.einsum(
        "irl,rkl->ik", counts, log_pi
    )
    peak = joint.max(axis=1, keepdims=True)
    return float((peak[:, 0] + np.log(np.exp(joint - peak).sum(axis=1))).sum())


@dataclass(frozen=True)
class DawidSkeneResult:
    data: PanelData
    posterior: np.ndarray  # items x classes
    priors: np.ndarray  # classes
    confusion: np.ndarray  # experts x true class x given class
    iterations: int
    converged: bool
    log_likelihood: float

    @property
    def labels(self) -> list[str]:
        return [self.data.classes[k] for k in self.posterior.argmax(axis=1)]

    @property
    def confidence(self) -> np.ndarray:
        return self.posterior.max(axis=1)

    def reliability(self) -> pd.Series:
        """Each expert's estimated accuracy: sum_k p_k * pi[r, k, k]."""
        diag = np.einsum("rkk->rk", self.confusion)
        return pd.Series(diag @ self.priors, index=list(self.data.experts), name="accuracy")

    def confusion_frame(self, expert: str) -> pd.DataFrame:
        r = self.data.experts.index(expert)
        classes = list(self.data.classes)
        return pd.DataFrame(
            self.confusion[r],
            index=pd.Index(classes, name="true"),
            columns=pd.Index(classes, name="given"),
        )


def dawid_skene(
    data: PanelData, *, max_iter: int = 200, tol: float = 1e-8, smoothing: float = 1e-6
) -> DawidSkeneResult:
    """Fit by EM from the majority-vote shares; stops when the log-likelihood settles.

    ``smoothing`` is a tiny pseudo-count that keeps every confusion cell positive, so a class
    an expert never used cannot make a posterior exactly zero forever.
    """
    counts = data.counts
    t = majority_shares(counts)
    # Items nobody labelled start uniform.
    empty = t.sum(axis=1) == 0
    t[empty] = 1.0 / counts.shape[2]
    previous = -np.inf
    converged = False
    iterations = 0
    priors, confusion = _m_step(counts, t, smoothing)
    while iterations < max_iter:
        iterations += 1
        t = posterior_given(counts, priors, confusion)
        priors, confusion = _m_step(counts, t, smoothing)
        current = _log_likelihood(counts, priors, confusion)
        if abs(current - previous) <= tol * max(1.0, abs(current)):
            converged = True
            break
        previous = current
    t = posterior_given(counts, priors, confusion)
    return DawidSkeneResult(
        data,
        t,
        priors,
        confusion,
        iterations,
        converged,
        _log_likelihood(counts, priors, confusion),
    )
