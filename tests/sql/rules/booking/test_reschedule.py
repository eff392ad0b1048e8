"""reschedule_session (sql/rules/booking/reschedule.sql): the session and its reminders move;
refusals; over real PostgREST with real JWTs and a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from testing.api import ok, refused
from testing.booking import ny
from testing.clock import Clock
from testing.factories import Scenario


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
