"""Booking rules (sql/rules/booking/) over real PostgREST with real JWTs and a frozen clock:
every rule's allowed and refused path, with the boundaries."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from testing.api import ok, refused
from testing.clock import Clock
from testing.factories import Scenario

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
# Monday 2026-11-02 12:00 UTC (07:00 in New York, standard time since the day before).
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def ny(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A New York wall-clock time in November 2026, as an aware datetime."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=NY)


@pytest.fixture
def booked(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A New York mentor (Mon-Fri 09-17, 60-min slots on a 30-min grid, 15-min buffer, 12 h notice),
    a Tokyo student with a 4-session pack bought a week ago."""
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    student = scenario.person("student", "Asia/Tokyo", discord=True)
    pack = scenario.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=7))
    return {"mentor": mentor, "student": student, "pack": pack}


# --- availability -------------------------------------------------------------------------------


def test_availability_is_working_hours_in_the_mentors_zone(
    scenario: Scenario, booked: dict[str, Any]
) -> None:
    slots = ok(
        scenario.api(None).rpc(
            "mentor_availability", mentor_id=booked["mentor"], from_at=ny(3, 0), to_at=ny(4, 0)
        )
    )
    starts = [dt.datetime.fromisoformat(s["starts_at"]) for s in slots]
    # 09:00 to 16:00 New York (EST, UTC-5) every 30 minutes: 15 slots, the last ending at 17:00
    assert starts[0] == ny(3, 9) and starts[-1] == ny(3, 16)
    assert len(starts) == 15
    assert all(
        s["ends_at"]
        == (dt.datetime.fromisoformat(s["starts_at"]) + dt.timedelta(hours=1)).isoformat()
        for s in slots
    )


def test_availability_respects_notice_horizon_sessions_buffer_and_calendar(
    scenario: Scenario, booked: dict[str, Any]
) -> None:
    anon = scenario.api(None)
    # Monday 12:00 UTC + 12 h notice: nothing today (Mon 09-17 NY ends before Tue 00:00 UTC)
    assert (
        ok(anon.rpc("mentor_availability", mentor_id=booked["mentor"], from_at=NOW, to_at=ny(3, 0)))
        == []
    )
    ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(3, 10)
        )
    )
    scenario.conn.execute(
        "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at) values (%s, %s, %s)",
        (booked["mentor"], ny(3, 14), ny(3, 15)),
    )
    starts = {
        dt.datetime.fromisoformat(s["starts_at"])
        for s in ok(
            anon.rpc(
                "mentor_availability", mentor_id=booked["mentor"], from_at=ny(3, 0), to_at=ny(4, 0)
            )
        )
    }
    # the 10:00 session blocks 09:00 and 09:30 (they and their 15-min buffer run into it), 10:00,
    # 10:30, and 11:00 (inside its buffer)
    assert not starts & {ny(3, 9), ny(3, 9, 30), ny(3, 10), ny(3, 10, 30), ny(3, 11)}
    assert {ny(3, 11, 30), ny(3, 12, 30)} <= starts
    # the 14-15 busy time blocks 13:00 (buffer into it), 13:30, 14:00, 14:30
    assert not starts & {ny(3, 13), ny(3, 13, 30), ny(3, 14), ny(3, 14, 30)}
    assert ny(3, 15) in starts
    # horizon: 60 days
    late = ok(
        anon.rpc(
            "mentor_availability",
            mentor_id=booked["mentor"],
            from_at=NOW + dt.timedelta(days=45),
            to_at=NOW + dt.timedelta(days=75),
        )
    )
    assert max(dt.datetime.fromisoformat(s["starts_at"]) for s in late) <= NOW + dt.timedelta(
        days=60
    )


