"""A soak: the mixed load for a long while with pg_cron's jobs running, memory and table sizes
sampled every minute.

    .venv/bin/python bench/soak.py [--minutes 30] [--book 4] [--availability 4] [--webhook 2]
                                   [--dashboard 4]

On the faults stack (testing/faults/stack.py: its own cluster and ports, MENTORSHIPS_TEST_PORTS
or 28320; every worker on, the providers faked; pg_cron's jobs running on the real clock) with
the load generator's world, runs the load (testing/faults/load.py) for --minutes, topping up the
webhooks' orders each minute. Samples, at the start and every minute: the memory (PSS) of
each component (with its child processes; Postgres's shared memory segment apart, as "postgres
shared": it fills as pages are read, up to its fixed shared_memory_size, which is its verdict)
and the size of each table with its indexes.
Prints the samples, then for each series its first and last value and whether it levels off
(its second half grew less than a third of its first half's growth, or under 5 % or 1 MB). A
table that grows with the data it holds (sessions, messages) does not level off under a steady
load; a process's memory should. Exits 1 when a request failed (5xx, 429 or no answer) or a
process's memory did not level off."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.faults import soak
from testing.faults import world as world_
from testing.faults.load import DEFAULT_RATES, Load
from testing.faults.measure import rates
from testing.faults.stack import running_faults_stack

TABLES_SHOWN = 12  # the largest at the end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="how long (default 30)")
    for kind, default in DEFAULT_RATES.items():
        parser.add_argument(f"--{kind}", type=float, default=default, help=f"{kind} requests/s")
    args = parser.parse_args(argv)
    chosen = {kind: getattr(args, kind) for kind in DEFAULT_RATES}
    per_minute = int(chosen["webhook"] * 60) + 10
    memory: list[dict[str, float]] = []
    tables: list[dict[str, float]] = []
    with running_faults_stack() as faults:
        settings, stack = faults.settings, faults.stack
        secret = stack.services.effective_settings().stripe_webhook_secret
        assert secret is not None
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            shared_cap = soak.shared_memory_mb(conn)
            jobs = conn.execute("select count(*) from cron.job where active").fetchone()
            print(f"pg_cron: {jobs[0] if jobs else 0} active job(s)", flush=True)
            world = world_.build(conn, settings, faults.google)
            load = Load(settings, world, secret.get_secret_value(), rates=chosen)
            load.add_orders(world.orders(conn, min(per_minute, world_.SHOP_SEATS)))
            memory.append(soak.memory(stack))
            tables.append(soak.table_sizes(conn))
            t0 = time.time()
            load.start()
            try:
                for minute in range(1, int(args.minutes * 60 + 59) // 60 + 1):
                    end = t0 + min(minute * 60, args.minutes * 60)
                    load.add_orders(world.orders(conn, min(per_minute, world_.SHOP_SEATS)))
                    time.sleep(max(0.0, end - time.time()))
                    memory.append(soak.memory(stack))
                    tables.append(soak.table_sizes(conn))
                    held = rates(load.samples, end - 60, end)
                    failures = sum(1 for s in load.samples if s.failed)
                    print(f"minute {minute}: {held} failed {failures}; MB {memory[-1]}", flush=True)
            finally:
                load.stop()
            t1 = time.time()
    failed = [s for s in load.samples if s.failed]
    print(f"\n{len(load.samples)} requests in {t1 - t0:.0f} s, {len(failed)} failed; held")
    print(f"  {rates(load.samples, t0, t1)}")
    print("\nmemory (MB, proportional set size): first -> last, levels off?")
    flat = True
    for name in memory[0]:
        series = [m[name] for m in memory]
        if name == soak.SHARED:
            # A fixed-size segment filling as pages are read: bounded, not leaking.
            ok = series[-1] <= shared_cap * 1.01
            verdict = f"bounded by shared_memory_size {shared_cap:g}" if ok else "OVER its size"
        else:
            ok = soak.levels_off(series)
            verdict = "yes" if ok else "NO"
        flat = flat and ok
        print(f"  {name:<15} {series[0]:>8} -> {series[-1]:>8}  {verdict}  {series}")
    print("\ntables with their indexes (MB), the largest: first -> last, levels off?")
    largest = sorted(tables[-1], key=lambda t: -tables[-1][t])[:TABLES_SHOWN]
    for name in largest:
        series = [t.get(name, 0.0) for t in tables]
        ok = soak.levels_off(series)
        print(f"  {name:<40} {series[0]:>8} -> {series[-1]:>8}  {'yes' if ok else 'no (grows)'}")
    return 1 if failed or not flat else 0


if __name__ == "__main__":
    sys.exit(main())
