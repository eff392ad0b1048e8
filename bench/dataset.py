"""A data set at the shape of a real platform, in the bench stack's database (ports 263xx),
REPLACING what was there: the schema is reset and applied, then written in bulk.

    .venv/bin/python bench/dataset.py --sessions 1000000 [--seed 1] [--keep]

About 300 mentors and 40,000 students at a million sessions (scaled with --sessions): products
in usd and eur, promotion codes, orders (paid, expired, canceled, refunded, flagged; Stripe and
PayPal), payments (some refunded), packs, seats, two years of sessions up to the frozen clock
(2026-11-30 12:00 UTC) and four weeks ahead, the credit ledger and the outbox. Then every
invariant of testing/invariants.py is checked; exits 1 when one fails. Shows rows and seconds
per table. The other benchmarks reset the bench database when they start: run this one again
after them. bench/api_reads.py and bench/reports.py read what it leaves."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentorships import db
from mentorships.stack import Stack
from testing import dataset, invariants
from testing.stacks import bench_settings


def build(stack: Stack, sessions: int, seed: int, say: Callable[[str], None]) -> dict[str, int]:
    """Reset the bench database, write the data set, vacuum, check the invariants (SystemExit
    when one fails); Postgres must run. Returns the rows written per table."""
    settings = stack.settings
    say("bench database: reset, schema applied (what was there is gone)")
    db.reset(settings)
    db.apply(settings)
    db.psql(settings, "-c", "update cron.job set active = false", what="pausing pg_cron")
    with psycopg.connect(settings.dsn()) as conn:
        counts = dataset.load(conn, sessions, seed, say)
        conn.commit()
    t0 = time.monotonic()
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        conn.execute("vacuum analyze")
        say(f"vacuum analyze ({time.monotonic() - t0:.1f} s)")
        t0 = time.monotonic()
        results = invariants.check(conn)
    say(f"checked {len(results)} invariants ({time.monotonic() - t0:.1f} s)")
    failed = invariants.broken(results)
    for name, n in failed.items():
        say(f"  BROKEN {name}: {n} rows")
    if failed:
        raise SystemExit(1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions, about [100000]")
    parser.add_argument("--seed", type=int, default=1, help="random seed [1]")
    parser.add_argument("--keep", action="store_true", help="leave the bench Postgres running")
    args = parser.parse_args()
    if not 100 <= args.sessions <= 5_000_000:
        parser.error("--sessions takes 100 to 5,000,000")
    stack = Stack(bench_settings())
    started = time.monotonic()
    try:
        stack.postgres.start()
        build(stack, args.sessions, args.seed, lambda s: print(s, flush=True))
        print(f"total {time.monotonic() - started:.1f} s")
    finally:
        if not args.keep:
            stack.postgres.stop()


if __name__ == "__main__":
    main()