def test_without_notice_the_slot_starting_now_is_not_offered(
    scenario: Scenario, clock: Clock
) -> None:
    """With no minimum notice, a slot starting this instant is already in the past for
    book_session, so the listing must not offer it (it did: lower bound inclusive)."""
    now = ny(3, 10)
    clock.freeze(now)
    mentor = scenario.mentor("America/New_York", notice=0)
    student = scenario.person("student", "Europe/Berlin")
    pack = scenario.pack(mentor, student, purchased_at=now - dt.timedelta(days=1))
    slots = ok(
        scenario.api(None).rpc(
            "mentor_availability", mentor_id=mentor, from_at=now, to_at=ny(3, 12)
        )
    )
    assert [dt.datetime.fromisoformat(s["starts_at"]) for s in slots][:2] == [
        ny(3, 10, 30),
        ny(3, 11),
    ]
    refused(
        scenario.api(student).rpc("book_session", pack_id=pack, starts_at=now), 422, "starts_at"
    )
    ok(scenario.api(student).rpc("book_session", pack_id=pack, starts_at=ny(3, 10, 30)))


def test_availability_input_errors(
    scenario: Scenario, booked: dict[str, Any], clock: Clock
) -> None:
    anon = scenario.api(None)
    refused(
        anon.rpc(
            "mentor_availability", mentor_id=booked["mentor"], from_at=ny(4, 0), to_at=ny(3, 0)
        ),
        422,
        "to_at must be after from_at",
    )
    refused(
        anon.rpc(
            "mentor_availability",
            mentor_id=booked["mentor"],
            from_at=NOW,
            to_at=NOW + dt.timedelta(days=36),
        ),
        422,
        "ask for at most 35 days",
    )
    inactive = scenario.mentor(active=False)
    refused(
        anon.rpc("mentor_availability", mentor_id=inactive, from_at=NOW, to_at=ny(9, 0)),
        404,
        "no active mentor with id",
    )


def test_dst_fall_back_new_york(scenario: Scenario, clock: Clock) -> None:
    """2026-11-01: New York falls back at 02:00 EDT to 01:00 EST. A Sunday 00:00-04:00 mentor with
    2-hour slots on a 1-hour grid: the 00:00 slot spans the change and lasts 2 real hours."""
    clock.freeze(dt.datetime(2026, 10, 30, 0, 0, tzinfo=UTC))
    mentor = scenario.mentor(
        "America/New_York",
        working_hours=[{"weekday": 7, "start": "00:00", "end": "04:00"}],
        slot=120,
        grid=60,
        buffer=0,
    )
    slots = ok(
        scenario.api(None).rpc(
            "mentor_availability",
            mentor_id=mentor,
            from_at=dt.datetime(2026, 11, 1, 0, tzinfo=UTC),
            to_at=dt.datetime(2026, 11, 2, 0, tzinfo=UTC),
        )
    )
    starts = [dt.datetime.fromisoformat(s["starts_at"]) for s in slots]
    # local 00:00 EDT = 04:00Z; 01:00 is ambiguous (Postgres takes standard time, 06:00Z);
    # 02:00 EST = 07:00Z ends 04:00 local = 09:00Z, the window's end
    assert starts == [dt.datetime(2026, 11, 1, h, tzinfo=UTC) for h in (4, 6, 7)]
    for s in slots:
        a, b = dt.datetime.fromisoformat(s["starts_at"]), dt.datetime.fromisoformat(s["ends_at"])
        assert b - a == dt.timedelta(hours=2)
        assert a.astimezone(NY).minute == 0 and b.astimezone(NY).hour <= 4
    student = scenario.person()
    pack = scenario.pack(mentor, student, purchased_at=dt.datetime(2026, 10, 1, tzinfo=UTC))
    session = ok(scenario.api(student).rpc("book_session", pack_id=pack, starts_at=starts[0]))
    assert (
        session["ends_at"] == "2026-11-01T06:00:00+00:00"
    )  # 02:00 EDT became 01:00 EST: 2 real hours


def test_dst_spring_forward_london(scenario: Scenario, clock: Clock) -> None:
    """2026-03-29: London springs forward at 01:00 GMT to 02:00 BST; local 01:xx does not exist."""
    clock.freeze(dt.datetime(2026, 3, 26, 0, 0, tzinfo=UTC))
    mentor = scenario.mentor(
        "Europe/London",
        working_hours=[{"weekday": 7, "start": "00:00", "end": "04:00"}],
        slot=60,
        grid=60,
        buffer=0,
    )
    slots = ok(
        scenario.api(None).rpc(
            "mentor_availability",
            mentor_id=mentor,
            from_at=dt.datetime(2026, 3, 28, 12, tzinfo=UTC),
            to_at=dt.datetime(2026, 3, 29, 12, tzinfo=UTC),
        )
    )
    # 00:00 GMT, (01:00 skipped), 02:00 BST = 01:00Z, 03:00 BST = 02:00Z (ends 04:00 BST = 03:00Z)
    assert [s["starts_at"] for s in slots] == [
        "2026-03-29T00:00:00+00:00",
        "2026-03-29T01:00:00+00:00",
        "2026-03-29T02:00:00+00:00",
    ]


