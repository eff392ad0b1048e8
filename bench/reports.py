"""How long the reports' `dbt build` takes on the bench data set, next to a pg_dump and a
count(*) scan of the same app tables in the same run, then incrementally after one more day.

    .venv/bin/python bench/reports.py [--sessions 100000,1000000] [--repeat 3] [--reuse] [--keep]

For each size: bench/dataset.py's data set (replacing the bench database; --reuse keeps the one
there, for one size), `pg_dump` of the app tables to /dev/null and `select count(*)` of each,
then --repeat rounds of: a full build (`reports build --full-refresh`: seconds per model from
dbt's target/run_results.json, and in total), a day's worth of new rows (testing/dataset_day.py:
completions, bookings, renewals with their orders and messages; the clock a day on, the jobs
run), and a build the rules make incremental (sql/rules/reports.sql): the incremental build as a
share of the full one of its round, the median of the rounds, by wall time (with dbt's start)
and by dbt's own. The goals at 1M sessions: the full build under 2 minutes, the incremental one
under 10 % of it. Exits 1 when a build fails or is not of the kind asked.

The build runs through `mentorships reports build` on the bench stack (each build is a row of
its report_runs, as a scheduled one is); its run_results.json is read from the stack's dbt
target folder (.local/bench/dbt/target)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dataset  # bench/dataset.py

from mentorships.settings import Settings
from mentorships.stack import Stack
from mentorships.stack.common import PG_BIN
from mentorships.stack.reports_worker import ReportsWorker
from testing import dataset_day
from testing.stacks import bench_settings

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
APP_TABLES = [
    "public.profiles",
    "public.mentors",
    "public.mentorship_products",
    "public.promotion_codes",
    "public.seat_reservations",
    "public.orders",
    "public.payments",
    "public.session_packs",
    "public.sessions",
    "public.session_credit_ledger",
    "public.notifications",
]


def build_env(settings: Settings) -> dict[str, str]:
    """`mentorships reports build` on the bench stack (its settings, not .env's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTORSHIPS_", "DBT_"))}
    env.update(
        {
            "MENTORSHIPS_STACK": settings.stack,
            "MENTORSHIPS_HOST": settings.host,
            "MENTORSHIPS_DB_PORT": str(settings.db_port),
            "MENTORSHIPS_DB_NAME": settings.db_name,
            "MENTORSHIPS_DB_PASSWORD": settings.db_password.get_secret_value(),
        }
    )
    return env


def dbt_build(settings: Settings, full_refresh: bool) -> dict[str, Any]:
    """One build: wall seconds, and seconds per model and test from run_results.json; exits
    when the rules gave it another kind than asked (full, or incremental)."""
    results = ReportsWorker(settings).place.target_dir / "run_results.json"
    results.unlink(missing_ok=True)
    t0 = time.monotonic()
    run = subprocess.run(
        [str(BIN / "mentorships"), "reports", "build", *(["--full-refresh"] if full_refresh else [])],
        env=build_env(settings), cwd=ROOT, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - t0
    if run.returncode != 0 or not results.exists():
        raise SystemExit(f"dbt build failed:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        kind = conn.execute(
            "select kind from public.report_runs order by id desc limit 1"
        ).fetchone()
    wanted = "full" if full_refresh else "incremental"
    if kind is None or kind[0] != wanted:
        raise SystemExit(f"the build was {kind[0] if kind else 'not recorded'}, not {wanted}")
    data = json.loads(results.read_text())
    nodes = {
        r["unique_id"]: round(r["execution_time"], 2)
        for r in data["results"]
        if r["unique_id"].startswith("model.")
    }
    tests = sum(r["execution_time"] for r in data["results"] if r["unique_id"].startswith("test."))
    return {
        "wall_s": round(wall, 2),
        "dbt_elapsed_s": round(data.get("elapsed_time", 0.0), 2),
        "models_s": nodes,
        "tests_s": round(tests, 1),
        "tests": sum(1 for r in data["results"] if r["unique_id"].startswith("test.")),
    }


def references(settings: Settings) -> dict[str, float]:
    """pg_dump of the app tables to /dev/null and a count(*) of each, in seconds."""
    tables = [arg for t in APP_TABLES for arg in ("-t", t)]
    t0 = time.monotonic()
    subprocess.run(
        [str(PG_BIN / "pg_dump"), "-h", settings.host, "-p", str(settings.db_port), "-U",
         "postgres", "-d", settings.db_name, *tables, "-f", os.devnull],
        env={**os.environ, "PGPASSWORD": settings.db_password.get_secret_value()}, check=True,
    )  # fmt: skip
    dump = time.monotonic() - t0
    t0 = time.monotonic()
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        for t in APP_TABLES:
            conn.execute(f"select count(*) from {t}")  # our constants
    return {"pg_dump_s": round(dump, 1), "count_s": round(time.monotonic() - t0, 1)}


def say(text: str) -> None:
    print(text, flush=True)


def one_size(stack: Stack, sessions: int | None, seed: int, repeat: int) -> dict[str, Any]:
    settings = stack.settings
    if sessions is not None:
        t0 = time.monotonic()
        dataset.build(stack, sessions, seed, say)
        say(f"data set loaded in {time.monotonic() - t0:.1f} s")
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        row = conn.execute("select count(*) from public.sessions").fetchone()
        # Each round moves the clock a day on: the rules would make every build full after
        # report_full_build_hours (24) since the last full one; here the full builds are asked for.
        conn.execute("update public.platform_settings set report_full_build_hours = 720")
    out: dict[str, Any] = {"sessions": row[0] if row else 0}
    out.update(references(settings))
    say(f"references: pg_dump {out['pg_dump_s']} s, count(*) {out['count_s']} s")
    rounds = []
    for n in range(repeat):
        full = dbt_build(settings, full_refresh=True)
        say(f"round {n + 1}: full build {full['wall_s']} s (dbt's own {full['dbt_elapsed_s']} s)")
        with psycopg.connect(settings.dsn()) as conn:
            dataset_day.add_day(conn, progress=say)
            conn.commit()
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            conn.execute("analyze")
        incremental = dbt_build(settings, full_refresh=False)
        say(
            f"round {n + 1}: incremental build {incremental['wall_s']} s "
            f"(dbt's own {incremental['dbt_elapsed_s']} s)"
        )
        rounds.append({"full": full, "incremental": incremental})
    out["rounds"] = rounds

    # the median round by the incremental share (dbt's own time) is the one shown in detail
    def share(r: dict[str, Any], key: str) -> float:
        return 100 * float(r["incremental"][key]) / max(float(r["full"][key]), 0.1)

    out["incremental_pct_of_full"] = round(statistics.median(share(r, "wall_s") for r in rounds), 1)
    out["incremental_pct_of_full_dbt"] = round(
        statistics.median(share(r, "dbt_elapsed_s") for r in rounds), 1
    )
    middle = sorted(rounds, key=lambda r: share(r, "dbt_elapsed_s"))[len(rounds) // 2]
    out["full"], out["incremental"] = middle["full"], middle["incremental"]
    full_wall = statistics.median(r["full"]["wall_s"] for r in rounds)
    out["full_wall_median_s"] = round(full_wall, 1)
    out["full_x_pg_dump"] = round(full_wall / max(out["pg_dump_s"], 0.1), 2)
    out["full_x_count"] = round(full_wall / max(out["count_s"], 0.1), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", default="100000,1000000", help="sizes [100000,1000000]")
    parser.add_argument("--seed", type=int, default=1, help="the data set's seed [1]")
    parser.add_argument("--reuse", action="store_true", help="build on the data set there")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench Postgres running")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of a full and an incremental build [3]"
    )
    args = parser.parse_args()
    sizes: list[int | None] = [int(s) for s in args.sessions.split(",") if s.strip()]
    if args.reuse:
        sizes = [None]
    stack = Stack(bench_settings())
    figures = []
    try:
        stack.postgres.start()
        for size in sizes:
            figures.append(one_size(stack, size, args.seed, max(args.repeat, 1)))
    finally:
        if not args.keep:
            stack.postgres.stop()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for f in figures:
        rounds = f["rounds"]
        print(
            f"\n{f['sessions']:,} sessions, {len(rounds)} round(s) (medians): full build "
            f"{f['full_wall_median_s']} s wall, pg_dump {f['pg_dump_s']} s, count(*) {f['count_s']} s: "
            f"{f['full_x_pg_dump']}x pg_dump, {f['full_x_count']}x count(*); incremental "
            f"{f['incremental_pct_of_full']} % of the full build by wall time, "
            f"{f['incremental_pct_of_full_dbt']} % by dbt's own (goals at 1M: full < 120 s, "
            "incremental < 10 %)"
        )
        for n, r in enumerate(rounds, 1):
            print(
                f"  round {n}: full {r['full']['wall_s']} s ({r['full']['dbt_elapsed_s']} s dbt's own,"
                f" {r['full']['tests']} tests), incremental {r['incremental']['wall_s']} s "
                f"({r['incremental']['dbt_elapsed_s']} s dbt's own, {r['incremental']['tests']} tests)"
            )
        print("  the median round, seconds per model:")
        for model, s in sorted(f["full"]["models_s"].items(), key=lambda kv: -kv[1]):
            inc = f["incremental"]["models_s"].get(model, "-")
            print(f"  {model:60} full {s:7.2f}   incremental {inc}")


if __name__ == "__main__":
    main()
