"""Each component killed (or restarted) under a steady mixed load (testing/faults/load.py), then
started again: no 5xx or connection error outside the outage window (the fault to the first
success after it, under OUTAGE_BOUND), every webhook applied exactly once (orders paid once, one
inbox row per event id), every due message delivered exactly once at the fakes, every calendar
job applied once (each mentor's Google calendar holds exactly their scheduled sessions), and the
invariants of testing/invariants.py hold."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest

from testing.faults import checks, record
from testing.faults.load import Load
from testing.faults.stack import Faults
from testing.faults.world import LoadWorld

OUTAGE_BOUND = 10.0  # seconds
BURST = 10  # grace warnings to every student, queued just before the dispatcher is killed
CLAIMED_MESSAGES = "select count(*) from public.notifications where status = 'sending'"
CLAIMED_JOBS = """select count(*) from private.calendar_jobs
                   where processed_at is null and locked_until > now()"""
QUEUE = (
    "select private.notify_many(%s::uuid[], array['grace_warning']::public.notification_kind[],"
    " array[%s], array[null]::timestamptz[], %s::jsonb)"
)
WORKER_DOWN_SECONDS = 3.0  # a killed worker stays down this long: messages and jobs pile up


def kill9(pid: int | None) -> None:
    assert pid, "the component is not running"
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)  # our child (the stack started it here): reaped, not a zombie


def burst(f: Faults, world: LoadWorld) -> None:
    """BURST messages to each student (and the Discord DMs of those who linked it), committed
    at once; returns once the dispatcher claimed some."""
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)
    payload = json.dumps(
        {
            "seat_id": None,
            "mentor_id": str(world.mentors[0].mentor),
            "grace_ends_at": ends.isoformat(),
        }
    )
    people = [s.id for s in world.students]
    with psycopg.connect(f.settings.dsn(), autocommit=True) as conn, conn.transaction():
        for _ in range(BURST):
            conn.execute(QUEUE, (people, f"faults-burst:{uuid.uuid4()}", payload))
    claimed(f, CLAIMED_MESSAGES)


def claimed(f: Faults, query: str) -> None:
    """Returns once `query` counts a claim a worker holds (it is mid-batch then)."""
    with psycopg.connect(f.settings.dsn(), autocommit=True) as conn:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            row = conn.execute(query).fetchone()
            if row and row[0]:
                return
    raise AssertionError(f"no claim within 5 s: {query}")


def faults_of(
    f: Faults, world: LoadWorld, caught_up: dict[str, float]
) -> dict[str, Callable[[], None]]:
    """Each fault; a worker's also measures how long the started worker took to catch up (no
    message due, no calendar job open: `caught_up`). The workers are killed holding a claim (the
    dispatcher after a burst of messages): what they claimed waits for the lease (10 s), then
    goes out again with the same idempotency keys and event ids."""
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
        burst(f, world)
        kill9(s.worker.pid())
        time.sleep(WORKER_DOWN_SECONDS)
        s.worker.start()
        catch_up()

    def calendar() -> None:
        claimed(f, CLAIMED_JOBS)
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
    win, took, t0, t1 = record.under_load(load, faults_of(faults, world, caught_up)[fault])
    # a connection of its own after the fault (a Postgres restart ended the fixture's)
    conn = psycopg.connect(faults.settings.dsn(), autocommit=True, prepare_threshold=None)
    request.addfinalizer(conn.close)
    settled = checks.settle(conn)
    repeats = len(faults.resend.requests) - len(faults.resend.deliveries)
    r = record.record(
        fault, win, took, settled, load, conn, t0, t1, caught_up_seconds=caught_up.get("seconds")
    )
    # requests Resend answered from its idempotency memory (a message sent again), ever
    r.retried["resend_repeats_so_far"] = repeats
    assert not win.outside, f"failures outside the outage window: {win.outside[:5]}"
    assert r.outage_seconds < OUTAGE_BOUND, r
    assert load.booked > 0 and r.held.get("webhook", 0) > 0, r
    assert checks.webhooks(conn, load) == []
    assert checks.messages(conn, faults.resend, faults.discord, since) == []
    assert checks.calendar(conn, faults.google, world) == []
    assert checks.invariants_hold(conn) == {}