# --- booking --------------------------------------------------------------------------------------


def test_book_uses_a_credit_and_queues_everything(
    scenario: Scenario, booked: dict[str, Any]
) -> None:
    student = scenario.api(booked["student"])
    session = ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9)))
    assert session["status"] == "scheduled"
    assert session["ends_at"] == "2026-11-03T15:00:00+00:00"
    assert session["blocked_until"] == "2026-11-03T15:15:00+00:00"
    pack = student.get(f"/session_packs?id=eq.{booked['pack']}&select=remaining_sessions").json()
    assert pack == [{"remaining_sessions": 3}]
    c = scenario.conn
    assert c.execute(
        "select kind::text, delta from public.session_credit_ledger where session_id = %s",
        (session["id"],),
    ).fetchall() == [("session_booked", -1)]
    kinds = c.execute(
        "select kind::text, channel::text, recipient_id, send_after from public.notifications"
        " where session_id = %s order by 1, 2, 4",
        (session["id"],),
    ).fetchall()
    # booked: student by email + Discord (linked), mentor by email; reminders 24 h and 1 h for both
    assert sorted((k, ch) for k, ch, _, _ in kinds) == sorted(
        [
            ("session_booked", "email"),
            ("session_booked", "discord"),
            ("session_booked", "email"),
            ("session_reminder_24h", "email"),
            ("session_reminder_24h", "discord"),
            ("session_reminder_24h", "email"),
            ("session_reminder_1h", "email"),
            ("session_reminder_1h", "discord"),
            ("session_reminder_1h", "email"),
        ]
    )
    assert {send for k, _, _, send in kinds if k == "session_reminder_24h"} == {ny(2, 9)}
    assert {send for k, _, _, send in kinds if k == "session_reminder_1h"} == {ny(3, 8)}
    assert (
        scenario.one(
            "select count(*) from private.calendar_jobs where session_id = %s and action = 'upsert'",
            session["id"],
        )
        == 1
    )
    assert (
        scenario.one(
            "select actor_id from public.audit_log where row_id = %s and action = 'sessions.created'",
            session["id"],
        )
        == booked["student"]
    )


@pytest.mark.parametrize(
    ("starts_at", "status", "message"),
    [
        (
            ny(3, 9, 15),
            422,
            "starts_at is not on the mentor's 30-minute grid (2026-11-03 09:15:00 in America/New_York)",
        ),
        (
            ny(3, 8, 30),
            422,
            "starts_at is outside the mentor's working hours (Tue 2026-11-03 08:30 in America/New_York)",
        ),
        (
            ny(3, 16, 30),
            422,
            "starts_at is outside the mentor's working hours",
        ),  # would end at 17:30
        (ny(7, 10), 422, "starts_at is outside the mentor's working hours (Sat"),
        (ny(2, 6), 422, "starts_at 2026-11-02 11:00:00+00 is in the past"),
        (ny(2, 15), 422, "sessions with this mentor must be booked at least 720 minutes ahead"),
        (
            dt.datetime(2027, 1, 4, 10, tzinfo=NY),
            422,
            "sessions with this mentor can be booked at most 60 days ahead",
        ),
    ],
)
def test_booking_refuses_invalid_slots(
    scenario: Scenario, booked: dict[str, Any], starts_at: dt.datetime, status: int, message: str
) -> None:
    refused(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=starts_at
        ),
        status,
        message,
    )


