"""Booking throughput through the gateway, next to pgbench on the same database in the same run.

    .venv/bin/python bench/booking.py [--clients 32] [--seconds 10] [--rate-limits on|off]

On a stack of its own (`bench`, ports 263xx; a running demo or test stack is not touched), wrk
books distinct free slots, one connection per client: `spread` (each client its own mentor) and
`hot` (all the same mentor); then `pgbench -b tpcb-like` runs with as many clients. Reports
requests/s, bookings/s, p50/p95 latency, outcomes, WAL and CPU per booking, and the ratio to
pgbench's TPS. Exits 1 when any request got a 5xx.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import wrk  # bench/wrk.py

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.factories import Scenario
from testing.stacks import running_bench_stack

LUA = Path(__file__).resolve().parent / "book.lua"
T0 = dt.datetime(2027, 1, 4, 0, 0, tzinfo=dt.UTC)  # a Monday; the clock is frozen here
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
PACKS_PER_STUDENT = 20  # 52 credits each: ~1000 bookings a client, so no round runs out and repeats
SLOT_MINUTES = 15  # the hot mentor's slots for 32 clients then fit in its one-year booking horizon


@dataclass
class Client:
    student: uuid.UUID
    packs: list[uuid.UUID]
    slots: list[dt.datetime]
    token: str = ""

    def share(self, n: int, of: int) -> Client:
        """The n-th of `of` equal shares of this client's bookings (one per round, so no round
        repeats another's)."""
        k = len(self.slots) // of // 52 * 52
        return Client(
            self.student,
            self.packs[n * k // 52 : (n + 1) * k // 52],
            self.slots[n * k : (n + 1) * k],
            self.token,
        )


@dataclass
class Result:
    name: str
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    wal_bytes: int = 0  # write-ahead log written during the run, all of it
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds used, by process group

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def booked_per_s(self) -> float:
        """Successful bookings per second: the throughput compared with pgbench."""
        return self.statuses[200] / self.seconds

    def summary(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "rps": round(self.rps, 1),
            "bookings_per_s": round(self.booked_per_s, 1),
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "wal_kb_per_booking": round(self.wal_bytes / max(self.statuses[200], 1) / 1024, 1),
            "cpu_ms_per_booking": {
                k: round(v / max(self.statuses[200], 1) * 1000, 2) for k, v in self.cpu_s.items()
            },
            "ok": self.statuses[200],
            "conflict_409": self.statuses[409],
            "other_4xx": sum(n for s, n in self.statuses.items() if 400 <= s < 500 and s != 409),
            "server_5xx": sum(n for s, n in self.statuses.items() if s >= 500),
        }


def mentor(scenario: Scenario) -> uuid.UUID:
    """A mentor free all week with short slots and no notice, buffer or seat shortage."""
    return scenario.mentor(
        "UTC",
        working_hours=ALL_WEEK,
        capacity=500,
        slot=SLOT_MINUTES,
        grid=SLOT_MINUTES,
        buffer=0,
        notice=0,
        horizon=365,
    )


def pack_for(scenario: Scenario, mentor_id: uuid.UUID, student: uuid.UUID) -> list[uuid.UUID]:
    """PACKS_PER_STUDENT packs of 52 sessions on one seat and one product (Scenario.pack would
    make a product per pack)."""
    conn = scenario.conn
    product = scenario.product(mentor_id, price_cents=100, sessions=52, days=730)
    seat = conn.execute(
        "insert into public.seat_reservations (mentor_id, student_id, status, activated_at)"
        " values (%s, %s, 'active', %s) returning id",
        (mentor_id, student, T0),
    ).fetchone()
    assert seat
    packs = []
    for _ in range(PACKS_PER_STUDENT):
        row = conn.execute(
            "insert into public.session_packs (student_id, mentor_id, product_id, seat_reservation_id,"
            " sessions_total, remaining_sessions, price_cents, currency, grace_period_hours, cancel_notice_hours,"
            " purchased_at, expires_at) values (%s, %s, %s, %s, 52, 52, 100, 'usd', 72, 24, %s, %s) returning id",
            (
                student,
                mentor_id,
                product,
                seat[0],
                T0 - dt.timedelta(days=1),
                T0 + dt.timedelta(days=729),
            ),
        ).fetchone()
        assert row
        packs.append(row[0])
    return packs


def prepare(settings: Settings, clients: int) -> tuple[list[Client], list[Client]]:
    """Spread: one mentor per client. Hot: one shared mentor, each client its own slots on it."""
    slots = [
        T0 + dt.timedelta(days=1, minutes=SLOT_MINUTES * i)
        for i in range(PACKS_PER_STUDENT * 52 * clients)
    ]
    with psycopg.connect(settings.dsn(), autocommit=True) as conn, conn.transaction():
        conn.execute("update private.clock set frozen_at = %s", (T0,))
        scenario = Scenario(conn, settings)
        spread = []
        for _ in range(clients):
            student = scenario.person("student")
            packs = pack_for(scenario, mentor(scenario), student)
            spread.append(Client(student, packs, slots[: PACKS_PER_STUDENT * 52]))
        hot_mentor = mentor(scenario)
        hot = []
        for i in range(clients):
            student = scenario.person("student")
            hot.append(Client(student, pack_for(scenario, hot_mentor, student), slots[i::clients]))
    for c in spread + hot:
        c.token = jwt.user_token(settings, c.student, None, ttl_seconds=3600)
    return spread, hot


def wal_lsn(settings: Settings) -> int:
    """Bytes of write-ahead log written so far (the insert position)."""
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        row = conn.execute("select pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()
    assert row
    return int(row[0])


def run(stack: Stack, name: str, clients: list[Client], seconds: int, connections: int) -> Result:
    """wrk with one connection per client, cycling through every client's bookings in turn."""
    settings = stack.settings
    rows = []
    for i in range(max(len(c.slots) for c in clients)):
        for c in clients:
            if i < len(c.slots):
                rows.append(f"{c.token}|{c.packs[i // 52]}|{c.slots[i].isoformat()}")
    wal_before = wal_lsn(settings)
    measured = wrk.measure(stack, LUA, rows, seconds, connections)
    data = measured.data
    result = Result(name, float(data["seconds"]))
    result.statuses = Counter({int(k): int(v) for k, v in data["statuses"].items()})
    result.p50_ms, result.p95_ms = data["p50_us"] / 1000, data["p95_us"] / 1000
    result.wal_bytes = wal_lsn(settings) - wal_before
    result.cpu_s = measured.cpu_s
    return result


def pgbench(settings: Settings, clients: int, seconds: int) -> float:
    env = {"PGPASSWORD": settings.db_password.get_secret_value(), "PATH": "/usr/bin:/bin"}
    base = ["-h", settings.host, "-p", str(settings.db_port), "-U", "postgres"]
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", "10", *base, settings.db_name],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            "pgbench",
            "-b",
            "tpcb-like",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            *base,
            settings.db_name,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    subprocess.run(
        ["pgbench", "-i", "-I", "d", *base, settings.db_name],
        env=env,
        check=True,
        capture_output=True,
    )
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    assert match, out
    return float(match.group(1))


def main() -> int:
    args = wrk.options(
        __doc__,
        clients_help="concurrent clients (20-50 in the issue) [32]",
        seconds_help="duration of each measurement [10]",
    )
    stack = wrk.bench_stack(args.rate_limits)
    settings = stack.settings
    print(f"bench stack on {settings.rest_url} (Postgres {settings.db_port})", file=sys.stderr)
    with running_bench_stack(stack, keep=args.keep):
        print(
            f"loading {2 * args.clients} students and {args.clients + 1} mentors ...",
            file=sys.stderr,
        )
        spread, hot = prepare(settings, args.clients)
        rounds: list[tuple[Result, Result, float]] = []
        for n in range(args.repeat):
            print(
                f"round {n + 1}/{args.repeat}: spread, hot, pgbench ({args.seconds} s each) ...",
                file=sys.stderr,
            )
            r_spread = run(
                stack,
                "spread",
                [c.share(n, args.repeat) for c in spread],
                args.seconds,
                args.clients,
            )
            r_hot = run(
                stack, "hot", [c.share(n, args.repeat) for c in hot], args.seconds, args.clients
            )
            rounds.append((r_spread, r_hot, pgbench(settings, args.clients, args.seconds)))

    # the round whose ratio is the median stands for the run; every round's ratio is listed too
    by_spread = sorted(rounds, key=lambda r: r[0].booked_per_s / r[2])
    by_hot = sorted(rounds, key=lambda r: r[1].booked_per_s / r[2])
    r_spread, _, tps_spread = by_spread[len(rounds) // 2]
    _, r_hot, tps_hot = by_hot[len(rounds) // 2]
    tps = statistics.median(r[2] for r in rounds)
    fivexx = sum(int(str(x.summary()["server_5xx"])) for r in rounds for x in r[:2])
    figures = {
        "clients": args.clients,
        "rate_limits": args.rate_limits,
        "seconds": args.seconds,
        "rounds": args.repeat,
        "spread": r_spread.summary(),
        "hot": r_hot.summary(),
        "pgbench_tps_median": round(tps, 1),
        "ratio_spread_median": round(r_spread.booked_per_s / tps_spread, 3),
        "ratio_hot_median": round(r_hot.booked_per_s / tps_hot, 3),
        "ratios_spread": [round(r[0].booked_per_s / r[2], 3) for r in rounds],
        "ratios_hot": [round(r[1].booked_per_s / r[2], 3) for r in rounds],
        "server_5xx_total": fivexx,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"\n{'case':<8} {'req/s':>8} {'booked/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'200':>7} {'409':>6} {'4xx':>5} {'5xx':>5}"
            f" {'WAL kB/b':>9} {'vs pgbench':>11}"
        )
        for r, round_tps in ((r_spread, tps_spread), (r_hot, tps_hot)):
            f = r.summary()
            print(
                f"{r.name:<8} {f['rps']:>8} {f['bookings_per_s']:>9} {f['p50_ms']:>8} {f['p95_ms']:>8} {f['ok']:>7} {f['conflict_409']:>6}"
                f" {f['other_4xx']:>5} {f['server_5xx']:>5} {f['wal_kb_per_booking']:>9} {r.booked_per_s / round_tps:>10.1%}"
            )
        print(
            f"{'pgbench':<8} {tps:>8.1f}  (tpcb-like TPS, same database, {args.clients} clients; median)"
        )
        for r in (r_spread, r_hot):
            cpu = r.summary()["cpu_ms_per_booking"]
            assert isinstance(cpu, dict)
            print(
                f"{r.name}: CPU per booking {cpu.get('postgres', 0.0)} ms Postgres (backends and"
                f" background workers), {cpu.get('postgrest', 0.0)} ms PostgREST"
            )
        print(
            f"\nmedian of {args.repeat} rounds; ratio per round: spread {figures['ratios_spread']},"
            f" hot {figures['ratios_hot']}; 5xx in all rounds: {fivexx}"
        )
    return 1 if fivexx else 0


if __name__ == "__main__":
    sys.exit(main())
