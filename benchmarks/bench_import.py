"""Bulk import over HTTP: N villages and N specialists into a fresh SQLite file and a fresh PostgreSQL database.

Each repeat starts a real uvicorn server (a subprocess on a free loopback port) on a brand-new database,
posts synthetic counties and townships (not timed), then times POST /api/v1/villages/bulk and
POST /api/v1/specialists/bulk, either in batches of --batch rows or all at once (--batch 0), and reports
the median of --repeat runs as one markdown table. Request bodies are serialised before the clock starts,
so the time is the server's: parsing, validation, the database writes and the commit, plus loopback HTTP.

    .venv/bin/python benchmarks/bench_import.py                 # both databases, batches of 5,000 and all at once
    .venv/bin/python benchmarks/bench_import.py --databases sqlite --rows 2000 --repeat 1

PostgreSQL: --pg-url names a server where the user may create databases (default postgres@127.0.0.1:5432,
trust auth); the database jiedui_bench_<pid> is created for each repeat and dropped afterwards.
"""

import argparse
import contextlib
import json
import os
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
INDUSTRIES = ["grain", "oil_crops", "vegetables", "tea", "fruit", "edible_fungi", "medicinal_herbs", "sericulture",
              "forestry", "pigs", "cattle_sheep", "poultry", "aquaculture", "apiculture", "veterinary",
              "seeds_breeding", "plant_protection", "soil_fertility", "machinery", "processing_storage", "ecommerce",
              "rural_tourism", "agri_environment", "renewables", "digital_agriculture", "farm_management"]
TOWNSHIPS_PER_COUNTY = 15
VILLAGES_PER_TOWNSHIP = 14
TEAM_EVERY = 50  # every 50th specialist is a team of the three individuals before it


# --- synthetic catalogue -----------------------------------------------------------------------------

