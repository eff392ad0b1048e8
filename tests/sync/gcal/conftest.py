"""Fixtures of the session-event tests (test_events.py, test_changes.py; test_busy.py has its
own): the calendar worker as the tests run it (Google's client against the strict fake, the test
stack), the frozen clock with other tests' syncs and jobs parked (`frozen`: the modules use it
for every test), a connected mentor whose calendar is synced and a student's pack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings, load
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.gcal import Connected, connect_mentor
from testing.services import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, GOOGLE_TOKEN_KEY_1
from tests.sync.gcal.events_setup import CALL_PAGE, NOW


@pytest.fixture
def gcal_settings(settings: Settings, google_server: GoogleFake) -> GcalSettings:
    return load(
        supabase_url=settings.gateway_url,
        supabase_service_role_key=jwt.service_role_key(settings),
        google_client_id=GOOGLE_CLIENT_ID,
        google_client_secret=GOOGLE_CLIENT_SECRET,
        google_token_keys=GOOGLE_TOKEN_KEY_1,
        google_oauth_base=google_server.url,
        google_api_base=google_server.url,
        gcal_concurrency=2,
        gcal_http_timeout_seconds=1.0,
        call_page_url=CALL_PAGE,
    )


@pytest.fixture
def syncer(gcal_settings: GcalSettings) -> Iterator[Syncer]:
    s = Syncer(gcal_settings, "test-worker")
    yield s
    s.close()


@pytest.fixture
def keys(gcal_settings: GcalSettings) -> TokenKeys:
    return TokenKeys.from_settings(gcal_settings)


@pytest.fixture
def frozen(clock: Clock, conn: psycopg.Connection) -> Clock:
    """The clock frozen at NOW; the syncs and calendar jobs other tests left are parked, so a
    drain here works on this test's mentors only."""
    conn.execute("update private.calendar_sync_state set next_sync_at = 'infinity'")
    conn.execute(
        "update private.calendar_jobs set processed_at = now(), outcome = 'skipped',"
        " last_error = 'parked by a test' where processed_at is null"
    )
    clock.freeze(NOW)
    return clock


@pytest.fixture
def mentor(scenario: Scenario, google_api: GoogleFake, keys: TokenKeys) -> Connected:
    return connect_mentor(scenario, google_api, keys)


@pytest.fixture
def student(scenario: Scenario) -> uuid.UUID:
    return scenario.person("student")


@pytest.fixture
def pack(scenario: Scenario, mentor: Connected, student: uuid.UUID, syncer: Syncer) -> uuid.UUID:
    """A pack with the (synced, so bookable) connected mentor."""
    p = scenario.pack(mentor.mentor, student, purchased_at=NOW)
    assert syncer.drain() == 1
    return p
