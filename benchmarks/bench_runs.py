"""Run pipeline overhead: submission → finished result over the solver's own time, and 50 concurrent submissions.

Starts the real service (uvicorn, in-process worker pool) on a loopback port against a fresh database
loaded with the 六安 demo catalogue, then talks to it over HTTP. Every run asks for the quick answer
(`exact_finish` false): this measures the pipeline, and the exact finish would spend up to the time limit proving.

    .venv/bin/python benchmarks/bench_runs.py [--repeat 3] [--concurrent 50] [--database sqlite|postgres]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

FINAL = {"optimal", "feasible", "infeasible", "failed", "cancelled"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_final(client: httpx.Client, run_id: str, poll: float = 0.02) -> dict[str, Any]:
    while True:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        if run["state"] in FINAL:
            return run
        time.sleep(poll)


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def overrides_submission(client: httpx.Client, n: int, pid: int, url: str) -> list[str]:
    """Submit a run with an n-pair override CSV (random demo pairs, a score each) and time it."""
    import random

    os.environ["DATABASE_URL"] = url
    from sqlalchemy import select

    from app.db import session_scope
    from models import Specialist, Village

    with session_scope() as session:
        specs = list(session.scalars(select(Specialist.code)))
        vils = list(session.scalars(select(Village.code)))
    rng = random.Random(1)
    lines = ["specialist,village,score,effort_days"]
    lines += [f"{rng.choice(specs)},{rng.choice(vils)},{rng.randint(1, 30)}," for _ in range(n)]
    csv_bytes = ("\n".join(lines) + "\n").encode()
    before = peak_rss_mb(pid)
    t0 = time.perf_counter()
    r = client.post("/api/v1/runs", data={"params": '{"exact_finish": false}'},
                    files={"overrides": ("pairs.csv", csv_bytes, "text/csv")},
                    timeout=600)
    accepted = time.perf_counter() - t0
    assert r.status_code == 202, r.text[:500]
    run = wait_final(client, r.json()["id"], poll=0.2)
    total = time.perf_counter() - t0
    return [f"| {n:,} override pairs ({len(csv_bytes) / 1e6:.0f} MB CSV): submission → 202 (s) | {accepted:.1f} | 1 |",
            f"| {n:,} override pairs: submission → {run['state']} (s), solver {run['solve_seconds']:.1f} s | {total:.1f} | 1 |",
            f"| API process peak RSS before → after (MB) | {before:.0f} → {peak_rss_mb(pid):.0f} | 1 |"]


def database(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        tmp = tempfile.mkdtemp()
        return f"sqlite:///{tmp}/bench.db", None
    name = f"jiedui_bench_runs_{os.getpid()}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    return f"postgresql://postgres@127.0.0.1:5432/{name}", name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrent", type=int, default=50)
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--overrides", type=int, default=1_000_000, help="pairs in the streamed override CSV (0: skip)")
    args = ap.parse_args()
    url, pg_name = database(args.database)
    env = {**os.environ, "DATABASE_URL": url, "JIEDUI_RUN_BACKEND": "local"}
    subprocess.run([sys.executable, "-m", "app.cli", "demo", "load"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--log-level",
                               "warning"], env=env)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        for _ in range(300):
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        wait_final(client, client.post("/api/v1/runs", json={"season": "warm-up", "exact_finish": False}).json()["id"])
        rows = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run = wait_final(client, client.post("/api/v1/runs", json={"season": "bench", "exact_finish": False}).json()["id"])
            total = time.perf_counter() - t0
            rows.append((total, run["solve_seconds"], total - run["solve_seconds"], run["state"]))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrent) as pool:
            ids = list(pool.map(lambda i: client.post("/api/v1/runs", json={"season": f"c{i}", "exact_finish": False}
                                                      ).json()["id"], range(args.concurrent)))
            finals = list(pool.map(lambda rid: wait_final(client, rid, poll=0.5), ids))
        wall = time.perf_counter() - t0
        states = {s: sum(1 for r in finals if r["state"] == s) for s in {r["state"] for r in finals}}
        override_rows = overrides_submission(client, args.overrides, server.pid, url) if args.overrides else []
        print(f"\nrun pipeline on {args.database}, demo city (1,970 villages, 1,500 specialists), local backend, 2 workers\n")
        print("| measure | median | runs |")
        print("|---|---|---|")
        print(f"| submission → finished (s) | {statistics.median(r[0] for r in rows):.2f} | {len(rows)} |")
        print(f"| solver's own time (s) | {statistics.median(r[1] for r in rows):.2f} | {len(rows)} |")
        print(f"| overhead (s) | {statistics.median(r[2] for r in rows):.2f} | {len(rows)} |")
        print(f"| {args.concurrent} concurrent submissions: wall (s) | {wall:.1f} | {args.concurrent} |")
        print(f"| {args.concurrent} concurrent: final states | {states} | errors: "
              f"{sum(1 for r in finals if r['state'] == 'failed')} |")
        for row in override_rows:
            print(row)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if pg_name:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                            f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
