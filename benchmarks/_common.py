"""Shared helpers for the benchmark scripts: machine facts, timing, a seeded database."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator_cert.config import REPO_ROOT, Settings
from evaluator_cert.runtime import AppContext

FULL = {"trainees": 10_000, "answers": 200}
QUICK = {"trainees": 300, "answers": 60}


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average matters on a shared machine."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": memory,
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--quick", action="store_true", help="a small CI-sized run")
    p.add_argument("--database-url", help="e.g. postgresql+psycopg://user@host/db")
    p.add_argument(
        "--data-dir",
        type=Path,
        help="keep (or reuse) the seeded database here instead of a temporary folder",
    )
    return p


def data_dir_for(args: argparse.Namespace) -> Path:
    """``--data-dir``, or one shared temporary folder per size, so that ``make bench`` seeds
    the cohort once and every script reuses it (the seed is idempotent)."""
    if args.data_dir:
        return args.data_dir
    folder = (
        Path(tempfile.gettempdir()) / f"evaluator-cert-bench-{'quick' if args.quick else 'full'}"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settings_for(args: argparse.Namespace, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        content_dir=REPO_ROOT,
        database_url=args.database_url or "",
        base_url="http://127.0.0.1",
        secret_key="benchmark-secret",
    )


def seeded_context(args: argparse.Namespace, data_dir: Path) -> tuple[AppContext, dict[str, Any]]:
    """A migrated database holding the benchmark cohort (seeded unless it already is)."""
    from evaluator_cert.services.bulk_seed import bulk_seed

    size = QUICK if args.quick else FULL
    ctx = AppContext.open(settings_for(args, data_dir))
    start = time.perf_counter()
    summary = bulk_seed(ctx, trainees=size["trainees"], answers_per_trainee=size["answers"])
    summary["seconds"] = round(time.perf_counter() - start, 2)
    quiet_database(ctx)
    return ctx, summary


def quiet_database(ctx: AppContext) -> None:
    """Write out PostgreSQL's dirty pages now (a load leaves a gigabyte of them), so that
    the checkpointer, which spreads such writes over minutes, does not run under the
    measurements. Needs superuser or ``pg_checkpoint``; without it, nothing is done."""
    if ctx.engine.dialect.name != "postgresql":
        return
    try:
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")
    except Exception as exc:  # a benchmark without the privilege still runs
        print(f"CHECKPOINT skipped: {exc}", file=sys.stderr)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall-clock seconds of each run, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)
