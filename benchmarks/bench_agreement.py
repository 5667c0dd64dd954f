"""Speed of the batched agreement metrics against the reference implementations.

Prints one JSON object. Usage: ``python benchmarks/bench_agreement.py [--quick]``.

1. Per-trainee quadratic weighted kappa vs gold, 10,000 trainees x 200 items (ratings 1-5,
   simulated with varied skill): ``grouped_cohen_kappa`` against a Python loop of
   scikit-learn's ``cohen_kappa_score``. The loop is timed on a subset of trainees and
   extrapolated linearly (the loop's cost is the same for every trainee).
2. Krippendorff's alpha (nominal, interval), 50 raters x 10,000 units, 30% missing, against
   the ``krippendorff`` package.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator_cert.agreement import grouped_cohen_kappa, krippendorff_alpha


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Fastest of ``repeat`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def simulate_ratings(
    rng: np.random.Generator, trainees: int, items: int
) -> tuple[np.ndarray, np.ndarray]:
    """Gold ratings 1-5 per item and each trainee's ratings: gold plus skill-scaled noise."""
    gold = rng.integers(1, 6, items)
    skill = rng.uniform(0.0, 1.0, trainees)  # 1 = expert, 0 = guessing-level noise
    noise = rng.normal(0.0, 1.0, (trainees, items)) * (2.0 * (1.0 - skill))[:, None]
    answers = np.clip(np.rint(gold[None, :] + noise), 1, 5).astype(np.int64)
    return gold, answers


def bench_grouped_kappa(rng: np.random.Generator, trainees: int, items: int, subset: int) -> dict:
    from sklearn.metrics import cohen_kappa_score

    gold, answers = simulate_ratings(rng, trainees, items)
    groups = np.repeat(np.arange(trainees), items)
    a, b = answers.ravel(), np.tile(gold, trainees)
    scale = [1, 2, 3, 4, 5]
    ours_s, ours = best_time(
        lambda: grouped_cohen_kappa(groups, a, b, weights="quadratic", labels=scale), repeat=3
    )
    start = time.perf_counter()
    reference = [
        cohen_kappa_score(answers[t], gold, weights="quadratic", labels=scale)
        for t in range(subset)
    ]
    loop_subset_s = time.perf_counter() - start
    loop_full_s = loop_subset_s * trainees / subset
    max_diff = float(np.max(np.abs(ours.to_numpy()[:subset] - np.asarray(reference))))
    speedup = loop_full_s / ours_s
    return {
        "trainees": trainees,
        "items_per_trainee": items,
        "ratings": int(a.size),
        "grouped_cohen_kappa_s": round(ours_s, 4),
        "sklearn_loop_subset_trainees": subset,
        "sklearn_loop_subset_s": round(loop_subset_s, 4),
        "sklearn_loop_full_s_extrapolated": round(loop_full_s, 3),
        "extrapolation": f"linear: loop time on {subset} trainees x {trainees / subset:g}",
        "speedup": round(speedup, 1),
        "max_abs_diff_vs_sklearn_on_subset": max_diff,
        "kappa_range": [round(float(ours.min()), 3), round(float(ours.max()), 3)],
        "target": "speedup >= 50 and grouped_cohen_kappa_s < 0.5",
        "target_met": bool(speedup >= 50 and ours_s < 0.5 and max_diff <= 1e-9),
    }


def bench_alpha(rng: np.random.Generator, raters: int, units: int, repeat: int) -> dict:
    import krippendorff

    truth = rng.integers(1, 6, units)
    data = np.where(
        rng.random((raters, units)) < 0.75, truth[None, :], rng.integers(1, 6, (raters, units))
    )
    data = data.astype(float)
    data[rng.random((raters, units)) < 0.30] = np.nan
    out: dict[str, Any] = {"raters": raters, "units": units, "missing_share": 0.30}
    for level in ("nominal", "interval"):
        ours_s, ours = best_time(lambda lv=level: krippendorff_alpha(data, level=lv), repeat)
        ref_s, ref = best_time(
            lambda lv=level: krippendorff.alpha(data, level_of_measurement=lv), repeat
        )
        ratio = ref_s / ours_s
        out[level] = {
            "ours_s": round(ours_s, 4),
            "krippendorff_package_s": round(ref_s, 4),
            "speed_ratio": round(ratio, 2),
            "alpha": round(float(ours), 6),
            "abs_diff": float(abs(ours - ref)),
            "target": "speed_ratio >= 1",
            "target_met": bool(ratio >= 1.0 and abs(ours - ref) <= 1e-9),
        }
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, for CI")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.quick:
        kappa = bench_grouped_kappa(rng, trainees=1_000, items=100, subset=100)
        alpha = bench_alpha(rng, raters=20, units=2_000, repeat=3)
    else:
        kappa = bench_grouped_kappa(rng, trainees=10_000, items=200, subset=500)
        alpha = bench_alpha(rng, raters=50, units=10_000, repeat=5)
    result = {
        "benchmark": "agreement",
        "mode": "quick" if args.quick else "full",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "grouped_quadratic_kappa": kappa,
        "krippendorff_alpha": alpha,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
