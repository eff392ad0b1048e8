"""A steady mixed load on a faults stack of its own (testing/faults/), reported by kind.

    .venv/bin/python bench/load.py [--seconds 30] [--book 4] [--availability 4] [--webhook 2]
                                   [--dashboard 4] [--keep]

Starts the faults stack (ports MENTORSHIPS_TEST_PORTS, default 28320..28399; every worker on,
Resend, Discord and Google at the strict fakes), builds its world (3 mentors connected to
Google, 24 students with a pack each, pending Stripe orders), then runs the load
(testing/faults/load.py: bookings then cancels, availability reads, signed Stripe webhooks each
sent until acknowledged, dashboard reads) for --seconds at the given rates (requests per second
by kind; 0 leaves a kind out). Prints requests per second held and statuses by kind, and the
5xx/429/connection-error count. Exits 1 when any request failed or an event was never acknowledged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.faults import world as world_
from testing.faults.load import Load
from testing.faults.measure import rates, statuses
from testing.faults.stack import running_faults_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="how long (default 30)")
    for kind, default in (
        ("book", 4.0),
        ("availability", 4.0),
        ("webhook", 2.0),
        ("dashboard", 4.0),
    ):
        parser.add_argument(f"--{kind}", type=float, default=default, help=f"{kind} requests/s")
    args = parser.parse_args(argv)
    with running_faults_stack() as faults:
        settings = faults.settings
        secret = faults.stack.services.effective_settings().stripe_webhook_secret
        assert secret is not None
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            world = world_.build(conn, settings, faults.google)
            load = Load(
                settings,
                world,
                secret.get_secret_value(),
                rates={
                    "book": args.book,
                    "availability": args.availability,
                    "webhook": args.webhook,
                    "dashboard": args.dashboard,
                },
            )
            load.add_orders(world.orders(conn, int(args.webhook * args.seconds) + 5))
            t0 = time.time()
            load.run(args.seconds)
            t1 = time.time()
            left = load.drain()
        held = rates(load.samples, t0, t1)
        failed = [s for s in load.samples if s.failed]
        print(f"{len(load.samples)} requests in {t1 - t0:.1f} s; booked {load.booked}")
        for kind, by_status in statuses(load.samples).items():
            print(f"  {kind:<13} {held.get(kind, 0):>7.2f}/s  {by_status}")
        print(
            f"failed (5xx, 429 or no answer): {len(failed)}; events never acknowledged: {len(left)}"
        )
        return 1 if failed or left else 0


if __name__ == "__main__":
    sys.exit(main())
