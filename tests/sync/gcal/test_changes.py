"""Changes made in Google come back, over real HTTP: the calendar sync lists the receiving
calendar (even when it is not busy) and compares our events with what WE LAST WROTE. Deleted or
moved in Google: the session is flagged, the mentor's message queued, nothing canceled; our own
reschedule still queued (or just applied) is not the mentor's edit; the mentor resolves with
resolve_calendar_change (cancel: canceled, credit restored, the event stays deleted; restore: the
event comes back at the session's time), refused with 403/404/409/422 naming the field; a mentor
reads only their own flags."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest

from sync.gcal import events
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.gcal import Connected
from tests.sync.gcal.events_setup import TUE, at, book, jobs, live, reschedule, span

pytestmark = pytest.mark.usefixtures("frozen")


def next_sync(frozen: Clock, syncer: Syncer) -> None:
    """The mentor's sync falls due (every 300 s) and runs."""
    frozen.advance(dt.timedelta(minutes=6))
    assert syncer.drain() == 1


def flags(conn: psycopg.Connection, session: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select change, google_starts_at, google_ends_at, resolution from public.calendar_event_changes"
        " where session_id = %s order by id",
        (session,),
    ).fetchall()


def told(conn: psycopg.Connection, mentor: uuid.UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select channel, payload ->> 'change' from public.notifications"
        " where recipient_id = %s and kind = 'calendar_event_changed' order by id",
        (mentor,),
    ).fetchall()


def status(conn: psycopg.Connection, session: str) -> str:
    row = conn.execute("select status::text from public.sessions where id = %s", (session,))
    return str(row.fetchone()[0])  # type: ignore[index]


@pytest.fixture
def written(
    mentor: Connected, student: uuid.UUID, pack: uuid.UUID, syncer: Syncer, scenario: Scenario
) -> str:
    """A session on Tuesday 10:00 UTC whose event is in the mentor's calendar."""
    session = book(scenario, student, pack, at(TUE, 10))
    assert syncer.drain_events() == 1
    return session


