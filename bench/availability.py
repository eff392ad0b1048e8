"""Availability reads through the gateway, next to a trivial GET through the same gateway in the same run.

    .venv/bin/python bench/availability.py [--clients 32] [--seconds 10] [--repeat 3]

On a stack of its own (`bench`, ports 263xx; a running demo or test stack is not touched), with
one mentor's hours, bookings and busy times loaded and the clock frozen, wrk sends as anon, for
--seconds each: a trivial GET, mentor_availability for one day, and for 28 days. Reports
requests/s, latency, CPU per request and each case's time relative to the trivial GET's, per
round and as medians. Exits 1 on any answer other than 200 or a socket error.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import urllib.parse
import uuid
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import wrk  # bench/wrk.py

from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.api import Api, ok
from testing.factories import Scenario
from testing.stacks import running_bench_stack

LUA = Path(__file__).resolve().parent / "get.lua"
ZONE = "America/New_York"
T0 = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)  # a Monday; the clock is frozen here
WORKING_HOURS = [
    {"weekday": 1, "start": "09:00", "end": "12:00"},
    {"weekday": 1, "start": "13:00", "end": "18:00"},
    *({"weekday": d, "start": "09:00", "end": "17:00"} for d in range(2, 6)),
    {"weekday": 6, "start": "10:00", "end": "14:00"},
]
DAYS = 28  # ranges start on each of the 28 local days after T0 (notice and horizon allow all)
GOALS = {"day": 1.5, "4 weeks": 3.0}  # at most this many times the trivial GET's time per request


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    requests: int = 0
    mean_ms: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    socket_errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds used, by process group

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def cpu_ms_per_request(self, group: str) -> float:
        return self.cpu_s.get(group, 0.0) / max(self.requests, 1) * 1000

    @property
    def failures(self) -> int:
        return self.socket_errors + sum(n for s, n in self.statuses.items() if s != 200)


@dataclass
class World:
    mentor: uuid.UUID
    sessions: list[tuple[dt.datetime, dt.datetime]]  # booked, with their buffer
    busy: list[tuple[dt.datetime, dt.datetime]]


def local_midnight(day: int) -> dt.datetime:
    """The start of the day-th local day after T0 in the mentor's zone."""
    d = (T0.astimezone(zoneinfo.ZoneInfo(ZONE)) + dt.timedelta(days=day)).date()
    return dt.datetime.combine(d, dt.time(), zoneinfo.ZoneInfo(ZONE))


def availability_path(mentor: uuid.UUID, from_at: dt.datetime, to_at: dt.datetime) -> str:
    """The RPC as a GET under /rest/v1; the instants carry their offset, URL-encoded (a `+` would
    read as a space)."""
    query = urllib.parse.urlencode(
        {"mentor_id": str(mentor), "from_at": from_at.isoformat(), "to_at": to_at.isoformat()}
    )
    return f"/rpc/mentor_availability?{query}"


