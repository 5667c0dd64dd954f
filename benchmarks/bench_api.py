"""Verification API under load: ``POST /api/v1/verify`` and ``GET /api/v1/credentials/{id}``.

The app (``asgi.py``: UI + API in one process) is served by uvicorn on loopback; a second
process sends a bounded number of requests over one keep-alive connection and reports
latency percentiles and throughput. Prints one JSON object. Usage:
``python benchmarks/bench_api.py [--quick] [--database-url URL] [--data-dir DIR]``.
Targets: p95 < 20 ms and > 300 requests/s from one client process.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import data_dir_for, machine, ms, parser, percentile, seeded_context, timed
from sqlalchemy import select

from evaluator_cert.config import REPO_ROOT
from evaluator_cert.db.models import Credential, User, utcnow
from evaluator_cert.runtime import AppContext


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, timeout: float) -> float:
    """Seconds until /healthz answers ok (raises on timeout)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            body = response.read()
            if response.status == 200 and json.loads(body).get("status") == "ok":
                return time.perf_counter() - start
        except (OSError, ValueError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no healthy answer on port {port} within {timeout} s")


def credentials(ctx: AppContext, wanted: int) -> list[tuple[str, str]]:
    """(id, jwt) of some credentials, issuing a few when the cohort has none."""
    from evaluator_cert.services.credentials import issue_credential

    with ctx.session() as s:
        rows = s.execute(select(Credential.id, Credential.jwt).limit(wanted)).all()
        if rows:
            return [(i, j) for i, j in rows]
        users = s.scalars(select(User).where(User.role == "trainee").limit(wanted)).all()
        level = ctx.base_catalog.levels[0].id
        made = [issue_credential(s, u, ctx.base_catalog, level, 0.8, utcnow()) for u in users]
        s.commit()
        return [(c.id, c.jwt) for c in made]


def client(port: int, plan_file: str) -> None:
    """The second process: run the plan, print latencies per endpoint as JSON."""
    plan = json.loads(Path(plan_file).read_text())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out: dict[str, Any] = {}
    for name, requests in plan.items():
        times, errors = [], 0
        start_all = time.perf_counter()
        for method, path, body in requests:
            start = time.perf_counter()
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            times.append(time.perf_counter() - start)
            errors += response.status != 200
        total = time.perf_counter() - start_all
        out[name] = {
            "requests": len(times),
            "errors": errors,
            "p50_ms": ms(statistics.median(times)),
            "p95_ms": ms(percentile(times, 95)),
            "max_ms": ms(max(times)),
            "requests_per_second": round(len(times) / total, 1),
        }
    print(json.dumps(out))


def status_check_ratio(ctx: AppContext, creds: list[tuple[str, str]], repeat: int) -> dict:
    """The revocation check behind every verification, in process: one indexed row per check
    against the straightforward whole-set read it replaced, in the same run."""
    from evaluator_cert.services import credentials as service

    with ctx.session() as session:
        indices = list(
            session.scalars(
                select(Credential.status_list_index).where(Credential.id.in_([c for c, _ in creds]))
            )
        )
        url = service.status_list_url(ctx.settings)
        lookup = service._status_lookup(session, ctx.settings)
        revoked_total = len(service.revoked_indices(session))
        whole_set, _ = timed(
            lambda: [i in service.revoked_indices(session) for i in indices], repeat
        )
        one_row, _ = timed(lambda: [lookup(url, i) for i in indices], repeat)
    per_check = len(indices)
    return {
        "checks_per_run": per_check,
        "revoked_credentials": revoked_total,
        "whole_set_ms_per_check": round(statistics.median(whole_set) * 1000 / per_check, 3),
        "indexed_row_ms_per_check": round(statistics.median(one_row) * 1000 / per_check, 3),
        "speedup": round(statistics.median(whole_set) / statistics.median(one_row), 1),
    }


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client(int(sys.argv[2]), sys.argv[3])
        return
    args = parser(__doc__ or "").parse_args()
    data_dir = data_dir_for(args)
    ctx, _ = seeded_context(args, data_dir)
    creds = credentials(ctx, 50)
    n = 200 if args.quick else 2000
    rng = random.Random(3)
    warm = [("GET", "/healthz", None)] * 20
    plan = {
        "warm_up": warm,
        "verify": [
            ("POST", "/api/v1/verify", json.dumps({"credential_jwt": rng.choice(creds)[1]}))
            for _ in range(n)
        ],
        "credential_facts": [
            ("GET", "/api/v1/credentials/" + rng.choice(creds)[0], None) for _ in range(n)
        ],
    }
    plan_file = data_dir / "api-plan.json"
    plan_file.write_text(json.dumps(plan))
    port = free_port()
    env = {
        **os.environ,
        "EVALUATOR_CERT_DATA_DIR": str(data_dir),
        "EVALUATOR_CERT_SECRET_KEY": "benchmark-secret",
        "EVALUATOR_CERT_BASE_URL": "http://127.0.0.1",
    }
    if args.database_url:
        env["EVALUATOR_CERT_DATABASE_URL"] = args.database_url
    # The server's log goes to a file: an unread pipe fills after a few thousand requests
    # and then blocks the server mid-run.
    server_log = data_dir / "api-server.log"
    with server_log.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip
        try:
            wait_healthy(port, 120)
            done = subprocess.run(
                [sys.executable, __file__, "--client", str(port), str(plan_file)],
                capture_output=True,
                text=True,
            )
        finally:
            stop(server)
    if done.returncode != 0:
        sys.exit(f"the client failed:\n{done.stderr}\nserver log: {server_log}")
    figures = json.loads(done.stdout)
    figures.pop("warm_up", None)
    print(
        json.dumps(
            {
                "benchmark": "verification_api",
                "backend": ctx.engine.dialect.name,
                "quick": args.quick,
                "server": "uvicorn asgi:app (one worker)",
                "credentials": len(creds),
                **figures,
                "status_check": status_check_ratio(ctx, creds, 5),
                "targets": {"p95_ms": 20, "requests_per_second": 300},
                "machine": machine(),
            }
        )
    )
    ctx.dispose()


if __name__ == "__main__":
    main()
