"""Cold start: from ``streamlit run asgi.py`` to ``/healthz`` answering ok.

Each run starts a fresh server process on a new data folder (so the first start also creates
and migrates the database and its signing key), then a second start on the same folder.
Prints one JSON object. Usage:
``python benchmarks/bench_coldstart.py [--quick] [--database-url URL]``. Target: < 5 s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, parser
from bench_api import free_port, wait_healthy

from evaluator_cert.config import REPO_ROOT


def start_once(data_dir: Path, database_url: str | None) -> float:
    port = free_port()
    env = {
        **os.environ,
        "EVALUATOR_CERT_DATA_DIR": str(data_dir),
        "EVALUATOR_CERT_SECRET_KEY": "benchmark-secret",
    }
    if database_url:
        env["EVALUATOR_CERT_DATABASE_URL"] = database_url
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "asgi.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_healthy(port, 120)
        return time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    runs = 1 if args.quick else 3
    fresh, again = [], []
    for _ in range(runs):
        data_dir = Path(tempfile.mkdtemp(prefix="bench-cold-"))
        fresh.append(start_once(data_dir, args.database_url))
        again.append(start_once(data_dir, args.database_url))
    print(
        json.dumps(
            {
                "benchmark": "cold_start",
                "command": "python -m streamlit run asgi.py --server.headless true",
                "fresh_data_dir_s": [round(t, 2) for t in fresh],
                "existing_data_dir_s": [round(t, 2) for t in again],
                "median_existing_s": round(statistics.median(again), 2),
                "target_s": 5,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