def test_booking_refuses_wrong_caller_and_unknown_pack(
    scenario: Scenario, booked: dict[str, Any]
) -> None:
    other = scenario.person()
    refused(
        scenario.api(other).rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9)),
        403,
        "this pack is not yours",
    )
    refused(
        scenario.api(booked["mentor"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(3, 9)
        ),
        403,
        "this pack is not yours",
    )
    refused(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id="00000000-0000-0000-0000-000000000000", starts_at=ny(3, 9)
        ),
        404,
        "no pack with id",
    )
    anon = scenario.api(None).rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9))
    assert anon.status_code == 401
    refused(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at="not a time"
        ),
        422,
        'starts_at: "not a time" is not an instant with a UTC offset',
    )


def test_booking_conflicts(scenario: Scenario, booked: dict[str, Any]) -> None:
    student = scenario.api(booked["student"])
    ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9)))
    # another student of the same mentor: the slot, and the one inside the buffer, are taken
    rival = scenario.person()
    rival_pack = scenario.pack(booked["mentor"], rival, purchased_at=NOW - dt.timedelta(days=1))
    refused(
        scenario.api(rival).rpc("book_session", pack_id=rival_pack, starts_at=ny(3, 9)),
        409,
        "that slot is taken",
    )
    refused(
        scenario.api(rival).rpc("book_session", pack_id=rival_pack, starts_at=ny(3, 9, 30)),
        409,
        "that slot is taken",
    )
    ok(scenario.api(rival).rpc("book_session", pack_id=rival_pack, starts_at=ny(3, 10, 30)))
    # the same student with another mentor at an overlapping time
    other_mentor = scenario.mentor("America/New_York")
    other_pack = scenario.pack(
        other_mentor, booked["student"], purchased_at=NOW - dt.timedelta(days=1)
    )
    refused(
        student.rpc("book_session", pack_id=other_pack, starts_at=ny(3, 9, 30)),
        409,
        "you already have a session at that time",
    )
    # the mentor's calendar
    scenario.conn.execute(
        "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at) values (%s, %s, %s)",
        (booked["mentor"], ny(4, 12), ny(4, 13)),
    )
    refused(
        student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(4, 12)),
        409,
        "the mentor is busy at that time",
    )


def test_credits_run_out(scenario: Scenario, booked: dict[str, Any]) -> None:
    student = scenario.api(booked["student"])
    for hour in (9, 11, 13, 15):
        ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, hour)))
    refused(
        student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(4, 9)),
        409,
        "no sessions left on this pack",
    )


def test_pack_expiry_instant(scenario: Scenario, clock: Clock) -> None:
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    student = scenario.person()
    # expires Wednesday 2026-11-04 11:00 New York
    pack = scenario.pack(mentor, student, purchased_at=ny(4, 11) - dt.timedelta(days=90), days=90)
    api = scenario.api(student)
    refused(
        api.rpc("book_session", pack_id=pack, starts_at=ny(4, 10, 30)),
        422,
        "the session would end after the pack expires",
    )
    ok(api.rpc("book_session", pack_id=pack, starts_at=ny(4, 10)))  # ends exactly at expiry
    clock.freeze(ny(4, 11))
    refused(api.rpc("book_session", pack_id=pack, starts_at=ny(5, 10)), 409, "this pack expired at")


def test_seat_and_pack_must_be_live(scenario: Scenario, booked: dict[str, Any]) -> None:
    c = scenario.conn
    c.execute(
        "update public.seat_reservations set status = 'grace', grace_started_at = %s, grace_ends_at = %s"
        " where student_id = %s",
        (NOW, NOW + dt.timedelta(hours=72), booked["student"]),
    )
    refused(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(3, 9)
        ),
        409,
        "your seat with this mentor is not active (grace)",
    )


