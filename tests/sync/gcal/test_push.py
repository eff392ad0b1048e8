"""Push, over real HTTP: the calendar sync (sync.gcal.worker.Syncer, Google's own client) opens
events.watch channels at the strict fake (testing/fakes/google_channels.py), the fake POSTs
notifications to the services served on 127.0.0.1 (POST /webhooks/google), and the worker, woken
by LISTEN, syncs the mentor. Wrong token and unknown channel refused with nothing written; a right
one synced within a second; renewal before expiry and the old channel stopped; disconnect stops
the channels; without a webhook address no channels, polling. The clock is frozen: Mon 4 Jan 2027
06:00 UTC."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from sync.gcal.channels import Channels
from sync.gcal.settings import GcalSettings, load
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.fakes.google_events import event
from testing.gcal import Connected, connect_mentor
from testing.services import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, GOOGLE_TOKEN_KEY_1

UTC = dt.UTC
NOW = dt.datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
TUE = dt.datetime(2027, 1, 5, tzinfo=UTC)


def gcal_settings(settings: Settings, google: GoogleFake, **values: Any) -> GcalSettings:
    return load(
        supabase_url=settings.gateway_url,
        supabase_service_role_key=jwt.service_role_key(settings),
        google_client_id=GOOGLE_CLIENT_ID,
        google_client_secret=GOOGLE_CLIENT_SECRET,
        google_token_keys=GOOGLE_TOKEN_KEY_1,
        google_oauth_base=google.url,
        google_api_base=google.url,
        gcal_concurrency=2,
        **values,
    )


@pytest.fixture
def pushed(settings: Settings, google_api: GoogleFake, served: str) -> GcalSettings:
    """The sync's settings with the served services' webhook address and LISTEN."""
    return gcal_settings(
        settings,
        google_api,
        google_webhook_url=f"{served}/webhooks/google",
        gcal_database_url=settings.dsn(),
        gcal_poll_seconds=60,
    )


@pytest.fixture
def syncer(pushed: GcalSettings) -> Iterator[Syncer]:
    s = Syncer(pushed, "push-worker")
    yield s
    s.close()


@pytest.fixture
def channels(syncer: Syncer, pushed: GcalSettings) -> Channels:
    return Channels(pushed, syncer.keys, syncer.rpc, syncer.worker_name)


@pytest.fixture(autouse=True)
def frozen(clock: Clock, conn: psycopg.Connection, google_api: GoogleFake) -> Clock:
    """The clock frozen at NOW (the fake's channel clock too); other tests' syncs and channels
    parked, so a drain here works on this test's mentors only."""
    conn.execute(
        "update public.mentor_calendars set counts_as_busy = false, receives_events = false"
    )
    conn.execute("update private.calendar_sync_state set next_sync_at = 'infinity'")
    conn.execute("update private.calendar_channels set stopped_at = now() where stopped_at is null")
    clock.freeze(NOW)
    google_api.channels.now = NOW
    return clock


@pytest.fixture
def mentor(scenario: Scenario, google_api: GoogleFake, syncer: Syncer) -> Connected:
    return connect_mentor(scenario, google_api, syncer.keys)


def row(conn: psycopg.Connection, sql: str, *args: Any) -> Any:
    found = conn.execute(sql, args).fetchone()
    assert found is not None
    return found


def channel_rows(conn: psycopg.Connection, mentor: uuid.UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select id::text, resource_id, opened_at, expires_at, stop_after, stopped_at"
        " from private.calendar_channels where mentor_id = %s order by created_at, id",
        (mentor,),
    ).fetchall()


def next_sync(conn: psycopg.Connection, mentor: uuid.UUID) -> dt.datetime:
    value: dt.datetime = row(
        conn, "select next_sync_at from private.calendar_sync_state where mentor_id = %s", mentor
    )[0]
    return value


def refused(response: Any, status: int, code: str, details: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert (body["code"], body["details"]) == (code, details)


def test_a_channel_is_opened_on_connect_and_the_safety_net_is_longer(
    mentor: Connected,
    google_api: GoogleFake,
    syncer: Syncer,
    channels: Channels,
    conn: psycopg.Connection,
) -> None:
    assert channels.drain() == 1
    (live,) = google_api.channels.live(mentor.email, mentor.email)
    assert live.address == syncer.settings.google_webhook_url
    assert live.expires_at == NOW + dt.timedelta(days=7)
    ((channel_id, resource_id, opened_at, expires_at, stop_after, stopped_at),) = channel_rows(
        conn, mentor.mentor
    )
    assert (channel_id, resource_id, opened_at, expires_at) == (
        live.id,
        live.resource_id,
        NOW,
        live.expires_at,
    )
    assert stop_after is None and stopped_at is None
    assert channels.drain() == 0  # live: nothing more to open
    assert syncer.drain() == 1
    assert next_sync(conn, mentor.mentor) == NOW + dt.timedelta(seconds=3600)  # not 300


def test_a_wrong_token_or_an_unknown_channel_is_refused_and_nothing_written(
    mentor: Connected,
    google_api: GoogleFake,
    syncer: Syncer,
    channels: Channels,
    conn: psycopg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channels.drain()
    syncer.drain()
    (live,) = google_api.channels.live(mentor.email, mentor.email)
    before = next_sync(conn, mentor.mentor)
    caplog.set_level(logging.DEBUG)
    wrong = google_api.channels.notify(live.id, token="not-the-token")
    refused(wrong, 403, "PT403", "X-Goog-Channel-Token")
    unknown = google_api.channels.notify(live.id, headers={"X-Goog-Channel-ID": str(uuid.uuid4())})
    refused(unknown, 404, "PT404", "X-Goog-Channel-ID")
    garbage = google_api.channels.notify(live.id, headers={"X-Goog-Channel-ID": '../x%2f"<>'})
    refused(garbage, 404, "PT404", "X-Goog-Channel-ID")
    other = google_api.channels.notify(live.id, headers={"X-Goog-Resource-ID": "someone-else"})
    refused(other, 403, "PT403", "X-Goog-Resource-ID")
    state = google_api.channels.notify(live.id, "deleted")
    refused(state, 422, "PT422", "X-Goog-Resource-State")
    assert next_sync(conn, mentor.mentor) == before
    assert row(
        conn,
        "select last_message_number, last_change_at from private.calendar_channels where id = %s",
        live.id,
    ) == (None, None)
    for response in (wrong, unknown, garbage, other, state):
        assert live.token not in str(response.headers) and live.token not in response.text
    assert all(
        live.token not in r.getMessage() and live.token not in str(r.__dict__)
        for r in caplog.records
    )


def test_a_right_notification_syncs_the_mentor_within_a_second(
    mentor: Connected, google_api: GoogleFake, syncer: Syncer, conn: psycopg.Connection
) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=syncer.run, args=(stop,), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not (
            google_api.channels.live(mentor.email, mentor.email)
            and next_sync(conn, mentor.mentor) == NOW + dt.timedelta(seconds=3600)
        ):
            assert time.monotonic() < deadline, "the first channel and sync did not happen"
            time.sleep(0.05)
        (live,) = google_api.channels.live(mentor.email, mentor.email)
        # (synced twice: at connect, and again once the first channel opened)
        listed = len(google_api.events.lists)
        assert google_api.channels.notify(live.id, "sync").json() == {"sync_due": False}
        time.sleep(0.3)
        assert len(google_api.events.lists) == listed  # `sync`: nothing listed
        google_api.events.put(
            mentor.email, mentor.email, event("e1", TUE.replace(hour=10), TUE.replace(hour=11))
        )
        started = time.monotonic()
        (answer,) = google_api.channels.changed(mentor.email, mentor.email)
        assert answer.status_code == 200 and answer.json() == {"sync_due": True}
        while not conn.execute(
            "select 1 from private.calendar_busy_intervals where mentor_id = %s and source_event_id = 'e1'",
            (mentor.mentor,),
        ).fetchone():
            assert time.monotonic() - started < 5, "not synced within 5 s (the poll is 60 s)"
            time.sleep(0.02)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        worker.join(timeout=30)
    assert elapsed < 1.5, f"synced {elapsed:.2f} s after the notification"


def test_a_channel_is_renewed_before_it_expires_and_the_old_one_stopped(
    mentor: Connected,
    google_api: GoogleFake,
    channels: Channels,
    frozen: Clock,
    conn: psycopg.Connection,
) -> None:
    channels.drain()
    (old,) = google_api.channels.live(mentor.email, mentor.email)
    almost = NOW + dt.timedelta(days=6) - dt.timedelta(minutes=1)  # a day and a minute before
    frozen.freeze(almost)
    google_api.channels.now = almost
    assert channels.drain() == 0
    renew = NOW + dt.timedelta(days=6, minutes=1)
    frozen.freeze(renew)
    google_api.channels.now = renew
    assert channels.drain() == 2  # the new one opened, then the old one stopped
    (new,) = google_api.channels.live(mentor.email, mentor.email)
    assert new.id != old.id and new.expires_at == renew + dt.timedelta(days=7)
    assert google_api.channels.stops == [old.id]
    rows = {r[0]: r for r in channel_rows(conn, mentor.mentor)}
    assert rows[old.id][5] == renew and rows[new.id][5] is None
    refused(google_api.channels.notify(old.id), 410, "PT410", "X-Goog-Channel-ID")
    assert google_api.channels.notify(new.id).json() == {"sync_due": True}


def test_disconnect_stops_the_channels_before_revoking(
    mentor: Connected,
    google_api: GoogleFake,
    channels: Channels,
    settings: Settings,
    served: str,
    conn: psycopg.Connection,
) -> None:
    import httpx

    channels.drain()
    (live,) = google_api.channels.live(mentor.email, mentor.email)
    token = jwt.user_token(settings, mentor.mentor, f"{mentor.mentor}@gcal.test")
    response = httpx.post(
        f"{served}/oauth/google/disconnect", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json() == {"disconnected": True, "revoked_at_google": True}, response.text
    assert google_api.channels.stops == [live.id]
    assert google_api.revocations == [mentor.email]
    ((_, _, _, _, _, stopped_at),) = channel_rows(conn, mentor.mentor)
    assert stopped_at == NOW
    refused(google_api.channels.notify(live.id), 410, "PT410", "X-Goog-Channel-ID")
    assert channels.drain() == 0


def test_a_calendar_no_longer_watched_loses_its_channel(
    mentor: Connected, google_api: GoogleFake, channels: Channels, conn: psycopg.Connection
) -> None:
    channels.drain()
    (live,) = google_api.channels.live(mentor.email, mentor.email)
    conn.execute(
        "update public.mentor_calendars set counts_as_busy = false, receives_events = false"
        " where mentor_id = %s",
        (mentor.mentor,),
    )
    assert channels.drain() == 1
    assert google_api.channels.stops == [live.id]
    assert google_api.channels.live(mentor.email, mentor.email) == []


def test_without_a_webhook_address_no_channels_and_polling(
    settings: Settings, google_api: GoogleFake, scenario: Scenario, conn: psycopg.Connection
) -> None:
    polling = gcal_settings(settings, google_api, gcal_poll_seconds=0.1)
    syncer = Syncer(polling, "poll-worker")
    mentor = connect_mentor(scenario, google_api, syncer.keys)
    stop = threading.Event()
    worker = threading.Thread(target=syncer.run, args=(stop,), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while next_sync(conn, mentor.mentor) != NOW + dt.timedelta(seconds=300):
            assert time.monotonic() < deadline, "not synced"
            time.sleep(0.05)
        time.sleep(0.3)  # a few more polls
    finally:
        stop.set()
        worker.join(timeout=30)
        syncer.close()
    assert google_api.channels.channels == {}
    assert channel_rows(conn, mentor.mentor) == []
