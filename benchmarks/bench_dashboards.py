"""Dashboards and the answer hot path on the benchmark cohort (10,000 trainees x 200 answers).

Prints one JSON object. Usage:
``python benchmarks/bench_dashboards.py [--quick] [--database-url URL] [--data-dir DIR]``
(reuses a cohort seeded by bench_seed.py into the same ``--data-dir``).

1. ``cohort.cohort_frame`` (the data behind the cohort page), for one cohort of 1,000 and for
   all trainees; and its per-trainee statistics (``grouped_kappa_ci``, one vectorised pass)
   against a straightforward loop of ``agreement.cohen_kappa_ci`` per trainee. Target < 1.0 s.
2. The whole cohort page (app_pages/cohort.py) in AppTest: first run (cache cold) and a rerun.
   Target < 2 s.
3. ``trainee_stats.trainee_dashboard`` for a sample of trainees. Target < 0.3 s.
4. ``attempts.record_answer`` (grade + save + progression update), one transaction per
   answer like the practice page. Target p95 < 25 ms.
"""

from __future__ import annotations

import inspect
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from _common import QUICK, data_dir_for, machine, ms, parser, percentile, seeded_context, timed
from sqlalchemy import select

from evaluator_cert import agreement
from evaluator_cert.db.models import Attempt, User
from evaluator_cert.runtime import AppContext
from evaluator_cert.services import attempts, cohort, trainee_stats
from evaluator_cert.services.actors import Actor
from evaluator_cert.simulation import simulated_answer


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": ms(statistics.median(times)),
        "p95_ms": ms(percentile(times, 95)),
        "max_ms": ms(max(times)),
        "runs": len(times),
    }


def bench_cohort(ctx: AppContext, instructor: Actor, repeat: int) -> dict[str, Any]:
    catalog = ctx.catalog()
    out: dict[str, Any] = {}
    with ctx.session() as s:
        groups = cohort.cohort_names(s, instructor)
    if hasattr(cohort, "backfill_rolling"):
        # One-off: trainees seeded before the summary table existed get their rows now.
        with ctx.session() as s:
            start = time.perf_counter()
            written = cohort.backfill_rolling(s, catalog)
        out["backfill"] = {"rows": written, "seconds": round(time.perf_counter() - start, 2)}
    for label, group in (("one_cohort", groups[0] if groups else None), ("all_trainees", None)):
        with ctx.session() as s:
            times, frame = timed(
                lambda s=s, group=group: cohort.cohort_frame(s, instructor, catalog, cohort=group),
                repeat,
            )
        out[label] = {"trainees": len(frame), **_summary(times), "target_ms": 1000}
    if "recompute" in inspect.signature(cohort.cohort_frame).parameters:
        # The previous way (every figure derived from stored grades), same cohort, same run.
        group = groups[0] if groups else None
        with ctx.session() as s:
            old_times, old_frame = timed(
                lambda s=s: cohort.cohort_frame(
                    s, instructor, catalog, cohort=group, recompute=True
                ),
                1,
            )
        out["one_cohort_recomputed"] = {"trainees": len(old_frame), **_summary(old_times)}
        out["one_cohort_old_over_new"] = round(
            min(old_times) / out["one_cohort"]["p50_ms"] * 1000, 1
        )
    # Per-trainee kappa with CI, vectorised vs a loop over trainees, on the same decisions of
    # one cohort (the loop over all 10,000 would dominate the benchmark's running time).
    window = catalog.levels[0].drift_window
    group = groups[0] if groups else None
    with ctx.session() as s:
        start = time.perf_counter()
        params = list(inspect.signature(cohort._recent_decisions).parameters)
        if params[1] == "cohort":
            decisions = cohort._recent_decisions(s, group, window)
        else:  # an earlier shape took the trainees' ids
            ids = list(
                s.scalars(select(User.id).where(User.role == "trainee", User.cohort == group))
            )
            decisions = cohort._recent_decisions(s, ids, window)
        if "given" not in decisions.columns:  # an earlier shape: one row per answer
            decisions = cohort._explode(decisions)  # type: ignore[attr-defined]
        fetch = time.perf_counter() - start
    recent = decisions[decisions["rn"] <= window]
    g, a, b = (recent[c].to_numpy() for c in ("user_id", "given", "gold"))
    grouped_times, grouped = timed(lambda: cohort.grouped_kappa_ci(g, a, b), 3)

    def loop() -> dict[int, tuple[float, float, float] | None]:
        result: dict[int, tuple[float, float, float] | None] = {}
        for user_id, part in recent.groupby("user_id", sort=True):
            try:
                result[int(user_id)] = agreement.cohen_kappa_ci(part["given"], part["gold"])
            except ValueError:
                result[int(user_id)] = None
        return result

    loop_times, looped = timed(loop, 1)
    same = all(
        (v is None and grouped.loc[k, "kappa"] != grouped.loc[k, "kappa"])
        or (v is not None and abs(v[0] - grouped.loc[k, "kappa"]) < 1e-9)
        for k, v in looped.items()
    )
    out["per_trainee_kappa_ci"] = {
        "trainees": len(looped),
        "decision_rows": len(recent),
        "fetch_and_explode_ms": ms(fetch),
        "grouped_ms": ms(min(grouped_times)),
        "loop_ms": ms(min(loop_times)),
        "speedup": round(min(loop_times) / min(grouped_times), 1),
        "same_values": same,
    }
    return out