# --- cancel -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before_start", "restored", "status"),
    [
        (dt.timedelta(hours=24), True, "canceled"),  # exactly the notice: credit back
        (dt.timedelta(hours=24) - dt.timedelta(seconds=1), False, "late_canceled"),
        (dt.timedelta(hours=30), True, "canceled"),
    ],
)
def test_student_cancel_notice(
    scenario: Scenario,
    booked: dict[str, Any],
    clock: Clock,
    before_start: dt.timedelta,
    restored: bool,
    status: str,
) -> None:
    api = scenario.api(booked["student"])
    session = ok(api.rpc("book_session", pack_id=booked["pack"], starts_at=ny(5, 9)))
    clock.freeze(ny(5, 9) - before_start)
    change = ok(api.rpc("cancel_session", session_id=session["id"], reason="sick"))
    assert change["credit_restored"] is restored
    assert change["session"]["status"] == status
    assert change["session"]["cancel_reason"] == "sick"
    assert scenario.one(
        "select remaining_sessions from public.session_packs where id = %s", booked["pack"]
    ) == (4 if restored else 3)
    assert (
        scenario.one(
            "select count(*) from public.notifications where session_id = %s and status = 'pending'"
            " and kind in ('session_reminder_24h', 'session_reminder_1h')",
            session["id"],
        )
        == 0
    )
    assert (
        scenario.one(
            "select count(*) from public.notifications where session_id = %s"
            " and kind = 'session_canceled'",
            session["id"],
        )
        == 3
    )
    refused(
        api.rpc("cancel_session", session_id=session["id"]),
        409,
        f"the session is already {status.replace('_', ' ')}",
    )


@pytest.mark.parametrize("who", ["mentor", "admin"])
def test_mentor_or_admin_cancel_always_restores(
    scenario: Scenario, booked: dict[str, Any], clock: Clock, who: str
) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(5, 9)
        )
    )
    clock.freeze(ny(5, 8))
    actor = booked["mentor"] if who == "mentor" else scenario.person("admin")
    change = ok(scenario.api(actor).rpc("cancel_session", session_id=session["id"]))
    assert change["credit_restored"] is True and change["session"]["status"] == "canceled"


def test_cancel_refusals(scenario: Scenario, booked: dict[str, Any], clock: Clock) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(5, 9)
        )
    )
    refused(
        scenario.api(scenario.person()).rpc("cancel_session", session_id=session["id"]),
        403,
        "this session is not yours",
    )
    refused(
        scenario.api(booked["student"]).rpc(
            "cancel_session", session_id="00000000-0000-0000-0000-000000000000"
        ),
        404,
        "no session with id",
    )
    clock.freeze(ny(5, 9))
    refused(
        scenario.api(booked["mentor"]).rpc("cancel_session", session_id=session["id"]),
        409,
        "the session has started",
    )


# --- reschedule --------------------------------------------------------------------------------


def test_reschedule_moves_session_and_reminders(
    scenario: Scenario, booked: dict[str, Any], clock: Clock
) -> None:
    api = scenario.api(booked["student"])
    session = ok(api.rpc("book_session", pack_id=booked["pack"], starts_at=ny(5, 9)))
    clock.freeze(ny(5, 9) - dt.timedelta(hours=24))  # exactly the notice: allowed
    moved = ok(api.rpc("reschedule_session", session_id=session["id"], starts_at=ny(6, 14)))
    assert dt.datetime.fromisoformat(moved["starts_at"]) == ny(6, 14)
    assert moved["reschedule_count"] == 1
    assert (
        scenario.one(
            "select remaining_sessions from public.session_packs where id = %s", booked["pack"]
        )
        == 3
    )
    pending = scenario.conn.execute(
        "select kind::text, send_after from public.notifications where session_id = %s and status = 'pending'"
        " and kind in ('session_reminder_24h', 'session_reminder_1h') order by 1",
        (session["id"],),
    ).fetchall()
    assert {p[1] for p in pending if p[0] == "session_reminder_1h"} == {ny(6, 13)}
    assert {p[1] for p in pending if p[0] == "session_reminder_24h"} == {ny(5, 14)}
    assert (
        len(pending) == 6
    )  # 24 h and 1 h, each to the student (email, Discord) and the mentor (email)
    assert (
        scenario.one(
            "select count(*) from private.calendar_jobs where session_id = %s", session["id"]
        )
        == 2
    )


