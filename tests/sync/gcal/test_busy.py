"""Busy times in, over real HTTP: the calendar sync (sync.gcal.worker.Syncer, Google's own client)
against the strict fake of Google (testing/fakes/google_events.py) and the real test stack. A
first full sync fills the busy intervals and mentor_availability (over PostgREST) shows the gap;
incremental syncs pick up changes; a 410 lists in full; free, all-day, declined and recurring
events; fail closed (stale or revoked: no slots, book_session 409); invalid_grant; the back-off;
two workers never sync one mentor at once. The clock is frozen: Mon 4 Jan 2027 06:00 UTC."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings, load
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes import google as google_fake
from testing.fakes.google import GoogleFake
from testing.fakes.google_events import event, weekly
from testing.gcal import Connected, connect_mentor, service_rpc
from testing.services import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, GOOGLE_TOKEN_KEY_1

UTC = dt.UTC
NOW = dt.datetime(2027, 1, 4, 6, 0, tzinfo=UTC)  # Monday; Berlin is UTC+1
TUE = dt.datetime(2027, 1, 5, tzinfo=UTC)


def at(day: dt.datetime, hh: int, mm: int = 0) -> dt.datetime:
    return day.replace(hour=hh, minute=mm)


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
    )


@pytest.fixture
def syncer(gcal_settings: GcalSettings) -> Iterator[Syncer]:
    s = Syncer(gcal_settings, "test-worker")
    yield s
    s.close()


@pytest.fixture
def keys(gcal_settings: GcalSettings) -> TokenKeys:
    return TokenKeys.from_settings(gcal_settings)


@pytest.fixture(autouse=True)
def frozen(clock: Clock, conn: psycopg.Connection) -> Clock:
    """The clock frozen at NOW; the syncs of mentors other tests connected are parked, so a drain
    here syncs this test's mentors only."""
    conn.execute("update private.calendar_sync_state set next_sync_at = 'infinity'")
    clock.freeze(NOW)
    return clock


@pytest.fixture
def mentor(scenario: Scenario, google_api: GoogleFake, keys: TokenKeys) -> Connected:
    return connect_mentor(scenario, google_api, keys)


def intervals(conn: psycopg.Connection, mentor: uuid.UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select source_event_id, starts_at, ends_at from private.calendar_busy_intervals"
        " where mentor_id = %s order by starts_at, source_event_id",
        (mentor,),
    ).fetchall()


def slots(scenario: Scenario, mentor: uuid.UUID, day: dt.datetime) -> list[dt.datetime]:
    """mentor_availability over PostgREST, as anyone calls it: the day's slot starts."""
    response = scenario.api(None).rpc(
        "mentor_availability", mentor_id=mentor, from_at=day, to_at=day + dt.timedelta(days=1)
    )
    assert response.status_code == 200, response.text
    return [dt.datetime.fromisoformat(s["starts_at"]) for s in response.json()]


