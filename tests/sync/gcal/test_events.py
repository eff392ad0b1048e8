"""Session events out, over real HTTP: the calendar worker (sync.gcal.worker.Syncer, Google's own
client) against the strict fake of Google (testing/fakes/google_writes.py) and the real test
stack. Book: one event with the session's title, names, call link and our private properties; an
insert whose answer timed out after Google applied it: still one event; reschedule: patched;
cancel: deleted; a delete of an event already deleted: done; a mentor not connected: jobs skipped,
connecting later puts the sessions in; our own events are not busy. The clock is frozen: Mon 4
Jan 2027 06:00 UTC."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import psycopg
import pytest

from sync.gcal import events
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes import google as google_fake
from testing.fakes.google import GoogleFake
from testing.gcal import Connected, connect_mentor
from tests.sync.gcal.events_setup import (
    CALL_PAGE,
    NOW,
    TUE,
    at,
    book,
    cancel,
    jobs,
    live,
    reschedule,
    span,
)

pytestmark = pytest.mark.usefixtures("frozen")


def test_event_id_is_the_session_id_in_base32hex(conn: psycopg.Connection) -> None:
    for _ in range(20):
        sid = uuid.uuid4()
        ours = events.event_id(sid)
        row = conn.execute("select private.google_event_id(%s)", (sid,)).fetchone()
        assert row is not None and row[0] == ours
        assert len(ours) == 26 and set(ours) <= set("0123456789abcdefghijklmnopqrstuv")
    assert events.event_id(uuid.UUID(int=0)) == "0" * 26


def test_a_booking_puts_one_event_with_the_sessions_fields(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
) -> None:
    session = book(scenario, student, pack, at(TUE, 10))
    assert syncer.drain_events() == 1
    found = live(google_api, mentor)
    eid = events.event_id(session)
    assert list(found) == [eid]
    e = found[eid]
    assert span(e) == (at(TUE, 10), at(TUE, 11))
    assert e["start"]["timeZone"] == "Europe/Berlin"
    assert e["status"] == "confirmed"
    student_name = scenario.one("select display_name from public.profiles where id = %s", student)
    assert e["summary"] == f"Scenario pack: {student_name} with Scenario Mentor"
    assert f"Student: {student_name}" in e["description"]
    assert "Mentor: Scenario Mentor" in e["description"]
    assert e["location"] == f"{CALL_PAGE}/video/{session}"
    assert e["extendedProperties"]["private"] == {
        "mentorships": "session",
        "mentorships_session_id": session,
    }
    assert jobs(conn, session) == [("upsert", "done", 1, None)]
    row = conn.execute(
        "select calendar_id, event_id, starts_at, ends_at, etag from private.calendar_events"
        " where session_id = %s",
        (session,),
    ).fetchone()
    assert row == (mentor.email, eid, at(TUE, 10), at(TUE, 11), e["etag"])
    assert syncer.drain_events() == 0  # nothing left


def test_an_insert_that_timed_out_after_google_applied_it_is_still_one_event(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    session = book(scenario, student, pack, at(TUE, 10))
    google_api.writes.stall_next_insert(1.5)  # the client gives up after 1 s
    assert syncer.drain_events() == 1
    ((action, outcome, attempts, error),) = jobs(conn, session)
    assert (action, outcome, attempts) == ("upsert", None, 1)
    assert "timeout" in error.lower()
    assert list(live(google_api, mentor)) == [events.event_id(session)]  # Google has it
    assert syncer.drain_events() == 0  # backing off
    frozen.advance(dt.timedelta(minutes=1))
    assert syncer.drain_events() == 1
    assert jobs(conn, session) == [("upsert", "done", 2, None)]
    eid = events.event_id(session)
    assert list(live(google_api, mentor)) == [eid]
    assert google_api.writes.calls == [("insert", eid), ("insert", eid), ("update", eid)]


def test_reschedule_patches_cancel_deletes(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
) -> None:
    session = book(scenario, student, pack, at(TUE, 10))
    syncer.drain_events()
    eid = events.event_id(session)
    reschedule(scenario, student, session, at(TUE, 13))
    assert syncer.drain_events() == 1
    assert span(live(google_api, mentor)[eid]) == (at(TUE, 13), at(TUE, 14))
    cancel(scenario, student, session)
    assert syncer.drain_events() == 1
    assert live(google_api, mentor) == {}
    assert google_api.writes.calls == [("insert", eid), ("patch", eid), ("delete", eid)]
    assert [j[:2] for j in jobs(conn, session)] == [
        ("upsert", "done"),
        ("upsert", "done"),
        ("delete", "done"),
    ]
    assert conn.execute(
        "select count(*) from private.calendar_events where session_id = %s", (session,)
    ).fetchone() == (0,)


def test_pending_jobs_collapse_into_the_sessions_current_state(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
) -> None:
    """Booked, moved twice and canceled before the worker ran: one claim, a delete, no event
    ever written. Booked and moved: one insert at the new time."""
    gone = book(scenario, student, pack, at(TUE, 10))
    reschedule(scenario, student, gone, at(TUE, 13))
    cancel(scenario, student, gone)
    kept = book(scenario, student, pack, at(TUE, 10))
    reschedule(scenario, student, kept, at(TUE, 14))
    assert syncer.drain_events() == 2
    eid = events.event_id(kept)
    assert {k: span(v) for k, v in live(google_api, mentor).items()} == {
        eid: (at(TUE, 14), at(TUE, 15))
    }
    assert ("insert", eid) in google_api.writes.calls
    assert ("insert", events.event_id(gone)) not in google_api.writes.calls
    assert [j[1] for j in jobs(conn, gone)] == ["done"] * 3


def test_a_delete_of_an_event_already_deleted_is_done(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
) -> None:
    session = book(scenario, student, pack, at(TUE, 10))
    syncer.drain_events()
    eid = events.event_id(session)
    google_api.events.delete(mentor.email, mentor.email, eid)  # the mentor, in Google
    cancel(scenario, student, session)
    assert syncer.drain_events() == 1
    assert jobs(conn, session)[-1][:2] == ("delete", "done")
    assert google_api.writes.calls[-1] == ("delete", eid)  # answered 410


def test_two_workers_never_hold_one_sessions_jobs_at_once(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    gcal_settings: GcalSettings,
    scenario: Scenario,
    google_api: GoogleFake,
    frozen: Clock,
) -> None:
    session = book(scenario, student, pack, at(TUE, 10))
    other = Syncer(gcal_settings, "other-worker")
    try:
        (first,) = syncer.claim_jobs()  # claimed, not yet applied
        assert first["action"] == "upsert" and first["starts_at"].startswith("2027-01-05T10:00")
        reschedule(scenario, student, session, at(TUE, 13))
        assert other.claim_jobs() == []  # the session is in flight: its new job waits
        syncer.apply_one(first)
        (second,) = other.claim_jobs()  # now the current state: the new time
        assert second["starts_at"].startswith("2027-01-05T13:00")
        assert second["written_calendar_id"] == mentor.email
        # The first worker died holding nothing; the second's lease runs out: taken again.
        frozen.advance(dt.timedelta(seconds=gcal_settings.gcal_jobs_lease_seconds + 1))
        (again,) = syncer.claim_jobs()
        late = other.rpc  # the second worker's report is refused: the claim is not its own
        with pytest.raises(Exception, match="409"):
            late("calendar_job_done", for_session_id=session, worker="other-worker", written=None)
        syncer.apply_one(again)
        eid = events.event_id(session)
        assert span(live(google_api, mentor)[eid]) == (at(TUE, 13), at(TUE, 14))
    finally:
        other.close()


def test_a_mentor_not_connected_has_jobs_skipped_and_connecting_later_puts_the_events(
    scenario: Scenario,
    student: uuid.UUID,
    google_api: GoogleFake,
    keys: TokenKeys,
    syncer: Syncer,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    plain = scenario.mentor("Europe/Berlin")
    pack = scenario.pack(plain, student, purchased_at=NOW)
    session = book(scenario, student, pack, at(TUE, 10))
    past = book(scenario, student, pack, at(TUE, 12))
    assert syncer.drain_events() == 0
    assert jobs(conn, session) == [
        (
            "upsert",
            "skipped",
            0,
            "the mentor has no Google Calendar connected that receives session events",
        )
    ]
    # Connect that mentor (as the OAuth callback does): their future sessions are queued.
    connected = connect_mentor(scenario, google_api, keys, mentor=plain)
    cancel(scenario, student, past)  # queued at connecting, canceled since: no event
    assert syncer.drain_events() == 2
    assert set(live(google_api, connected)) == {events.event_id(session)}


def test_a_session_that_ended_before_its_event_was_written_is_not_added(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    """A worker that was down while a session came and went: its job is finished, no event."""
    ended = book(scenario, student, pack, at(TUE, 10))
    frozen.advance(at(TUE, 12) - NOW)
    assert syncer.drain_events() == 0
    assert jobs(conn, ended) == [
        (
            "upsert",
            "skipped",
            0,
            "the session ended before its event was written: past sessions are not added to"
            " the calendar",
        )
    ]
    assert live(google_api, mentor) == {}


def test_our_own_events_are_not_busy(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    conn: psycopg.Connection,
    frozen: Clock,
) -> None:
    book(scenario, student, pack, at(TUE, 10))
    syncer.drain_events()
    frozen.advance(dt.timedelta(minutes=6))
    assert syncer.drain() == 1
    assert conn.execute(
        "select count(*) from private.calendar_busy_intervals where mentor_id = %s",
        (mentor.mentor,),
    ).fetchone() == (0,)


def test_invalid_grant_on_an_event_revokes_as_the_sync_does(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    google_api: GoogleFake,
    conn: psycopg.Connection,
) -> None:
    session = book(scenario, student, pack, at(TUE, 10))
    google_api.revoke_account(mentor.email)
    assert syncer.drain_events() == 1
    ((_, outcome, _, error),) = jobs(conn, session)
    assert outcome == "skipped" and "invalid_grant" in error
    row = conn.execute(
        "select g.revoked_at is not null, s.grant_revoked from private.google_credentials g"
        " join private.calendar_sync_state s using (mentor_id) where mentor_id = %s",
        (mentor.mentor,),
    ).fetchone()
    assert row == (True, True)
    assert (
        scenario.one(
            "select count(*) from public.notifications where recipient_id = %s and kind = 'calendar_disconnected'",
            mentor.mentor,
        )
        >= 1
    )


def test_choosing_another_receiving_calendar_moves_the_events_there(
    scenario: Scenario,
    student: uuid.UUID,
    google_api: GoogleFake,
    keys: TokenKeys,
    syncer: Syncer,
    conn: psycopg.Connection,
) -> None:
    work = "work.calendar@group.calendar.google.test"
    mentor = connect_mentor(
        scenario, google_api, keys, calendars=[google_fake.calendar(work, "Work")]
    )
    pack = scenario.pack(mentor.mentor, student, purchased_at=NOW)
    assert syncer.drain() == 1
    session = book(scenario, student, pack, at(TUE, 10))
    syncer.drain_events()
    eid = events.event_id(session)
    chose = scenario.api(mentor.mentor).rpc(
        "choose_google_calendars", busy_calendar_ids=[mentor.email], events_calendar_id=work
    )
    assert chose.status_code == 200, chose.text
    assert syncer.drain_events() == 1
    assert live(google_api, mentor) == {}
    assert list(google_api.writes.live(mentor.email, work)) == [eid]
    assert google_api.writes.calls[-2:] == [("delete", eid), ("insert", eid)]
    assert conn.execute(
        "select calendar_id from private.calendar_events where session_id = %s", (session,)
    ).fetchone() == (work,)


def test_two_workers_draining_at_once_apply_each_session_once(
    mentor: Connected,
    student: uuid.UUID,
    syncer: Syncer,
    gcal_settings: GcalSettings,
    scenario: Scenario,
    google_api: GoogleFake,
) -> None:
    pack = scenario.pack(mentor.mentor, student, purchased_at=NOW, sessions=12)
    assert syncer.drain() == 1
    wed = TUE + dt.timedelta(days=1)
    starts = [at(day, hh, mm) for day in (TUE, wed) for hh, mm in ((8, 0), (9, 30), (11, 0))]
    sessions = [book(scenario, student, pack, s) for s in starts]
    for session, s in zip(sessions, starts, strict=True):
        reschedule(scenario, student, session, s + dt.timedelta(days=2))
    other = Syncer(gcal_settings.model_copy(update={"gcal_jobs_batch_size": 1}), "other")
    mine = Syncer(gcal_settings.model_copy(update={"gcal_jobs_batch_size": 1}), "mine")
    try:
        done: list[int] = []
        threads = [
            threading.Thread(target=lambda w=w: done.append(w.drain_events()))
            for w in (mine, other)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sum(done) == len(sessions)
    finally:
        other.close()
        mine.close()
    found = {k: span(v) for k, v in live(google_api, mentor).items()}
    assert found == {
        events.event_id(session): (
            s + dt.timedelta(days=2),
            s + dt.timedelta(days=2, hours=1),
        )
        for session, s in zip(sessions, starts, strict=True)
    }
    # Each session's two jobs were one claim, applied by one worker: one insert each, nothing else.
    assert sorted(google_api.writes.calls) == sorted(
        ("insert", events.event_id(s)) for s in sessions
    )
