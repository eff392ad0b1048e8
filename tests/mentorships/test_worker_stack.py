"""The outbox dispatcher as a component of the stack (mentorships.stack.worker) and what a user
sees of it: `status` with the worker stopped (the queue waiting) and running (healthy, the queue
drained, each channel's transport), and `mentorships mail` listing and showing what it delivered.
The test stack leaves the worker out (MENTORSHIPS_MESSAGES_WORKER=false); this test starts it
with the clock frozen in 2002, when only this test's messages are due."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest

from mentorships.settings import Settings
from mentorships.stack import Worker
from testing.clock import Clock
from testing.dispatch import World, WorldFactory, forget_messages
from testing.factories import Scenario

UTC = dt.UTC


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")},
        "MENTORSHIPS_STACK": settings.stack,
        "MENTORSHIPS_GATEWAY_PORT": str(settings.gateway_port),
        "MENTORSHIPS_DB_PORT": str(settings.db_port),
        "MENTORSHIPS_POSTGREST_PORT": str(settings.postgrest_port),
        "MENTORSHIPS_POSTGREST_ADMIN_PORT": str(settings.postgrest_admin_port),
        "MENTORSHIPS_SERVICES_PORT": str(settings.services_port),
        "MENTORSHIPS_PAYPAL_LOCAL_PORT": str(settings.paypal_local_port),
        "MENTORSHIPS_MESSAGES_WORKER": "true",
        "MENTORSHIPS_GCAL_WORKER": "false",
        "MENTORSHIPS_REPORTS_WORKER": "false",
        "MENTORSHIPS_DASHBOARDS": "false",
        "MENTORSHIPS_DASHBOARDS_PORT": str(settings.dashboards_port),
        "MENTORSHIPS_GOOGLE_LOCAL": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "mentorships.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def world(scenario: Scenario, clock: Clock, conn: psycopg.Connection) -> Iterator[World]:
    try:
        yield WorldFactory(scenario, clock)()
    finally:
        forget_messages(conn)


@pytest.fixture
def worker(settings: Settings) -> Iterator[Worker]:
    w = Worker(settings.model_copy(update={"messages_worker": True}))
    w.stop()
    shutil.rmtree(w.mail_dir, ignore_errors=True)
    try:
        yield w
    finally:
        w.stop()


def line(out: str, name: str) -> str:
    return next(x for x in out.splitlines() if x.strip().startswith(name))


def test_status_shows_the_queue_and_the_worker_and_mail_shows_what_it_delivered(
    world: World, worker: Worker, settings: Settings
) -> None:
    out = run(settings, "mail")
    assert out.returncode == 0, out.stderr
    assert f"no messages in {worker.mail_dir}." in out.stdout
    assert "`mentorships up` starts it" in out.stdout

    world.book(dt.datetime(2002, 3, 5, 15, 0, tzinfo=UTC))  # 4 messages due now
    out = run(settings, "status")
    assert out.returncode == 1  # the worker is stopped
    assert "stopped" in line(out.stdout, "worker")
    assert "queue: 4 due, the oldest for 0 s" in line(out.stdout, "worker")

    assert worker.start()
    out = run(settings, "status")
    assert out.returncode == 0, out.stdout
    status = line(out.stdout, "worker")
    assert "healthy" in status and "queue: nothing due" in status
    assert f"email to file ({worker.mail_dir})" in status
    assert f"discord to file ({worker.mail_dir})" in status

    out = run(settings, "mail", "--tz", "Asia/Tokyo")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"4 message(s) in {worker.mail_dir}, newest first (times in Asia/Tokyo):"
    # queued at T, Monday 4 March 2002 12:00 UTC: 21:00 in Tokyo
    assert all("Mon 04 Mar 2002 21:00" in x for x in lines[1:5])
    assert sorted(x.split()[6] for x in lines[1:5]) == ["discord", "discord", "email", "email"]
    assert any("Ben Ito" in x and "Session booked: Tue 5 Mar 2002, 16:00" in x for x in lines)

    out = run(settings, "mail", "--channel", "email", "--tz", "UTC")
    assert out.stdout.splitlines()[0].startswith("2 message(s)")
    out = run(settings, "mail", "--channel", "email", "--show", "1", "--tz", "Europe/Berlin")
    assert out.returncode == 0, out.stderr
    assert "when:    Mon 04 Mar 2002 13:00 Europe/Berlin" in out.stdout
    assert "invite:  REQUEST" in out.stdout
    assert "links:   3" in out.stdout
    assert "Your session with" in out.stdout
    out = run(settings, "mail", "--show", "99")
    assert out.returncode == 1 and "--show 99: no such message" in out.stderr

    assert worker.stop()
    out = run(settings, "status")
    assert "stopped" in line(out.stdout, "worker")
