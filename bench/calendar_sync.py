"""The calendar sync at scale, next to the Google fake's own request rate in the same run.

    .venv/bin/python bench/calendar_sync.py [--mentors 200] [--events 500] [--repeat 3]

On a stack of its own (`bench`, ports 263xx; a running demo or test stack is not touched):
--mentors mentors connected to the strict Google fake (in this process), --events busy events
each in their window, the clock frozen. Each round: a full sync of every mentor (the sync tokens
dropped first), then 1 % of the events moved and an incremental sync, both through the real
worker code (sync.gcal.worker.Syncer: claim, token refresh, events.list page by page, report);
then the same number of events.list pages fetched with the bare client (one grant, the same
threads): the fake's own rate. Prints seconds, mentors/s and pages/s per round and the medians,
and each sync's time relative to the bare fetch of its pages. Exits 1 when a sync leaves a mentor
unsynced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentorships import jwt
from mentorships.stack import Stack
from sync.gcal.google import calendar_api, user_credentials
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings, load
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.fakes.google_events import event
from testing.gcal import Connected, connect_mentor
from testing.services import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_REDIRECT_URI,
    GOOGLE_TOKEN_KEY_1,
)
from testing.stacks import bench_settings, running_bench_stack

T0 = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)  # the clock is frozen here, then moved on
PAGE = 250


def events_for(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """n half-hour to two-hour events over the next 50 days."""
    out = []
    for i in range(n):
        start = T0 + dt.timedelta(minutes=30 * rng.randrange(50 * 48))
        out.append(event(f"e{i}", start, start + dt.timedelta(minutes=30 * rng.randint(1, 4))))
    return out


def pages_of(events: int) -> int:
    return max(1, -(-events // PAGE))


def bare_fetch(settings: GcalSettings, c: Connected, pages: int, threads: int) -> float:
    """Seconds to fetch `pages` full events.list pages of one calendar with the bare client
    (a token refresh per thread, then pages as the sync asks for them)."""

    def work(n: int) -> None:
        calendar = calendar_api(settings, user_credentials(settings, c.grant.refresh_token))
        for _ in range(n):
            calendar.events().list(
                calendarId=c.email,
                singleEvents=True,
                timeMin=(T0 - dt.timedelta(days=1)).isoformat(),
                timeMax=(T0 + dt.timedelta(days=90)).isoformat(),
                maxResults=PAGE,
            ).execute()

    shares = [pages // threads + (i < pages % threads) for i in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, shares))
    return time.perf_counter() - started


def synced(conn: psycopg.Connection, since: dt.datetime) -> int:
    row = conn.execute(
        "select count(*) from private.calendar_sync_state where last_synced_at >= %s", (since,)
    ).fetchone()
    return int(row[0]) if row else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mentors", type=int, default=200)
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=4, help="MENTORSHIPS_GCAL_CONCURRENCY")
    ap.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = ap.parse_args()
    settings = bench_settings(google_local=False, gcal_worker=False)
    google = GoogleFake(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        redirect_uri=GOOGLE_REDIRECT_URI,
    )
    gcal = load(
        supabase_url=settings.gateway_url,
        supabase_service_role_key=jwt.service_role_key(settings),
        google_client_id=GOOGLE_CLIENT_ID,
        google_client_secret=GOOGLE_CLIENT_SECRET,
        google_token_keys=GOOGLE_TOKEN_KEY_1,
        google_oauth_base=google.url,
        google_api_base=google.url,
        gcal_concurrency=args.concurrency,
        gcal_batch_size=50,
    )
    rng = random.Random(12)
    rows: list[dict[str, Any]] = []
    failed = False
    with (
        running_bench_stack(Stack(settings), keep=args.keep),
        psycopg.connect(settings.dsn(), autocommit=True) as conn,
    ):
        clock = Clock(conn)
        clock.freeze(T0)
        scenario = Scenario(conn, settings)
        keys = TokenKeys.from_settings(gcal)
        print(f"connecting {args.mentors} mentors with {args.events} events each ...", flush=True)
        mentors = [connect_mentor(scenario, google, keys) for _ in range(args.mentors)]
        stored = {}
        for c in mentors:
            stored[c.email] = events_for(rng, args.events)
            for e in stored[c.email]:
                google.events.put(c.email, c.email, e)
        now = T0
        for r in range(1, args.repeat + 1):
            syncer = Syncer(gcal, f"bench-{r}")
            # full: every token dropped, every mentor due
            now += dt.timedelta(hours=1)
            clock.freeze(now)
            conn.execute("update private.calendar_sync_calendars set sync_token = null")
            conn.execute("update private.calendar_sync_state set next_sync_at = %s", (now,))
            google.events.lists.clear()
            started = time.perf_counter()
            syncer.drain()
            full_s = time.perf_counter() - started
            full_pages = len(google.events.lists)
            full_ok = synced(conn, now)
            # incremental: 1 % of the events moved, every mentor due again
            for c in mentors:
                for e in rng.sample(stored[c.email], max(1, args.events // 100)):
                    shift = dt.timedelta(minutes=30 * rng.randint(-4, 4) or 30)
                    start = dt.datetime.fromisoformat(e["start"]["dateTime"]) + shift
                    end = dt.datetime.fromisoformat(e["end"]["dateTime"]) + shift
                    moved = event(e["id"], start, end)
                    stored[c.email][stored[c.email].index(e)] = moved
                    google.events.put(c.email, c.email, moved)
            now += dt.timedelta(hours=1)
            clock.freeze(now)
            conn.execute("update private.calendar_sync_state set next_sync_at = %s", (now,))
            google.events.lists.clear()
            started = time.perf_counter()
            syncer.drain()
            incr_s = time.perf_counter() - started
            incr_pages = len(google.events.lists)
            incr_ok = synced(conn, now)
            syncer.close()
            bare_s = bare_fetch(gcal, mentors[0], full_pages, args.concurrency)
            failed |= full_ok != args.mentors or incr_ok != args.mentors
            row = {
                "full_s": full_s,
                "full_pages": full_pages,
                "incr_s": incr_s,
                "incr_pages": incr_pages,
                "bare_s": bare_s,
                "bare_pages_s": full_pages / bare_s,
                "full_ratio": full_s / bare_s,
                "synced": (full_ok, incr_ok),
            }
            rows.append(row)
            print(
                f"round {r}: full {full_s:.2f} s ({args.mentors / full_s:.0f} mentors/s, "
                f"{full_pages} pages, {full_ok} synced); incremental {incr_s:.2f} s "
                f"({args.mentors / incr_s:.0f} mentors/s, {incr_pages} lists, {incr_ok} synced); "
                f"bare client {full_pages} pages in {bare_s:.2f} s ({row['bare_pages_s']:.0f} "
                f"pages/s); full sync / bare fetch {row['full_ratio']:.2f}x",
                flush=True,
            )

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in rows)

    print(
        f"medians of {len(rows)} rounds, {args.mentors} mentors x {args.events} events: "
        f"full sync {med('full_s'):.2f} s, incremental (1 % changed) {med('incr_s'):.2f} s, "
        f"bare client {med('bare_pages_s'):.0f} pages/s, full sync / bare fetch of its pages "
        f"{med('full_ratio'):.2f}x"
    )
    google.close()
    if failed:
        print("a sync left mentors unsynced", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