def state(conn: psycopg.Connection, mentor: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(
        "select last_synced_at, next_sync_at, failures, last_error, grant_revoked, claimed_by"
        " from private.calendar_sync_state where mentor_id = %s",
        (mentor,),
    ).fetchone()
    assert row is not None
    keys_ = (
        "last_synced_at",
        "next_sync_at",
        "failures",
        "last_error",
        "grant_revoked",
        "claimed_by",
    )
    return dict(zip(keys_, row, strict=True))


def due(clock: Clock, conn: psycopg.Connection, mentor: uuid.UUID) -> None:
    """The clock moved to the mentor's next sync."""
    clock.freeze(state(conn, mentor)["next_sync_at"])


def test_first_full_sync_fills_intervals_and_availability_shows_the_gap(
    mentor: Connected,
    google_api: GoogleFake,
    syncer: Syncer,
    scenario: Scenario,
    conn: psycopg.Connection,
) -> None:
    google_api.events.put(mentor.email, mentor.email, event("e1", at(TUE, 10), at(TUE, 11)))
    # Connected, never synced: closed.
    assert slots(scenario, mentor.mentor, TUE) == []
    assert syncer.drain() == 1
    assert intervals(conn, mentor.mentor) == [("e1", at(TUE, 10), at(TUE, 11))]
    open_ = slots(scenario, mentor.mentor, TUE)
    # 60-minute slots with a 15-minute buffer, 09:00 to 17:00 Berlin (08:00 to 16:00 UTC).
    assert open_ == [
        at(TUE, 8),
        at(TUE, 8, 30),
        at(TUE, 11),
        at(TUE, 11, 30),
        at(TUE, 12),
        at(TUE, 12, 30),
        at(TUE, 13),
        at(TUE, 13, 30),
        at(TUE, 14),
        at(TUE, 14, 30),
        at(TUE, 15),
    ]
    # One full list of the window, recurring events expanded.
    (query,) = google_api.events.lists
    assert query["singleEvents"] == "true" and "syncToken" not in query
    assert query["timeMin"].startswith("2027-01-03T06:00:00")
    assert state(conn, mentor.mentor)["last_synced_at"] == NOW


def test_an_incremental_sync_picks_up_changes(
    mentor: Connected,
    google_api: GoogleFake,
    syncer: Syncer,
    frozen: Clock,
    conn: psycopg.Connection,
) -> None:
    events = google_api.events
    events.put(mentor.email, mentor.email, event("e1", at(TUE, 10), at(TUE, 11)))
    events.put(mentor.email, mentor.email, event("e2", at(TUE, 13), at(TUE, 14)))
    syncer.drain()
    events.put(mentor.email, mentor.email, event("e1", at(TUE, 14), at(TUE, 15)))  # moved
    events.delete(mentor.email, mentor.email, "e2")
    events.put(mentor.email, mentor.email, event("e3", at(TUE, 8), at(TUE, 9)))
    assert syncer.drain() == 0  # not due yet
    due(frozen, conn, mentor.mentor)
    assert syncer.drain() == 1
    assert intervals(conn, mentor.mentor) == [
        ("e3", at(TUE, 8), at(TUE, 9)),
        ("e1", at(TUE, 14), at(TUE, 15)),
    ]
    last = events.lists[-1]
    assert "syncToken" in last and "timeMin" not in last and last["singleEvents"] == "true"


def test_an_expired_sync_token_means_a_full_list(
    mentor: Connected,
    google_api: GoogleFake,
    syncer: Syncer,
    frozen: Clock,
    conn: psycopg.Connection,
) -> None:
    events = google_api.events
    events.put(mentor.email, mentor.email, event("e1", at(TUE, 10), at(TUE, 11)))
    syncer.drain()
    events.expire_sync_tokens(mentor.email, mentor.email)
    events.put(mentor.email, mentor.email, event("e2", at(TUE, 13), at(TUE, 14)))
    due(frozen, conn, mentor.mentor)
    assert syncer.drain() == 1
    assert [("syncToken" in q, "timeMin" in q) for q in events.lists] == [
        (False, True),
        (True, False),
        (False, True),
    ]
    assert [i[0] for i in intervals(conn, mentor.mentor)] == ["e1", "e2"]  # not twice
    assert state(conn, mentor.mentor)["failures"] == 0


def test_free_all_day_declined_and_recurring_events_over_pages(
    mentor: Connected, google_api: GoogleFake, syncer: Syncer, conn: psycopg.Connection
) -> None:
    events = google_api.events
    events.page_size = 2

    def put(e: dict[str, Any]) -> None:
        events.put(mentor.email, mentor.email, e)

    put(event("free", at(TUE, 9), at(TUE, 10), transparency="transparent"))
    put(event("declined", at(TUE, 11), at(TUE, 12), self_response="declined"))
    put(event("accepted", at(TUE, 12), at(TUE, 13), self_response="accepted"))
    put(event("holiday", dt.date(2027, 1, 6), dt.date(2027, 1, 7)))  # Wednesday, all day
    put(event("weekly", at(TUE, 15), at(TUE, 16), recurrence=weekly(3)))
    syncer.drain()
    week = dt.timedelta(days=7)
    assert intervals(conn, mentor.mentor) == [
        ("accepted", at(TUE, 12), at(TUE, 13)),
        ("weekly_20270105T150000Z", at(TUE, 15), at(TUE, 16)),
        # midnight to midnight in Berlin
        (
            "holiday",
            dt.datetime(2027, 1, 5, 23, tzinfo=UTC),
            dt.datetime(2027, 1, 6, 23, tzinfo=UTC),
        ),
        ("weekly_20270112T150000Z", at(TUE, 15) + week, at(TUE, 16) + week),
        ("weekly_20270119T150000Z", at(TUE, 15) + 2 * week, at(TUE, 16) + 2 * week),
    ]
    assert len(events.lists) == 4  # 4 events and 3 instances, 2 a page


def test_a_stale_sync_closes_slots_and_booking_answers_409(
    mentor: Connected, syncer: Syncer, scenario: Scenario, frozen: Clock, conn: psycopg.Connection
) -> None:
    student = scenario.person("student")
    pack = scenario.pack(mentor.mentor, student, purchased_at=NOW)
    syncer.drain()
    assert slots(scenario, mentor.mentor, TUE)
    frozen.advance(dt.timedelta(minutes=121))  # no sync meanwhile (platform setting: 120)
    assert slots(scenario, mentor.mentor, TUE) == []
    answer = scenario.api(student).rpc("book_session", pack_id=pack, starts_at=at(TUE, 10))
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["code"] == "PT409"
    assert "Google Calendar was last synced at 2027-01-04 06:00 UTC" in body["message"]
    assert syncer.drain() == 1  # due long ago: synced again, open again
    assert slots(scenario, mentor.mentor, TUE)
    answer = scenario.api(student).rpc("book_session", pack_id=pack, starts_at=at(TUE, 10))
    assert answer.status_code == 200, answer.text


def test_invalid_grant_revokes_tells_the_mentor_and_closes_slots(
    mentor: Connected,
    google_api: GoogleFake,
    syncer: Syncer,
    scenario: Scenario,
    frozen: Clock,
    conn: psycopg.Connection,
) -> None:
    syncer.drain()
    google_api.revoke_account(mentor.email)
    due(frozen, conn, mentor.mentor)
    assert syncer.drain() == 1
    assert syncer.totals.revoked == 1
    s = state(conn, mentor.mentor)
    assert s["grant_revoked"] and "invalid_grant" in s["last_error"]
    revoked_at = scenario.one(
        "select revoked_at from private.google_credentials where mentor_id = %s", mentor.mentor
    )
    assert revoked_at == frozen.now()
    queued = conn.execute(
        "select channel, payload ->> 'mentor_id' from public.notifications"
        " where recipient_id = %s and kind = 'calendar_disconnected'",
        (mentor.mentor,),
    ).fetchall()
    assert queued == [("email", str(mentor.mentor))]
    assert slots(scenario, mentor.mentor, TUE) == []
    # Not claimed again until the mentor reconnects; told once.
    frozen.advance(dt.timedelta(days=1))
    assert syncer.drain() == 0
    # Admins see it.
    admin = scenario.person("admin")
    status = scenario.api(admin).rpc("calendar_sync_status").json()
    mine = next(r for r in status if r["mentor_id"] == str(mentor.mentor))
    assert mine["revoked_at"] is not None and "stopped working" in mine["closed_because"]
    refused = scenario.api(scenario.person("student")).rpc("calendar_sync_status")
    assert refused.status_code == 403


def test_the_back_off_grows_per_failure(
    scenario: Scenario,
    google_api: GoogleFake,
    keys: TokenKeys,
    syncer: Syncer,
    frozen: Clock,
    conn: psycopg.Connection,
) -> None:
    # The mentor's calendar is gone at Google: events.list answers 404 every time.
    mentor = connect_mentor(scenario, google_api, keys)
    google_api.events.calendars.pop((mentor.email, mentor.email))
    delays = []
    for _ in range(4):
        syncer.drain()
        s = state(conn, mentor.mentor)
        delays.append((s["next_sync_at"] - frozen.now()).total_seconds())
        assert "answered 404" in s["last_error"]
        due(frozen, conn, mentor.mentor)
    # base 30 s doubling, the second half of each drawn at random: [15, 30], [30, 60], ...
    for n, delay in enumerate(delays):
        assert 30 * 2**n / 2 <= delay <= 30 * 2**n
    assert state(conn, mentor.mentor)["failures"] == 4


def test_two_workers_never_sync_one_mentor_at_once(
    scenario: Scenario,
    google_api: GoogleFake,
    keys: TokenKeys,
    gcal_settings: GcalSettings,
    frozen: Clock,
    settings: Settings,
) -> None:
    mentors = [connect_mentor(scenario, google_api, keys).mentor for _ in range(6)]
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(2)

    def claim(worker: str) -> None:
        barrier.wait()
        answer = service_rpc(
            settings, "claim_calendar_syncs", worker=worker, max_mentors="4", lease_seconds="60"
        )
        assert answer.status_code == 200, answer.text
        claimed[worker] = [row["mentor_id"] for row in answer.json()]

    threads = [threading.Thread(target=claim, args=(w,)) for w in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert set(claimed["a"]) | set(claimed["b"]) == {str(m) for m in mentors}
    # A lease that ran out: another worker takes the mentor, and the first one's report is refused.
    taken = claimed["a"][0]
    frozen.advance(dt.timedelta(seconds=61))
    again = service_rpc(
        settings, "claim_calendar_syncs", worker="c", max_mentors="10", lease_seconds="60"
    )
    assert taken in [row["mentor_id"] for row in again.json()]
    late = service_rpc(settings, "calendar_synced", for_mentor_id=taken, worker="a", calendars=[])
    assert late.status_code == 409 and late.json()["code"] == "PT409", late.text


def test_rescheduling_into_a_stale_mentors_time_answers_409(
    mentor: Connected, syncer: Syncer, scenario: Scenario, frozen: Clock
) -> None:
    student = scenario.person("student")
    pack = scenario.pack(mentor.mentor, student, purchased_at=NOW)
    syncer.drain()
    booked = scenario.api(student).rpc("book_session", pack_id=pack, starts_at=at(TUE, 10))
    assert booked.status_code == 200, booked.text
    frozen.advance(dt.timedelta(hours=3))
    moved = scenario.api(student).rpc(
        "reschedule_session", session_id=booked.json()["id"], starts_at=at(TUE, 13)
    )
    assert moved.status_code == 409, moved.text
    assert "busy times are unknown" in moved.json()["message"]


def test_choosing_other_busy_calendars_syncs_them_at_once(
    scenario: Scenario,
    google_api: GoogleFake,
    keys: TokenKeys,
    syncer: Syncer,
    conn: psycopg.Connection,
) -> None:
    team = "team@group.calendar.google.com"
    mentor = connect_mentor(
        scenario,
        google_api,
        keys,
        calendars=[google_fake.calendar(team, "Team", access_role="writer")],
    )
    google_api.events.put(mentor.email, mentor.email, event("mine", at(TUE, 10), at(TUE, 11)))
    google_api.events.put(mentor.email, team, event("team", at(TUE, 13), at(TUE, 14)))
    syncer.drain()
    assert [i[0] for i in intervals(conn, mentor.mentor)] == ["mine"]
    chose = scenario.api(mentor.mentor).rpc(
        "choose_google_calendars", busy_calendar_ids=[team], events_calendar_id=team
    )
    assert chose.status_code == 200, chose.text
    assert syncer.drain() == 1  # due at once, not in 5 minutes
    assert [i[0] for i in intervals(conn, mentor.mentor)] == ["team"]


def test_a_window_running_short_of_the_horizon_is_listed_anew(
    mentor: Connected, google_api: GoogleFake, syncer: Syncer, frozen: Clock
) -> None:
    syncer.drain()
    frozen.advance(dt.timedelta(days=10))
    syncer.drain()
    frozen.advance(dt.timedelta(days=20))  # the first window (horizon 60 + 30 days) ends in 60
    syncer.drain()
    assert [("syncToken" in q, q.get("timeMin", "")[:10]) for q in google_api.events.lists] == [
        (False, "2027-01-03"),
        (True, ""),
        (False, "2027-02-02"),
    ]
