"""complete_session and mark_no_show (sql/rules/booking/close.sql) through renewal reminder,
depletion and grace; over real PostgREST with real JWTs and a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from testing.api import ok, refused
from testing.booking import ny
from testing.clock import Clock
from testing.factories import Scenario


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