def bench_cohort_page(ctx: AppContext, instructor: User, data_dir: Path, db_url: str) -> dict:
    """app_pages/cohort.py through AppTest, against the same database."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from evaluator_cert import runtime
    from evaluator_cert.config import REPO_ROOT, get_settings
    from evaluator_cert.ui.state import ACTOR_KEY

    page = REPO_ROOT / "app_pages" / "cohort.py"
    if not page.exists():
        return {"skipped": "app_pages/cohort.py is not there"}
    os.environ["EVALUATOR_CERT_DATA_DIR"] = str(data_dir)
    os.environ["EVALUATOR_CERT_SECRET_KEY"] = "benchmark-secret"
    if db_url:
        os.environ["EVALUATOR_CERT_DATABASE_URL"] = db_url
    get_settings.cache_clear()
    runtime._context = None
    st.cache_data.clear()
    runs = []
    for attempt in ("cold", "warm"):
        at = AppTest.from_file(str(page), default_timeout=120)
        at.session_state[ACTOR_KEY] = Actor.of(instructor)
        start = time.perf_counter()
        at.run()
        runs.append((attempt, time.perf_counter() - start, len(at.exception)))
    return {f"{name}_ms": ms(seconds) for name, seconds, _ in runs} | {
        "exceptions": sum(e for _, _, e in runs),
        "target_ms": 2000,
    }


def bench_trainee_dashboard(ctx: AppContext, sample: list[User]) -> dict[str, Any]:
    catalog = ctx.catalog()
    times = []
    for user in sample:
        with ctx.session() as s:
            start = time.perf_counter()
            trainee_stats.trainee_dashboard(s, Actor.of(user), catalog)
            times.append(time.perf_counter() - start)
    return {**_summary(times), "target_ms": 300}


def bench_record_answer(ctx: AppContext, trainees: int, answers: int) -> dict[str, Any]:
    """Answer the next item of open practice attempts, round-robin, one per sampled trainee.

    The sample is drawn among the trainees who still have an open set, so running the
    benchmark again (its answers close some sets) measures the same thing."""
    catalog = ctx.catalog()
    rng = random.Random(11)
    with ctx.session() as s:
        candidates = s.execute(
            select(User, Attempt.id)
            .join(Attempt, Attempt.user_id == User.id)
            .where(
                User.username.like("trainee0%"),
                Attempt.kind == "practice",
                Attempt.status == "open",
            )
            .order_by(User.id)
        ).all()
        open_attempts = [
            (Actor.of(user), attempt_id)
            for user, attempt_id in rng.sample(candidates, min(trainees, len(candidates)))
        ]
    times: list[float] = []
    while len(times) < answers and open_attempts:
        for actor, attempt_id in list(open_attempts):
            with ctx.session() as s:
                view = attempts.attempt_view(s, actor, catalog, attempt_id)
                key = view.next_item_id
                if key is None or view.status != "open":
                    open_attempts.remove((actor, attempt_id))
                    continue
                item = catalog.item(attempts.base_item_id(key))
                answer = simulated_answer(item, 0.8, rng)
            with ctx.session() as s:
                start = time.perf_counter()
                attempts.record_answer(s, actor, catalog, attempt_id, key, answer)
                times.append(time.perf_counter() - start)
            if len(times) >= answers:
                break
    if not times:
        return {"skipped": "no open practice attempts"}
    return {**_summary(times), "target_p95_ms": 25}


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    data_dir = data_dir_for(args)
    ctx, seeded = seeded_context(args, data_dir)
    with ctx.session() as s:
        instructor = s.scalar(select(User).where(User.username == "instructor"))
        trainees = list(
            s.scalars(select(User).where(User.role == "trainee", User.username.like("trainee0%")))
        )
    assert instructor is not None
    rng = random.Random(5)
    sample = rng.sample(trainees, min(len(trainees), 15 if args.quick else 40))
    result: dict[str, Any] = {
        "benchmark": "dashboards",
        "backend": ctx.engine.dialect.name,
        "quick": args.quick,
        "trainees": len(trainees),
        "seed_seconds": seeded.get("seconds"),
        "cohort_frame": bench_cohort(ctx, Actor.of(instructor), 2 if args.quick else 3),
        "trainee_dashboard": bench_trainee_dashboard(ctx, sample),
        "record_answer": bench_record_answer(ctx, len(sample), 60 if args.quick else 300),
    }
    result["cohort_page_apptest"] = bench_cohort_page(
        ctx, instructor, data_dir, args.database_url or ""
    )
    result["machine"] = machine()
    result["size"] = "quick" if args.quick else "full"
    if args.quick:
        result["quick_size"] = QUICK
    print(json.dumps(result, default=str))
    ctx.dispose()


if __name__ == "__main__":
    main()
