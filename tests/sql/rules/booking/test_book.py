"""book_session (sql/rules/booking/book.sql): a credit used and everything queued, every refusal,
conflicts, credits running out, the expiry instant; over real PostgREST with real JWTs and a
frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from testing.api import ok, refused
from testing.booking import NOW, NY, ny
from testing.clock import Clock
from testing.factories import Scenario


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
