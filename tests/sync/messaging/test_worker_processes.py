"""Dispatcher processes (`python -m testing.dispatch`: the real worker with the file transport)
against the test stack: a worker killed with SIGKILL mid-batch and a second one after the lease
ran out deliver every message exactly once; two workers draining in parallel deliver each
message once; LISTEN wakes a worker within a moment of a booking's commit; SIGTERM finishes and
reports the sends in flight. Counted in the mail folder (one file per dedupe key) and in the
database."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mentorships.settings import Settings
from sync.messaging.files import file_stem
from testing.clock import Clock
from testing.dispatch import (
    WorkerProcess,
    World,
    files,
    worker_settings,
)
from testing.queued import queue_warnings, statuses, wait_for

UTC = dt.UTC


@pytest.fixture
def procs() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.kill()


def delivered_once(mail: Path, keys: list[str], channels: dict[str, str]) -> None:
    names = [p.name for p in files(mail)]
    expected = sorted(file_stem(k) + (".eml" if channels[k] == "email" else ".json") for k in keys)
    assert sorted(names) == expected  # every message one file, no other


def test_a_worker_killed_mid_batch_then_a_second_after_the_lease_deliver_each_message_once(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    clock: Clock,
    procs: list[WorkerProcess],
) -> None:
    keys = queue_warnings(world, 15)  # 30 messages: 15 emails, 15 DMs
    channels = {r["dedupe_key"]: r["channel"] for r in world.messages()}
    mail = tmp_path / "mail"
    ws = worker_settings(
        settings,
        mail,
        messages_batch_size=40,
        messages_lease_seconds=60,
        messages_status_file=tmp_path / "w1.json",
    )
    first = WorkerProcess(ws, "w1", tmp_path / "w1.log", stall_after=5)
    procs.append(first)
    # the DMs go out, 5 emails do, the other 10 hang in the transport
    wait_for(lambda: len(files(mail)) == 20, what="20 files")
    time.sleep(0.2)
    first.kill()
    assert statuses(conn, world) == {"sending": 30}  # killed before it reported any
    assert len(files(mail)) == 20
    clock.advance(dt.timedelta(seconds=61))  # the lease ran out
    second = WorkerProcess(
        worker_settings(settings, mail, messages_status_file=tmp_path / "w2.json"),
        "w2",
        tmp_path / "w2.log",
    )
    procs.append(second)
    wait_for(lambda: statuses(conn, world) == {"sent": 30}, what="all sent")
    assert second.stop() == 0
    delivered_once(mail, keys, channels)
    rows = conn.execute(
        "select claimed_by, attempts, last_error, count(*) from public.notifications"
        " where recipient_id = %s group by 1, 2, 3",
        (world.student,),
    ).fetchall()
    assert rows == [("w2", 2, "the lease of w1 ran out", 30)]


def test_two_workers_draining_in_parallel_deliver_each_message_once(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    procs: list[WorkerProcess],
) -> None:
    keys = queue_warnings(world, 150)  # 300 messages
    channels = {r["dedupe_key"]: r["channel"] for r in world.messages()}
    mail = tmp_path / "mail"
    for name in ("w1", "w2"):
        ws = worker_settings(
            settings, mail, messages_batch_size=10, messages_status_file=tmp_path / f"{name}.json"
        )
        procs.append(WorkerProcess(ws, name, tmp_path / f"{name}.log"))
    wait_for(lambda: statuses(conn, world) == {"sent": 300}, timeout=60, what="all sent")
    for p in procs:
        assert p.stop() == 0
    delivered_once(mail, keys, channels)
    by: dict[str, int] = dict(
        conn.execute(
            "select claimed_by, count(*) from public.notifications where recipient_id = %s"
            " and attempts = 1 group by 1",
            (world.student,),
        ).fetchall()
    )
    assert sum(by.values()) == 300
    assert set(by) == {"w1", "w2"}, f"one worker did everything: {by}"


def test_listen_wakes_the_worker_within_a_second_of_a_booking_commit(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    procs: list[WorkerProcess],
) -> None:
    mail = tmp_path / "mail"
    status_file = tmp_path / "w.json"
    ws = worker_settings(settings, mail, messages_poll_seconds=60, messages_status_file=status_file)
    worker = WorkerProcess(ws, "w1", tmp_path / "w.log")
    procs.append(worker)
    worker.wait_status(status_file, lambda s: s["listening"])
    time.sleep(0.3)  # the loop is waiting now (its first drain found nothing)
    started = time.monotonic()
    world.book(dt.datetime(2002, 3, 5, 15, 0, tzinfo=UTC))
    wait_for(lambda: len(files(mail)) == 4, timeout=10, what="the booking's 4 messages")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"delivered {elapsed:.2f} s after the commit (the poll is 60 s)"
    status = worker.wait_status(status_file, lambda s: s["sent"] == 4)
    assert status["transports"] == {"email": f"file ({mail})", "discord": f"file ({mail})"}
    assert worker.stop() == 0


def test_sigterm_finishes_and_reports_the_sends_in_flight(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    procs: list[WorkerProcess],
) -> None:
    queue_warnings(world, 100)
    mail = tmp_path / "mail"
    status_file = tmp_path / "w.json"
    ws = worker_settings(settings, mail, messages_batch_size=50, messages_status_file=status_file)
    worker = WorkerProcess(ws, "w1", tmp_path / "w.log")
    procs.append(worker)
    wait_for(lambda: len(files(mail)) > 0, what="a first file")
    assert worker.stop() == 0
    counts = statuses(conn, world)
    assert "sending" not in counts, counts  # whatever it sent, it reported
    assert counts.get("sent", 0) == len(files(mail))
    final = worker.wait_status(status_file, lambda s: s["stopped"], timeout=1)
    assert final["sent"] == counts["sent"]
