"""One fault under load, run and measured: the load started, the fault done after a warm-up,
the load kept on, then drained; the outage window, what was retried, and how long the workers
took to catch up. The run's table is printed at the end and written to
.local/test-output/faults.json."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from mentorships.settings import PROJECT_DIR
from testing.faults.load import Load
from testing.faults.measure import Window, rates, window

WARMUP_SECONDS = 4.0
AFTER_SECONDS = 10.0
OUTPUT = PROJECT_DIR / ".local" / "test-output" / "faults.json"


@dataclass
class Record:
    fault: str
    outage_seconds: float  # the fault to the first success after it (0: no request failed)
    fault_seconds: float  # how long the fault itself took (kill and restart)
    settle_seconds: float  # after the load: until no message due and no calendar job open
    failed: dict[str, int]  # failed requests by kind, all inside the window
    retried: dict[str, int]  # webhook resends, cancels sent again, messages and jobs tried again
    held: dict[str, float]  # answered requests per second by kind during the run
    extra: dict[str, Any] = field(default_factory=dict)


RECORDS: list[Record] = []
EXTRA: dict[str, dict[str, Any]] = {}  # other figures of the run (the backup drill's)


def under_load(
    load: Load, fault: Callable[[], None], after: float = AFTER_SECONDS
) -> tuple[Window, float, float, float]:
    """Runs the load, does `fault` after the warm-up, keeps the load on `after` seconds; the
    window, how long the fault took, and the load's start and end."""
    load.start()
    t0 = time.time()
    try:
        time.sleep(WARMUP_SECONDS)
        at = time.time()
        fault()
        took = time.time() - at
        time.sleep(after)
    finally:
        load.stop()
    t1 = time.time()
    load.drain()
    return window(load.samples, at), round(took, 2), t0, t1


def retried(conn: psycopg.Connection, load: Load, since: float) -> dict[str, int]:
    def count(sql: str) -> int:
        row = conn.execute(sql, (since,)).fetchone()
        return int(row[0]) if row else 0

    return {
        "webhook_resends": sum(max(e.sends - 1, 0) for e in load.events),
        "cancel_resends": sum(1 for s in load.samples if s.kind == "cancel") - load.booked,
        "messages_retried": count(
            "select count(*) from public.notifications"
            " where attempts > 1 and created_at >= to_timestamp(%s)"
        ),
        "calendar_jobs_retried": count(
            "select count(*) from private.calendar_jobs"
            " where attempts > 1 and requested_at >= to_timestamp(%s)"
        ),
    }


def record(
    fault: str,
    win: Window,
    took: float,
    settled: float,
    load: Load,
    conn: psycopg.Connection,
    t0: float,
    t1: float,
    **extra: Any,
) -> Record:
    r = Record(
        fault,
        win.outage_seconds,
        took,
        settled,
        win.failed,
        retried(conn, load, t0),
        rates(load.samples, t0, t1),
        extra,
    )
    RECORDS.append(r)
    return r


def table(records: list[Record]) -> list[str]:
    head = f"{'fault':<24} {'outage s':>8} {'fault s':>7} {'settle s':>8}  failed / retried"
    lines = [head, "-" * len(head)]
    for r in records:
        retries = ", ".join(f"{k} {v}" for k, v in r.retried.items() if v)
        failed = ", ".join(f"{k} {v}" for k, v in r.failed.items()) or "none"
        caught_up = r.extra.get("caught_up_seconds")
        lines.append(
            f"{r.fault:<24} {r.outage_seconds:>8} {r.fault_seconds:>7} {r.settle_seconds:>8}"
            f"  failed: {failed}; retried: {retries or 'nothing'}"
            + (f"; caught up {caught_up} s after its start" if caught_up is not None else "")
        )
    return lines


def write(records: list[Record], path: Path = OUTPUT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = {"faults": [asdict(r) for r in records], **EXTRA}
    path.write_text(json.dumps(out, indent=2) + "\n")
