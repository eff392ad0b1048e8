"""The calendar sync as a component of the stack (mentorships/stack/gcal_worker.py) and what
`status` shows of it: started with the environment the stack renders (pointed here at the strict
Google fake), healthy by its health file, a connected mentor synced, `status` listing each
connected mentor's last sync in the reader's zone (named), fresh, then revoked; stopped with the
stack. The clock is frozen in 2002, where only this test's mentor is due."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
from pydantic import SecretStr

from mentorships.settings import Settings
from mentorships.stack import GcalWorker
from sync.gcal.sealing import TokenKeys
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.gcal import connect_mentor
from testing.services import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_REDIRECT_URI,
    GOOGLE_TOKEN_KEY_1,
)

UTC = dt.UTC
NOW = dt.datetime(2002, 6, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def google() -> Iterator[GoogleFake]:
    fake = GoogleFake(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        redirect_uri=GOOGLE_REDIRECT_URI,
    )
    try:
        yield fake
        fake.verify()
    finally:
        fake.close()


@pytest.fixture
def with_google(settings: Settings, google: GoogleFake) -> Settings:
    """The test stack with a Google client of its own (the fake), the calendar sync on."""
    return settings.model_copy(
        update={
            "gcal_worker": True,
            "google_client_id": GOOGLE_CLIENT_ID,
            "google_client_secret": SecretStr(GOOGLE_CLIENT_SECRET),
            "google_token_keys": SecretStr(GOOGLE_TOKEN_KEY_1),
            "google_oauth_base": google.url,
            "google_api_base": google.url,
        }
    )


@pytest.fixture
def gcal(with_google: Settings, clock: Clock, conn: psycopg.Connection) -> Iterator[GcalWorker]:
    conn.execute("update private.calendar_sync_state set next_sync_at = 'infinity'")
    clock.freeze(NOW)
    worker = GcalWorker(with_google)
    worker.stop()
    try:
        yield worker
    finally:
        worker.stop()


def status(settings: Settings, google: GoogleFake) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")},
        "TZ": "America/New_York",
        "MENTORSHIPS_STACK": settings.stack,
        "MENTORSHIPS_GATEWAY_PORT": str(settings.gateway_port),
        "MENTORSHIPS_DB_PORT": str(settings.db_port),
        "MENTORSHIPS_POSTGREST_PORT": str(settings.postgrest_port),
        "MENTORSHIPS_POSTGREST_ADMIN_PORT": str(settings.postgrest_admin_port),
        "MENTORSHIPS_SERVICES_PORT": str(settings.services_port),
        "MENTORSHIPS_MESSAGES_WORKER": "false",
        "MENTORSHIPS_GCAL_WORKER": "true",
        "MENTORSHIPS_REPORTS_WORKER": "false",
        "MENTORSHIPS_DASHBOARDS": "false",
        "MENTORSHIPS_DASHBOARDS_PORT": str(settings.dashboards_port),
        "MENTORSHIPS_GOOGLE_CLIENT_ID": GOOGLE_CLIENT_ID,
        "MENTORSHIPS_GOOGLE_CLIENT_SECRET": GOOGLE_CLIENT_SECRET,
        "MENTORSHIPS_GOOGLE_TOKEN_KEYS": GOOGLE_TOKEN_KEY_1,
        "MENTORSHIPS_GOOGLE_OAUTH_BASE": google.url,
        "MENTORSHIPS_GOOGLE_API_BASE": google.url,
    }
    out = subprocess.run(
        [sys.executable, "-m", "mentorships.cli", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return out.stdout


def wait_for(conn: psycopg.Connection, query: str, mentor: object) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = conn.execute(query, (mentor,)).fetchone()
        if row and row[0]:
            return
        time.sleep(0.2)
    raise AssertionError(f"not within 30 s: {query}")


def test_the_stack_runs_the_sync_and_status_shows_each_mentor(
    gcal: GcalWorker,
    with_google: Settings,
    google: GoogleFake,
    scenario: Scenario,
    conn: psycopg.Connection,
) -> None:
    keys = TokenKeys.from_settings(gcal.gcal_settings())
    mentor = connect_mentor(scenario, google, keys, time_zone="Europe/Berlin")
    name = conn.execute(
        "select public_name from public.mentors where id = %s", (mentor.mentor,)
    ).fetchone()
    assert name is not None

    assert "stopped" in next(x for x in status(with_google, google).splitlines() if "gcal" in x)
    assert gcal.start()
    assert not gcal.start()  # running with the same settings: a no-op
    assert gcal.healthy()
    wait_for(
        conn,
        "select last_synced_at is not null from private.calendar_sync_state where mentor_id = %s",
        mentor.mentor,
    )
    out = status(with_google, google)
    line = next(x for x in out.splitlines() if x.strip().startswith("gcal"))
    assert "healthy" in line and "connected mentor(s), times in America/New_York" in line
    # synced at NOW, 12:00 UTC: 08:00 in New York (summer time)
    assert f"{name[0]}: last synced 2002-06-03 08:00, fresh" in out

    google.revoke_account(mentor.email)
    conn.execute(
        "update private.calendar_sync_state set next_sync_at = %s where mentor_id = %s",
        (NOW, mentor.mentor),
    )
    wait_for(
        conn,
        "select revoked_at is not null from private.google_credentials where mentor_id = %s",
        mentor.mentor,
    )
    out = status(with_google, google)
    assert f"{name[0]}: last synced 2002-06-03 08:00, REVOKED 2002-06-03 08:00" in out

    assert gcal.stop()
    assert gcal.pid() is None
    assert "stopped" in next(x for x in status(with_google, google).splitlines() if "gcal" in x)
