"""The frozen, settable clock every rule reads; visible through PostgREST too."""

from __future__ import annotations

import datetime as dt

import psycopg

from testing.api import Api
from testing.clock import Clock


def test_freeze_and_advance(clock: Clock, conn: psycopg.Connection) -> None:
    at = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)
    clock.freeze(at)
    assert clock.now() == at
    assert clock.advance(dt.timedelta(hours=25)) == at + dt.timedelta(hours=25)
    assert clock.now() == at + dt.timedelta(hours=25)


def test_unfrozen_clock_is_the_real_one(clock: Clock, conn: psycopg.Connection) -> None:
    row = conn.execute("select private.clock_now() = now()").fetchone()
    assert row == (True,)


def test_frozen_clock_drives_free_seats_through_the_api(
    clock: Clock, conn: psycopg.Connection, actors: dict[str, Api], world: object
) -> None:
    from testing.world import wid

    hold_until = dt.datetime(2031, 6, 1, 12, 0, tzinfo=dt.UTC)
    with conn.transaction():
        conn.execute(
            "insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)"
            " values (%s, %s, 'hold', %s)",
            (wid("mentor_b"), wid("student_a"), hold_until),
        )
    try:

        def free() -> int:
            r = actors["anon"].get(f"/mentors?select=free_seats&id=eq.{wid('mentor_b')}")
            return int(r.json()[0]["free_seats"])

        clock.freeze(hold_until - dt.timedelta(minutes=1))
        assert free() == 1  # capacity 3: one active seat, one live hold
        clock.freeze(hold_until)
        assert free() == 2  # the hold ran out at that instant
    finally:
        conn.execute(
            "delete from public.seat_reservations where mentor_id = %s and student_id = %s",
            (wid("mentor_b"), wid("student_a")),
        )


def test_platform_now_is_the_rules_clock(clock: Clock, actors: dict[str, Api]) -> None:
    at = clock.freeze(dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC))
    assert actors["anon"].rpc("platform_now").status_code == 401
    for who in ("student_a", "mentor_a", "admin", "service"):
        r = actors[who].rpc("platform_now")
        assert r.status_code == 200, r.text
        assert dt.datetime.fromisoformat(r.json()) == at
    clock.unfreeze()
    r = actors["student_a"].rpc("platform_now")
    assert abs(dt.datetime.fromisoformat(r.json()) - dt.datetime.now(dt.UTC)) < dt.timedelta(
        seconds=30
    )
