"""Bulk-seed the benchmark cohort: 10,000 trainees x 200 answers (``--quick``: 300 x 60).

Prints one JSON object. Usage:
``python benchmarks/bench_seed.py [--quick] [--database-url URL] [--data-dir DIR]``.
Target: the full cohort in under 180 s on SQLite. With ``--data-dir`` the database stays for
the other benchmarks (which reuse it instead of seeding again).
"""

from __future__ import annotations

import json

from _common import data_dir_for, machine, parser, seeded_context
from sqlalchemy import func, select

from evaluator_cert.db.models import Annotation, Grade


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    data_dir = data_dir_for(args)
    ctx, summary = seeded_context(args, data_dir)
    with ctx.session() as s:
        annotations = s.scalar(select(func.count()).select_from(Annotation))
        grades = s.scalar(select(func.count()).select_from(Grade))
    out = {
        "benchmark": "bulk_seed",
        "backend": ctx.engine.dialect.name,
        "quick": args.quick,
        "summary": summary,
        "annotations": annotations,
        "grades": grades,
        "answers_per_second": round(summary.get("answers", 0) / max(summary["seconds"], 1e-9)),
        "target_seconds": None if args.quick else 180,
        "machine": machine(),
    }
    db = data_dir / "evaluator_cert.db"
    if db.exists():
        out["sqlite_file_mib"] = round(db.stat().st_size / 2**20)
    print(json.dumps(out, default=str))
    ctx.dispose()


if __name__ == "__main__":
    main()
