"""Each component killed (or restarted) under a steady mixed load (testing/faults/load.py), then
started again: no 5xx or connection error outside the outage window (the fault to the first
success after it, under OUTAGE_BOUND), every webhook applied exactly once (orders paid once, one
inbox row per event id), every due message delivered exactly once at the fakes, every calendar
job applied once (each mentor's Google calendar holds exactly their scheduled sessions), and the
invariants of testing/invariants.py hold."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import psycopg
import pytest

from testing.faults import checks, record
from testing.faults.load import Load
from testing.faults.stack import Faults
from testing.faults.world import LoadWorld

OUTAGE_BOUND = 10.0  # seconds
WORKER_DOWN_SECONDS = 3.0  # a killed worker stays down this long: messages and jobs pile up


def kill9(pid: int | None) -> None:
    assert pid, "the component is not running"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # our child (the stack started it here): reaped, not a zombie


def faults_of(f: Faults, caught_up: dict[str, float]) -> dict[str, Callable[[], None]]:
    """Each fault; a worker's also measures how long the started worker took to catch up (no
    message due, no calendar job open: `caught_up`)."""
    s = f.stack

    def catch_up() -> None:
        with psycopg.connect(f.settings.dsn(), autocommit=True) as conn:
            caught_up["seconds"] = checks.settle(conn, timeout=60)

    def postgrest() -> None:
        kill9(s.postgrest.pid())
        s.postgrest.start()

    def postgres() -> None:
        s.postgres.stop()  # pg_ctl stop -m fast
        s.postgres.start()

    def services() -> None:
        kill9(s.services.pid())
        s.services.start()

    def dispatcher() -> None:
        kill9(s.worker.pid())
        time.sleep(WORKER_DOWN_SECONDS)
        s.worker.start()
        catch_up()

    def calendar() -> None:
        kill9(s.gcal.pid())
        time.sleep(WORKER_DOWN_SECONDS)
        s.gcal.start()
        catch_up()

    return {
        "postgrest killed": postgrest,
        "postgres restarted": postgres,
        "services killed": services,
        "dispatcher killed": dispatcher,
        "calendar sync killed": calendar,
    }


@pytest.mark.parametrize(
    "fault",
    [
        "postgrest killed",
        "postgres restarted",
        "services killed",
        "dispatcher killed",
        "calendar sync killed",
    ],
)
def test_survives(
    fault: str,
    faults: Faults,
    world: LoadWorld,
    load: Load,
    conn: psycopg.Connection,
    request: pytest.FixtureRequest,
) -> None:
    since = checks.last_message_id(conn)
    caught_up: dict[str, float] = {}
    win, took, t0, t1 = record.under_load(load, faults_of(faults, caught_up)[fault])
    # a connection of its own after the fault (a Postgres restart ended the fixture's)
    conn = psycopg.connect(faults.settings.dsn(), autocommit=True, prepare_threshold=None)
    request.addfinalizer(conn.close)
    settled = checks.settle(conn)
    r = record.record(
        fault, win, took, settled, load, conn, t0, t1, caught_up_seconds=caught_up.get("seconds")
    )
    assert not win.outside, f"failures outside the outage window: {win.outside[:5]}"
    assert r.outage_seconds < OUTAGE_BOUND, r
    assert load.booked > 0 and r.held.get("webhook", 0) > 0, r
    assert checks.webhooks(conn, load) == []
    assert checks.messages(conn, faults.resend, faults.discord, since) == []
    assert checks.calendar(conn, faults.google, world) == []
    assert checks.invariants_hold(conn) == {}
