"""What the two wrk benchmarks (bench/availability.py, bench/booking.py) share: their command
line, their bench stack, and wrk (a C load generator, like pgbench a client that costs little
CPU) through its gateway, with the CPU time the stack's Postgres and PostgREST spent meanwhile.
Their Lua scripts (get.lua, book.lua) read one request a line and print a WRK_RESULT line."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mentorships import jwt
from mentorships.stack import Stack
from testing.stacks import bench_settings

THREADS = 2
POSTGREST_POOL = 20  # PostgREST's database connections on the bench stack both benchmarks share


@dataclass
class Measured:
    data: dict[str, Any]  # the script's WRK_RESULT: seconds, statuses, latencies, ...
    cpu_s: dict[str, float]  # CPU seconds used during the run, by process group


def options(doc: str | None, *, clients_help: str, seconds_help: str) -> argparse.Namespace:
    """The command line both benchmarks take, parsed and checked; wrk must be installed."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32, help=clients_help)
    parser.add_argument("--seconds", type=int, default=10, help=seconds_help)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported [3]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    parser.add_argument(
        "--rate-limits",
        choices=("on", "off"),
        default="on",
        help="the gateway's rate limits: on, at limits no client reaches, or off [on]",
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 600 or not 1 <= args.repeat <= 15:
        parser.error("--clients takes 1-200, --seconds 1-600, --repeat 1-15")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: run `make setup` (or apt-get install wrk)")
    return args


def bench_stack(rate_limits: str = "on") -> Stack:
    """The bench stack (testing.stacks.bench_settings) with PostgREST's pool at POSTGREST_POOL,
    the gateway's rate limits on (never refusing) or off."""
    return Stack(
        bench_settings(postgrest_db_pool=POSTGREST_POOL, rate_limit_enabled=rate_limits == "on")
    )


def cpu_seconds(stack: Stack) -> dict[tuple[str, int], float]:
    """CPU seconds (user + system) so far of the stack's Postgres processes (the postmaster's
    children: backends, autovacuum, WAL writer, ...) and of PostgREST, by (group, pid)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((stack.postgres.p.pgdata / "postmaster.pid").read_text().split()[0])
    postgrest = stack.postgrest.pid()
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid, ppid = int(entry), int(fields[1])
        group = "postgres" if ppid == postmaster else "postgrest" if pid == postgrest else None
        if group:
            out[(group, pid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def measure(
    stack: Stack, script: Path, lines: list[str], seconds: int, connections: int
) -> Measured:
    """wrk with `connections` connections for `seconds`, the script cycling through `lines`."""
    settings = stack.settings
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(f"{line}\n" for line in lines))
    cpu_before = cpu_seconds(stack)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(THREADS),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            settings.gateway_url,
            "--",
            f.name,
            str(THREADS),
            jwt.anon_key(settings),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    cpu_after = cpu_seconds(stack)
    Path(f.name).unlink()
    if out.returncode != 0:
        raise SystemExit(f"wrk failed: {out.stderr or out.stdout}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_RESULT "))
    cpu_s: dict[str, float] = {}
    for (group, pid), used in cpu_after.items():
        cpu_s[group] = cpu_s.get(group, 0.0) + used - cpu_before.get((group, pid), 0.0)
    return Measured(json.loads(line.removeprefix("WRK_RESULT ")), cpu_s)