def test_an_event_deleted_in_google_flags_the_session_and_tells_the_mentor(
    mentor: Connected,
    written: str,
    syncer: Syncer,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    google_api.events.delete(mentor.email, mentor.email, events.event_id(written))
    next_sync(frozen, syncer)
    assert flags(conn, written) == [("deleted", None, None, None)]
    assert told(conn, mentor.mentor) == [("email", "deleted")]
    assert status(conn, written) == "scheduled"  # nothing canceled
    next_sync(frozen, syncer)  # seen again: one flag, one message
    assert len(flags(conn, written)) == 1 and len(told(conn, mentor.mentor)) == 1


def test_an_event_moved_in_google_is_flagged_with_googles_times(
    mentor: Connected,
    written: str,
    syncer: Syncer,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    eid = events.event_id(written)
    google_api.writes.move(mentor.email, mentor.email, eid, at(TUE, 14), at(TUE, 15))
    next_sync(frozen, syncer)
    assert flags(conn, written) == [("moved", at(TUE, 14), at(TUE, 15), None)]
    assert told(conn, mentor.mentor) == [("email", "moved")]
    # Moved, not busy: our event does not close the mentor's time, wherever it is.
    assert conn.execute(
        "select count(*) from private.calendar_busy_intervals where mentor_id = %s",
        (mentor.mentor,),
    ).fetchone() == (0,)


def test_our_own_reschedule_is_not_the_mentors_edit(
    mentor: Connected,
    written: str,
    student: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    reschedule(scenario, student, written, at(TUE, 13))  # its patch still queued
    next_sync(frozen, syncer)
    eid = events.event_id(written)
    google_api.writes.move(mentor.email, mentor.email, eid, at(TUE, 15), at(TUE, 16))
    next_sync(frozen, syncer)  # a change in Google while our job is pending: not flagged
    assert flags(conn, written) == []
    assert syncer.drain_events() == 1  # our patch: the session's time again
    next_sync(frozen, syncer)  # the sync sees our own patch: what we wrote
    assert flags(conn, written) == []
    assert told(conn, mentor.mentor) == []
    assert span(live(google_api, mentor)[eid]) == (at(TUE, 13), at(TUE, 14))


def test_a_receiving_calendar_that_is_not_busy_is_still_watched(
    mentor: Connected,
    written: str,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    chose = scenario.api(mentor.mentor).rpc(
        "choose_google_calendars", busy_calendar_ids=[], events_calendar_id=mentor.email
    )
    assert chose.status_code == 200, chose.text
    assert syncer.drain() == 1  # choosing makes the sync due at once
    google_api.events.delete(mentor.email, mentor.email, events.event_id(written))
    next_sync(frozen, syncer)
    assert flags(conn, written) == [("deleted", None, None, None)]


def test_a_full_list_that_misses_our_event_flags_it(
    mentor: Connected,
    written: str,
    syncer: Syncer,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    google_api.events.delete(mentor.email, mentor.email, events.event_id(written))
    google_api.events.expire_sync_tokens(mentor.email, mentor.email)  # 410: listed in full
    next_sync(frozen, syncer)
    assert flags(conn, written) == [("deleted", None, None, None)]


def test_resolving_with_cancel_cancels_and_restores_the_credit(
    mentor: Connected,
    written: str,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    google_api.events.delete(mentor.email, mentor.email, events.event_id(written))
    next_sync(frozen, syncer)
    remaining = scenario.one(
        "select remaining_sessions from public.session_packs where id = %s", pack
    )
    answer = scenario.api(mentor.mentor).rpc(
        "resolve_calendar_change", session_id=written, choice="cancel"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["resolution"] == "cancel"
    assert status(conn, written) == "canceled"
    assert (
        scenario.one("select remaining_sessions from public.session_packs where id = %s", pack)
        == remaining + 1
    )
    assert syncer.drain_events() == 1  # the delete: already deleted in Google (410), done
    assert jobs(conn, written)[-1][:2] == ("delete", "done")
    assert live(google_api, mentor) == {}
    assert flags(conn, written) == [("deleted", None, None, "cancel")]


def test_resolving_with_restore_puts_the_event_back(
    mentor: Connected,
    written: str,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    eid = events.event_id(written)
    google_api.writes.move(mentor.email, mentor.email, eid, at(TUE, 14), at(TUE, 15))
    next_sync(frozen, syncer)
    answer = scenario.api(mentor.mentor).rpc(
        "resolve_calendar_change", session_id=written, choice="restore"
    )
    assert answer.status_code == 200, answer.text
    assert syncer.drain_events() == 1
    assert span(live(google_api, mentor)[eid]) == (at(TUE, 10), at(TUE, 11))
    next_sync(frozen, syncer)
    assert flags(conn, written) == [("moved", at(TUE, 14), at(TUE, 15), "restore")]
    assert status(conn, written) == "scheduled"
    # Deleted, then restored: the insert finds the cancelled id (409) and confirms it again.
    google_api.events.delete(mentor.email, mentor.email, eid)
    next_sync(frozen, syncer)
    assert flags(conn, written)[-1] == ("deleted", None, None, None)
    answer = scenario.api(mentor.mentor).rpc(
        "resolve_calendar_change", session_id=written, choice="restore"
    )
    assert answer.status_code == 200, answer.text
    assert syncer.drain_events() == 1
    assert span(live(google_api, mentor)[eid]) == (at(TUE, 10), at(TUE, 11))


def test_resolving_is_refused_naming_the_field_and_flags_are_the_mentors_own(
    mentor: Connected,
    written: str,
    student: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    frozen: Clock,
) -> None:
    as_mentor = scenario.api(mentor.mentor)
    none_yet = as_mentor.rpc("resolve_calendar_change", session_id=written, choice="restore")
    assert none_yet.status_code == 409 and none_yet.json()["details"] == "session_id"
    google_api.events.delete(mentor.email, mentor.email, events.event_id(written))
    next_sync(frozen, syncer)
    bad = as_mentor.rpc("resolve_calendar_change", session_id=written, choice="ignore")
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "PT422" and bad.json()["details"] == "choice"
    missing = as_mentor.rpc("resolve_calendar_change", choice="cancel")
    assert missing.status_code == 422 and missing.json()["details"] == "session_id"
    unknown = as_mentor.rpc("resolve_calendar_change", session_id=uuid.uuid4(), choice="cancel")
    assert unknown.status_code == 404, unknown.text
    other = scenario.mentor()
    for who in (student, other):
        theirs = scenario.api(who).rpc(
            "resolve_calendar_change", session_id=written, choice="cancel"
        )
        assert theirs.status_code == 403, theirs.text
        seen = scenario.api(who).get(
            "/calendar_event_changes", params={"session_id": f"eq.{written}"}
        )
        assert seen.status_code == 200 and seen.json() == []
    anon = scenario.api(None).get("/calendar_event_changes")
    assert anon.status_code in (401, 403) or anon.json() == []
    mine = as_mentor.get("/calendar_event_changes", params={"session_id": f"eq.{written}"})
    assert [r["change"] for r in mine.json()] == ["deleted"]