def prepare(settings: Settings) -> World:
    """One mentor with a few booked sessions (booked through the gateway) and busy times."""
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        conn.execute("update private.clock set frozen_at = %s", (T0,))
        scenario = Scenario(conn, settings)
        mentor = scenario.mentor(
            ZONE, working_hours=WORKING_HOURS, slot=60, grid=30, buffer=15, notice=720, horizon=60
        )
        student = scenario.person("student")
        pack = scenario.pack(mentor, student, sessions=20, purchased_at=T0, days=365)
        sessions = []
        for day in (1, 2, 4, 8, 9, 15, 22, 23):
            listed = ok(
                scenario.api(None).get(
                    availability_path(mentor, local_midnight(day), local_midnight(day + 1))
                )
            )
            starts_at = dt.datetime.fromisoformat(listed[len(listed) // 2]["starts_at"])
            ok(scenario.api(student).rpc("book_session", pack_id=pack, starts_at=starts_at))
            sessions.append((starts_at, starts_at + dt.timedelta(minutes=75)))
        busy = [
            (
                local_midnight(3) + dt.timedelta(hours=h),
                local_midnight(3) + dt.timedelta(hours=h + 2),
            )
            for h in (10, 15)
        ] + [(local_midnight(11), local_midnight(12))]
        for starts_at, ends_at in busy:
            conn.execute(
                "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at)"
                " values (%s, %s, %s)",
                (mentor, starts_at, ends_at),
            )
        scenario.close()
    return World(mentor, sessions, busy)


def check(settings: Settings, world: World) -> int:
    """One four-week listing, checked: sorted, on the half hour, clear of sessions and busy
    times. Returns its number of slots."""
    anon = Api(settings, None)
    try:
        listed = ok(
            anon.get(availability_path(world.mentor, local_midnight(1), local_midnight(1 + DAYS)))
        )
    finally:
        anon.http.close()
    starts = [dt.datetime.fromisoformat(s["starts_at"]) for s in listed]
    assert starts and starts == sorted(starts), "the listing is empty or not sorted"
    for s in starts:
        assert s.astimezone(zoneinfo.ZoneInfo(ZONE)).minute in (0, 30), s
        end = s + dt.timedelta(minutes=75)
        for lo, hi in world.sessions + world.busy:
            assert not (s < hi and lo < end), f"{s} overlaps {lo}..{hi}"
    return len(starts)


def run(stack: Stack, name: str, paths: list[str], seconds: int, connections: int) -> Result:
    """wrk with one connection per client, cycling through the paths."""
    measured = wrk.measure(stack, LUA, [f"/rest/v1{p}" for p in paths], seconds, connections)
    data = measured.data
    return Result(
        name,
        seconds=float(data["seconds"]),
        requests=int(data["requests"]),
        mean_ms=float(data["mean_us"]) / 1000,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        socket_errors=int(data["socket_errors"]),
        statuses=Counter({int(k): int(v) for k, v in data["statuses"].items()}),
        cpu_s=measured.cpu_s,
    )


def figures(r: Result, trivial: Result) -> dict[str, float]:
    return {
        "rps": r.rps,
        "mean_ms": r.mean_ms,
        "p50_ms": r.p50_ms,
        "p95_ms": r.p95_ms,
        "postgres_cpu_ms": r.cpu_ms_per_request("postgres"),
        "postgrest_cpu_ms": r.cpu_ms_per_request("postgrest"),
        # time per request relative to the trivial GET's: its throughput over this case's
        "x_trivial": trivial.rps / r.rps,
        "x_trivial_mean_latency": r.mean_ms / trivial.mean_ms,
    }


def main() -> int:
    args = wrk.options(
        __doc__, clients_help="concurrent clients [32]", seconds_help="duration of each case [10]"
    )
    stack = wrk.bench_stack(args.rate_limits)
    settings = stack.settings
    print(f"bench stack on {settings.rest_url} (Postgres {settings.db_port})", file=sys.stderr)
    rounds: list[dict[str, dict[str, float]]] = []
    failures = 0
    with running_bench_stack(stack, keep=args.keep):
        world = prepare(settings)
        slots = check(settings, world)
        print(f"one mentor, {slots} slots in four weeks", file=sys.stderr)
        cases = {
            "trivial": ["/platform_settings?select=cancel_notice_hours&limit=1"],
            "day": [
                availability_path(world.mentor, local_midnight(d), local_midnight(d + 1))
                for d in range(1, DAYS + 1)
            ],
            "4 weeks": [
                availability_path(world.mentor, local_midnight(d), local_midnight(d + DAYS))
                for d in range(1, DAYS + 1)
            ],
        }
        for n in range(args.repeat):
            print(
                f"round {n + 1}/{args.repeat}: {', '.join(cases)} ({args.seconds} s each) ...",
                file=sys.stderr,
            )
            results = {
                name: run(stack, name, paths, args.seconds, args.clients)
                for name, paths in cases.items()
            }
            failures += sum(r.failures for r in results.values())
            rounds.append({name: figures(r, results["trivial"]) for name, r in results.items()})
            for name, r in results.items():
                if r.failures:
                    print(
                        f"  {name}: {dict(r.statuses)}, {r.socket_errors} socket errors",
                        file=sys.stderr,
                    )

    medians = {
        name: {k: statistics.median(r[name][k] for r in rounds) for k in rounds[0][name]}
        for name in rounds[0]
    }
    if args.json:
        print(
            json.dumps(
                {
                    "clients": args.clients,
                    "seconds": args.seconds,
                    "rounds": rounds,
                    "medians": medians,
                    "failures": failures,
                },
                indent=2,
            )
        )
    else:
        print(
            f"\n{'case':<8} {'req/s':>8} {'mean ms':>8} {'p50 ms':>7} {'p95 ms':>7}"
            f" {'PG CPU ms':>10} {'PostgREST CPU ms':>17} {'x trivial':>10} {'goal':>6}"
        )
        for name, f in medians.items():
            goal = f"{GOALS[name]}x" if name in GOALS else ""
            print(
                f"{name:<8} {f['rps']:>8.0f} {f['mean_ms']:>8.2f} {f['p50_ms']:>7.2f} {f['p95_ms']:>7.2f}"
                f" {f['postgres_cpu_ms']:>10.3f} {f['postgrest_cpu_ms']:>17.3f} {f['x_trivial']:>10.2f} {goal:>6}"
            )
        print(
            f"\nmedians of {args.repeat} rounds, {args.clients} clients, {args.seconds} s per case;"
            f" CPU per request; x trivial = the trivial GET's requests/s over the case's"
        )
        for name in GOALS:
            per_round = [round(r[name]["x_trivial"], 2) for r in rounds]
            met = "met" if medians[name]["x_trivial"] <= GOALS[name] else "NOT met"
            print(f"{name}: x trivial per round {per_round}; goal {GOALS[name]}x {met}")
        print(f"answers other than 200 and socket errors, all rounds: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
