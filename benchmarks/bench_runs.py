"""Run pipeline overhead: submission → finished result over the solver's own time, and 50 concurrent submissions.

Starts the real service (uvicorn, in-process worker pool) on a loopback port against a fresh database
loaded with the 六安 demo catalogue, then talks to it over HTTP.

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
        wait_final(client, client.post("/api/v1/runs", json={"season": "warm-up"}).json()["id"])
        rows = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run = wait_final(client, client.post("/api/v1/runs", json={"season": "bench"}).json()["id"])
            total = time.perf_counter() - t0
            rows.append((total, run["solve_seconds"], total - run["solve_seconds"], run["state"]))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.concurrent) as pool:
            ids = list(pool.map(lambda i: client.post("/api/v1/runs", json={"season": f"c{i}"}).json()["id"],
                                range(args.concurrent)))
            finals = list(pool.map(lambda rid: wait_final(client, rid, poll=0.5), ids))
        wall = time.perf_counter() - t0
        states = {s: sum(1 for r in finals if r["state"] == s) for s in {r["state"] for r in finals}}
        print(f"\nrun pipeline on {args.database}, demo city (1,970 villages, 1,500 specialists), local backend, 2 workers\n")
        print("| measure | median | runs |")
        print("|---|---|---|")
        print(f"| submission → finished (s) | {statistics.median(r[0] for r in rows):.2f} | {len(rows)} |")
        print(f"| solver's own time (s) | {statistics.median(r[1] for r in rows):.2f} | {len(rows)} |")
        print(f"| overhead (s) | {statistics.median(r[2] for r in rows):.2f} | {len(rows)} |")
        print(f"| {args.concurrent} concurrent submissions: wall (s) | {wall:.1f} | {args.concurrent} |")
        print(f"| {args.concurrent} concurrent: final states | {states} | errors: "
              f"{sum(1 for r in finals if r['state'] == 'failed')} |")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if pg_name:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                            f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