def test_reschedule_refusals(scenario: Scenario, booked: dict[str, Any], clock: Clock) -> None:
    api = scenario.api(booked["student"])
    session = ok(api.rpc("book_session", pack_id=booked["pack"], starts_at=ny(5, 9)))
    ok(api.rpc("book_session", pack_id=booked["pack"], starts_at=ny(5, 13)))
    refused(
        api.rpc("reschedule_session", session_id=session["id"], starts_at=ny(5, 13)),
        409,
        "that slot is taken",
    )
    refused(
        api.rpc("reschedule_session", session_id=session["id"], starts_at=ny(5, 20)),
        422,
        "starts_at is outside the mentor's working hours",
    )
    refused(
        api.rpc("reschedule_session", session_id=session["id"], starts_at=ny(5, 9)),
        422,
        "the session already starts at",
    )
    refused(
        scenario.api(scenario.person()).rpc(
            "reschedule_session", session_id=session["id"], starts_at=ny(6, 9)
        ),
        403,
        "this session is not yours",
    )
    clock.freeze(ny(5, 9) - dt.timedelta(hours=24) + dt.timedelta(seconds=1))
    refused(
        api.rpc("reschedule_session", session_id=session["id"], starts_at=ny(6, 9)),
        409,
        "too late to reschedule: less than 24 hours before the start",
    )
    ok(
        scenario.api(booked["mentor"]).rpc(
            "reschedule_session", session_id=session["id"], starts_at=ny(6, 9)
        )
    )


# --- complete, no-show, renewal, depletion, grace -------------------------------------------------


def test_complete_and_no_shows_through_to_grace(
    scenario: Scenario, booked: dict[str, Any], clock: Clock
) -> None:
    student, mentor = scenario.api(booked["student"]), scenario.api(booked["mentor"])
    ids = [
        ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3 + i, 9)))["id"]
        for i in range(4)
    ]
    refused(
        mentor.rpc("complete_session", session_id=ids[0]), 409, "the session has not started yet"
    )
    clock.freeze(ny(3, 9))  # exactly the start
    refused(
        student.rpc("complete_session", session_id=ids[0]),
        403,
        "only the session's mentor or an admin",
    )
    done = ok(
        mentor.rpc(
            "complete_session",
            session_id=ids[0],
            notes="Perspective drills",
            recording_url="https://example.com/r/1",
        )
    )
    assert done["status"] == "completed" and done["notes"] == "Perspective drills"
    refused(
        mentor.rpc("complete_session", session_id=ids[0]), 409, "the session is already completed"
    )
    refused(
        mentor.rpc("complete_session", session_id=ids[1], recording_url="http://x"),
        409,
        "the session has not started yet",
    )
    clock.freeze(ny(4, 10))
    refused(
        mentor.rpc("complete_session", session_id=ids[1], recording_url="ftp://x"),
        422,
        "recording_url must be an https:// URL",
    )
    refused(
        mentor.rpc("mark_no_show", session_id=ids[1], who="nobody"),
        422,
        'who: "nobody" is not student or mentor',
    )
    restored = ok(mentor.rpc("mark_no_show", session_id=ids[1], who="mentor"))
    assert restored["credit_restored"] is True and restored["session"]["status"] == "mentor_no_show"
    c = scenario.conn
    assert (
        scenario.one(
            "select remaining_sessions from public.session_packs where id = %s", booked["pack"]
        )
        == 1
    )
    # one credit left + 2 scheduled: the renewal reminder waits
    assert (
        scenario.one(
            "select count(*) from public.notifications where pack_id = %s and kind = 'renewal_reminder'",
            booked["pack"],
        )
        == 0
    )
    clock.freeze(ny(5, 10))
    ok(mentor.rpc("mark_no_show", session_id=ids[2], who="student"))  # uses the credit
    # second-to-last: one credit + one scheduled... = 2 still to happen; book the last credit first
    assert (
        scenario.one(
            "select count(*) from public.notifications where pack_id = %s and kind = 'renewal_reminder'",
            booked["pack"],
        )
        == 0
    )
    ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(9, 9)))
    clock.freeze(ny(6, 10))
    ok(mentor.rpc("complete_session", session_id=ids[3]))  # now exactly one is left to happen
    assert (
        scenario.one(
            "select count(*) from public.notifications where pack_id = %s and kind = 'renewal_reminder'",
            booked["pack"],
        )
        == 2
    )  # email + Discord
    last = scenario.one(
        "select id from public.sessions where pack_id = %s and status = 'scheduled'", booked["pack"]
    )
    clock.freeze(ny(9, 10))
    ok(mentor.rpc("complete_session", session_id=last))
    pack = c.execute(
        "select status::text, remaining_sessions from public.session_packs where id = %s",
        (booked["pack"],),
    ).fetchone()
    assert pack == ("depleted", 0)
    seat = c.execute(
        "select status::text, grace_ends_at from public.seat_reservations where student_id = %s",
        (booked["student"],),
    ).fetchone()
    assert seat == ("grace", ny(9, 10) + dt.timedelta(hours=72))
    assert (
        scenario.one(
            "select count(*) from public.notifications where recipient_id = %s and kind = 'grace_started'",
            booked["student"],
        )
        == 2
    )
    assert (
        scenario.one(
            "select count(*) from public.notifications where recipient_id = %s"
            " and kind = 'one_session_left'",
            booked["student"],
        )
        == 2
    )


