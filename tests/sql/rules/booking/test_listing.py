"""Availability listed through mentor_availability: working hours in the mentor's zone, notice,
horizon, sessions, buffer, calendar busy times, DST, bad input; over real PostgREST with real
JWTs and a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from testing.api import ok, refused
from testing.booking import NOW, NY, UTC, ny
from testing.clock import Clock
from testing.factories import Scenario


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