def regions(n_villages: int) -> tuple[list[dict], list[dict], list[str]]:
    """Counties 99cccc, their townships and enough village codes (14 per township) for n_villages."""
    n_townships = -(-n_villages // VILLAGES_PER_TOWNSHIP)
    n_counties = -(-n_townships // TOWNSHIPS_PER_COUNTY)
    counties = [{"code": f"99{c:04d}", "name": f"测试县{c}", "lon": 116.0 + c * 0.01, "lat": 31.5}
                for c in range(n_counties)]
    townships, village_codes = [], []
    for t in range(n_townships):
        county = counties[t // TOWNSHIPS_PER_COUNTY]["code"]
        code = f"{county}{100 + t % TOWNSHIPS_PER_COUNTY:03d}"
        townships.append({"code": code, "name": f"测试镇{t}", "lon": 116.0 + t * 0.001, "lat": 31.6})
        village_codes += [f"{code}{200 + v:03d}" for v in range(VILLAGES_PER_TOWNSHIP)]
    return counties, townships, village_codes[:n_villages]


def villages(codes: list[str], rng: random.Random) -> list[dict]:
    """One village per code, 村委会 mostly, with 2–3 distinct needs."""
    out = []
    for i, code in enumerate(codes):
        needs = rng.sample(INDUSTRIES, rng.choice((2, 3)))
        out.append({
            "code": code, "name": f"测试村{i}", "kind": "村委会" if i % 10 else "社区", "township_code": code[:9],
            "poverty_alleviated": rng.random() < 0.1, "designated_support": rng.random() < 0.02,
            "three_areas": rng.random() < 0.2, "key_village": rng.random() < 0.03,
            "lon": round(116 + rng.random(), 6), "lat": round(31 + rng.random(), 6), "datum": "GCJ-02",
            "needs": [{"industry": n, "weight": round(1.0 - j * 0.3, 2), "primary": j == 0} for j, n in enumerate(needs)],
        })
    return out


def specialists(n: int, township_codes: list[str], rng: random.Random) -> list[dict]:
    """Individuals with 1–3 expertise; every TEAM_EVERY-th row is a team of the three individuals before it."""
    out = []
    for i in range(n):
        row = {
            "code": f"BX{i:06d}", "name": f"测试{i}", "kind": "individual", "org_name": "测试农业大学",
            "org_type": "university", "org_region_code": "340104", "title_level": "intermediate",
            "home_region_code": rng.choice(township_codes), "lon": round(116 + rng.random(), 6),
            "lat": round(31 + rng.random(), 6), "datum": "GCJ-02",
            "expertise": [{"industry": x, "proficiency": rng.randint(1, 3)}
                          for x in rng.sample(INDUSTRIES, rng.randint(1, 3))],
            "capacity": 2, "service_days": 120, "max_distance_km": 100, "three_areas_programme": rng.random() < 0.15,
            "programme_level": "county", "active": True, "grade": "良好", "members": [], "leader": None,
        }
        if i % TEAM_EVERY == TEAM_EVERY - 1:
            members = [f"BX{j:06d}" for j in range(i - 3, i)]
            row.update(kind="team", members=members, leader=members[0])
        out.append(row)
    return out


# --- databases and the server ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_database(kind: str, pg_url: str) -> Iterator[str]:
    """A new, empty database URL; removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="jiedui_bench_") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    import psycopg

    name = f"jiedui_bench_{os.getpid()}"
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def server(database_url: str) -> Iterator[str]:
    """uvicorn app.main:app on a free loopback port (it migrates the database on start)."""
    port = free_port()
    # The celery backend starts no in-process solver pool, so no worker processes compete for the CPU
    # (bulk imports never touch runs, and nothing is sent to Redis unless a run is submitted).
    env = {**os.environ, "DATABASE_URL": database_url, "JIEDUI_MIGRATE_ON_START": "true",
           "JIEDUI_RUN_BACKEND": "celery"}
    cmd = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not become ready (exit code {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):  # anything the server left behind in its own process group
            os.killpg(proc.pid, signal.SIGKILL)


# --- timing ------------------------------------------------------------------------------------------

def bodies(rows: list[dict], batch: int) -> list[bytes]:
    size = batch or len(rows)
    return [json.dumps(rows[i:i + size], ensure_ascii=False).encode() for i in range(0, len(rows), size)]


def post_all(client: httpx.Client, path: str, payloads: list[bytes], expected: int) -> float:
    """Seconds to post every body in turn; each must succeed and together create `expected` rows."""
    created = 0
    start = time.perf_counter()
    for body in payloads:
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        if r.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {r.status_code}: {r.text[:500]}")
        created += r.json()["created"]
    elapsed = time.perf_counter() - start
    if created != expected:
        raise RuntimeError(f"{path}: created {created} rows, expected {expected}")
    return elapsed


@dataclass
class Data:
    counties: bytes
    townships: bytes
    villages: list[dict]
    specialists: list[dict]


def make_data(n: int, seed: int) -> Data:
    rng = random.Random(seed)
    counties, townships, codes = regions(n)
    return Data(json.dumps(counties, ensure_ascii=False).encode(), json.dumps(townships, ensure_ascii=False).encode(),
                villages(codes, rng), specialists(n, [t["code"] for t in townships], rng))


def one_run(kind: str, pg_url: str, data: Data, batch: int) -> dict[str, float]:
    village_bodies, specialist_bodies = bodies(data.villages, batch), bodies(data.specialists, batch)
    with fresh_database(kind, pg_url) as url, server(url) as base, httpx.Client(base_url=base, timeout=600) as client:
        for path, body in (("/api/v1/counties/bulk", data.counties), ("/api/v1/townships/bulk", data.townships)):
            r = client.post(path, content=body, headers={"content-type": "application/json"})
            r.raise_for_status()
        return {
            "villages": post_all(client, "/api/v1/villages/bulk", village_bodies, len(data.villages)),
            "specialists": post_all(client, "/api/v1/specialists/bulk", specialist_bodies, len(data.specialists)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="villages and specialists each")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the median is reported")
    parser.add_argument("--batch", type=int, action="append",
                        help="rows per request, 0 = all in one request; repeatable (default: 5000 and 0)")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="admin URL of the PostgreSQL server (env BENCH_PG_URL)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, help="also write the table and the command to this markdown file")
    args = parser.parse_args()
    batches = args.batch or [5000, 0]
    data = make_data(args.rows, args.seed)
    load_before = os.getloadavg()[0]

    results = []
    for kind in args.databases.split(","):
        for batch in batches:
            runs = []
            for i in range(args.repeat):
                runs.append(one_run(kind, args.pg_url, data, batch))
                print(f"# {kind} batch={batch or 'all'} run {i + 1}: "
                      + ", ".join(f"{k} {v:.2f}s" for k, v in runs[-1].items()), file=sys.stderr, flush=True)
            for entity in ("villages", "specialists"):
                seconds = statistics.median(r[entity] for r in runs)
                results.append((kind, entity, batch, seconds))

    n = args.rows
    lines = ["| database | entity | rows | batch | seconds (median) | rows/s |", "|---|---|---:|---:|---:|---:|"]
    for kind, entity, batch, seconds in results:
        lines.append(f"| {'SQLite' if kind == 'sqlite' else 'PostgreSQL'} | {entity} | {n:,} | "
                     f"{f'{batch:,}' if batch else 'all'} | {seconds:.2f} | {n / seconds:,.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.output:
        command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/bench_import.py", *sys.argv[1:]])
        args.output.write_text(
            "# Bulk import benchmark\n\n"
            f"Command (from the project root):\n\n```\n{command}\n```\n\n"
            f"{args.rows:,} villages (2–3 needs each) and {args.rows:,} specialists (1–3 expertise, every "
            f"{TEAM_EVERY}th a team of 3) posted over real HTTP to uvicorn on a fresh database; median of "
            f"{args.repeat} runs. Machine: {os.cpu_count()} CPUs, 1-minute load average {load_before:.1f} before "
            f"and {os.getloadavg()[0]:.1f} after (other work on the machine slows PostgreSQL most). Measured "
            f"{time.strftime('%Y-%m-%d')}.\n\n{table}\n",
            encoding="utf-8")


if __name__ == "__main__":
    main()
