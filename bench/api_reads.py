"""Reads through the API on the data set of bench/dataset.py: a student's and a mentor's own
sessions and packs (50 rows, RLS deciding what they see) against the same rows read by the
service role (RLS bypassed, the filter written out), through the gateway with real JWTs.

    .venv/bin/python bench/dataset.py --sessions 1000000 --keep
    .venv/bin/python bench/api_reads.py [--requests 300] [--keep]

The busiest student and the busiest mentor of the data set are the readers. Requests of the
cases go in turns, one at a time on one keep-alive connection each, so the machine's noise
falls on all alike; prints each case's median and p95 and the ratio of medians, actor /
service role (the goal: under 1.5). Exits 1 on any answer but 200 or when the actor's rows
differ from the service role's."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentorships import jwt
from mentorships.stack import Stack
from testing.stacks import bench_settings

SESSIONS = "/rest/v1/sessions?select=id,status,starts_at,ends_at,pack_id&order=starts_at.desc,id.desc&limit=50"
# a mentor's own sessions through the RPC made for it (sql/rules/booking/mentor_sessions.sql):
# the same rows in the same order, 50 by default
MENTOR_SESSIONS = "/rest/v1/rpc/mentor_sessions?select=id,status,starts_at,ends_at,pack_id"
PACKS = (
    "/rest/v1/session_packs?select=id,status,remaining_sessions,sessions_total,expires_at"
    "&order=purchased_at.desc,id&limit=50"
)


def busiest(conn: psycopg.Connection, column: str) -> tuple[str, str]:
    """The id and email of the person with the most sessions as `column` (a constant)."""
    row = conn.execute(
        f"select p.id::text, p.email from public.profiles p join ("
        f"  select {column} as id from public.sessions group by 1 order by count(*) desc limit 1"
        ") s on s.id = p.id"
    ).fetchone()
    if row is None:
        raise SystemExit("no sessions: load a data set first (bench/dataset.py --keep)")
    return row[0], row[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="requests per case [300]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    stack = Stack(bench_settings())
    settings = stack.settings
    try:
        stack.postgres.start()
        stack.postgrest.start()
        stack.gateway.start()
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            student, student_email = busiest(conn, "student_id")
            mentor, mentor_email = busiest(conn, "mentor_id")
            total = conn.execute("select count(*) from public.sessions").fetchone()
        service_key = jwt.service_role_key(settings)
        clients = {
            "student": jwt.user_token(settings, student, student_email),
            "mentor": jwt.user_token(settings, mentor, mentor_email),
            "service": service_key,
        }
        cases = {
            "student sessions": ("student", SESSIONS),
            "service sessions (student's)": ("service", f"{SESSIONS}&student_id=eq.{student}"),
            "mentor sessions": ("mentor", SESSIONS),
            "service sessions (mentor's)": ("service", f"{SESSIONS}&mentor_id=eq.{mentor}"),
            # what a mentor's client would send: its own filter next to RLS's
            "mentor sessions, mentor_id filter": ("mentor", f"{SESSIONS}&mentor_id=eq.{mentor}"),
            "mentor sessions, mentor_sessions RPC": ("mentor", MENTOR_SESSIONS),
            "student packs": ("student", PACKS),
            "service packs (student's)": ("service", f"{PACKS}&student_id=eq.{student}"),
            "mentor packs": ("mentor", PACKS),
            "service packs (mentor's)": ("service", f"{PACKS}&mentor_id=eq.{mentor}"),
        }
        http = {
            name: httpx.Client(
                base_url=settings.gateway_url,
                headers={
                    "apikey": service_key if who == "service" else jwt.anon_key(settings),
                    "Authorization": f"Bearer {clients[who]}",
                },
                timeout=30,
            )
            for name, (who, _) in cases.items()
        }
        answers: dict[str, str] = {}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for i in range(args.requests + 10):  # the first 10 warm up and are not counted
            for name, (_, path) in cases.items():
                t0 = time.perf_counter()
                r = http[name].get(path)
                elapsed = time.perf_counter() - t0
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {r.status_code} {r.text[:300]}")
                if i >= 10:
                    times[name].append(elapsed * 1000)
                answers[name] = r.text
        for a, b in (
            ("student sessions", "service sessions (student's)"),
            ("mentor sessions", "service sessions (mentor's)"),
            ("mentor sessions, mentor_id filter", "service sessions (mentor's)"),
            ("mentor sessions, mentor_sessions RPC", "service sessions (mentor's)"),
            ("student packs", "service packs (student's)"),
            ("mentor packs", "service packs (mentor's)"),
        ):
            if json.loads(answers[a]) != json.loads(answers[b]):
                raise SystemExit(f"{a} and {b} answered different rows")
        figures: dict[str, object] = {"sessions_in_database": total[0] if total else 0}
        for name, ms in times.items():
            ms.sort()
            figures[name] = {
                "median_ms": round(statistics.median(ms), 2),
                "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 2),
            }
        ratios = {}
        for actor in ("student", "mentor"):
            for what in ("sessions", "packs"):
                mine = statistics.median(times[f"{actor} {what}"])
                service = statistics.median(times[f"service {what} ({actor}'s)"])
                ratios[f"{actor}/service {what}"] = round(mine / service, 2)
        for way in ("mentor_id filter", "mentor_sessions RPC"):
            ratios[f"mentor/service sessions, {way}"] = round(
                statistics.median(times[f"mentor sessions, {way}"])
                / statistics.median(times["service sessions (mentor's)"]),
                2,
            )
        figures["ratios"] = ratios
        if args.json:
            print(json.dumps(figures, indent=2))
            return
        print(f"{figures['sessions_in_database']:,} sessions; {args.requests} requests a case")
        for name in cases:
            f = figures[name]
            assert isinstance(f, dict)
            print(f"  {name:38} median {f['median_ms']:7.2f} ms  p95 {f['p95_ms']:7.2f} ms")
        for name, ratio in ratios.items():
            print(f"  {name:46} {ratio:.2f}  (goal < 1.5)")
    finally:
        if not args.keep:
            for _ in stack.stop():
                pass


if __name__ == "__main__":
    main()
