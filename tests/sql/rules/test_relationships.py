"""my_mentors and my_mentees (sql/rules/relationships.sql): a student's mentors and a mentor's
students, live, for the top of their dashboards; over real PostgREST with real JWTs and a frozen
clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from testing.api import ok
from testing.booking import NOW, booked_world, ny
from testing.clock import Clock
from testing.factories import Scenario

UTC = dt.UTC


@pytest.fixture
def booked(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    return booked_world(scenario, clock)


def iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).isoformat()


def test_both_sides_see_the_same_relationship_as_it_moves(
    scenario: Scenario, booked: dict[str, Any], clock: Clock
) -> None:
    student, mentor = scenario.api(booked["student"]), scenario.api(booked["mentor"])
    first = ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9)))
    ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(4, 9)))
    clock.freeze(ny(3, 10, 30))
    ok(mentor.rpc("complete_session", session_id=first["id"]))
    [row] = ok(student.rpc("my_mentors"))
    product = scenario.one(
        "select product_id from public.session_packs where id = %s", booked["pack"]
    )
    assert {k: row[k] for k in row if k not in ("mentor_name", "student_name")} == {
        "mentor_id": str(booked["mentor"]),
        "mentor_time_zone": "America/New_York",
        "student_id": str(booked["student"]),
        "student_time_zone": "Asia/Tokyo",
        "sessions_remaining": 2,
        "sessions_total": 4,
        "sessions_completed": 1,
        "last_session_at": iso(ny(3, 9)),
        "next_session_at": iso(ny(4, 9)),
        "current_pack_id": str(booked["pack"]),
        "current_pack_status": "active",
        "current_pack_expires_at": iso(NOW + dt.timedelta(days=90 - 7)),
        "seat_status": "active",
        "seat_grace_ends_at": None,
        "one_session_left": False,
        "renew_product_id": str(product),
    }
    assert ok(mentor.rpc("my_mentees")) == [row]  # the mentor's view of the same relationship
    # strangers and the other side's call see nothing of it
    assert ok(scenario.api(scenario.person()).rpc("my_mentors")) == []
    assert ok(student.rpc("my_mentees")) == []
    assert ok(mentor.rpc("my_mentors")) == []
    assert scenario.api(None).rpc("my_mentors").status_code == 401


def test_one_session_left_and_nothing_booked_is_the_moment_to_renew(
    scenario: Scenario, booked: dict[str, Any], clock: Clock
) -> None:
    student = scenario.api(booked["student"])
    booked_ids = [
        ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(d, 9)))["id"]
        for d in (3, 4, 5)
    ]
    [row] = ok(student.rpc("my_mentors"))
    assert (row["sessions_remaining"], row["one_session_left"]) == (1, False)  # two still booked
    clock.freeze(ny(5, 10, 30))
    for sid in booked_ids:
        ok(scenario.api(booked["mentor"]).rpc("complete_session", session_id=sid))
    [row] = ok(student.rpc("my_mentors"))
    assert (row["sessions_remaining"], row["next_session_at"], row["one_session_left"]) == (
        1,
        None,
        True,
    )
    # the product no longer sold: nothing to renew with
    scenario.conn.execute(
        "update public.mentorship_products set is_active = false where id = %s",
        (row["renew_product_id"],),
    )
    [row] = ok(student.rpc("my_mentors"))
    assert row["renew_product_id"] is None