# --- admin adjustment -----------------------------------------------------------------------------


def test_adjust_pack_sessions(scenario: Scenario, booked: dict[str, Any]) -> None:
    admin = scenario.api(scenario.person("admin"))
    refused(
        scenario.api(booked["mentor"]).rpc(
            "adjust_pack_sessions", pack_id=booked["pack"], delta=1, reason="x"
        ),
        403,
        "only admins can adjust a pack",
    )
    refused(
        admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=1, reason="  "),
        422,
        "reason is required",
    )
    refused(
        admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=0, reason="x"),
        422,
        "delta: 0 changes nothing",
    )
    refused(
        admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=-5, reason="x"),
        409,
        "the pack has 4 sessions left; cannot remove 5",
    )
    pack = ok(
        admin.rpc(
            "adjust_pack_sessions", pack_id=booked["pack"], delta=2, reason="call dropped twice"
        )
    )
    assert pack["remaining_sessions"] == 6
    entry = scenario.conn.execute(
        "select kind::text, delta, reason from public.session_credit_ledger where pack_id = %s",
        (booked["pack"],),
    ).fetchall()
    assert entry == [("admin_adjustment", 2, "call dropped twice")]
    assert (
        scenario.one(
            "select reason from public.audit_log where row_id = %s"
            " and action = 'session_packs.sessions_adjusted'",
            booked["pack"],
        )
        == "call dropped twice"
    )
    ok(admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=-6, reason="chargeback"))
    assert (
        scenario.one("select status::text from public.session_packs where id = %s", booked["pack"])
        == "depleted"
    )
    assert (
        scenario.one(
            "select status::text from public.seat_reservations where student_id = %s",
            booked["student"],
        )
        == "grace"
    )
    ok(admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=1, reason="goodwill"))
    assert (
        scenario.one("select status::text from public.session_packs where id = %s", booked["pack"])
        == "active"
    )
    assert (
        scenario.one(
            "select status::text from public.seat_reservations where student_id = %s",
            booked["student"],
        )
        == "active"
    )


# --- video access -------------------------------------------------------------------------------


def test_video_access_window(scenario: Scenario, booked: dict[str, Any], clock: Clock) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(3, 9)
        )
    )
    student, mentor = scenario.api(booked["student"]), scenario.api(booked["mentor"])
    clock.freeze(ny(3, 8, 50) - dt.timedelta(seconds=1))
    refused(student.rpc("video_session_access", session_id=session["id"]), 409, "the call opens at")
    clock.freeze(ny(3, 8, 50))
    access = ok(student.rpc("video_session_access", session_id=session["id"]))
    assert access["channel"] == session["video_channel"] and access["role"] == "student"
    assert access["expires_at"] == "2026-11-03T15:15:00+00:00"
    assert ok(mentor.rpc("video_session_access", session_id=session["id"]))["role"] == "mentor"
    refused(
        scenario.api(scenario.person("admin")).rpc(
            "video_session_access", session_id=session["id"]
        ),
        403,
        "only the session's student and mentor",
    )
    clock.freeze(ny(3, 10, 15))
    refused(
        student.rpc("video_session_access", session_id=session["id"]), 409, "the call closed at"
    )
