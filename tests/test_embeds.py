"""The embeds a client needs (sql/rules/embeds.sql): from a session, pack, seat or order,
`mentor(...)` is the mentor's row and `student(...)` the student's profile, each under its own
RLS, through the real gateway."""

from __future__ import annotations

import pytest

from testing import world as world_
from testing.api import Api

TABLES = ("sessions", "session_packs", "seat_reservations", "orders")
ROW = {
    "sessions": "session_a",
    "session_packs": "pack_a",
    "seat_reservations": "seat_a",
    "orders": "order_a",
}


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("actor", ["student_a", "admin"])
def test_a_row_embeds_its_mentor_and_student(
    actors: dict[str, Api], world: world_.World, table: str, actor: str
) -> None:
    response = actors[actor].get(
        f"/{table}?id=eq.{world[ROW[table]]}"
        "&select=id,mentor(id,public_name,time_zone),student(id,display_name,time_zone)"
    )
    assert response.status_code == 200, response.text
    [row] = response.json()
    assert row["mentor"] == {
        "id": str(world["mentor_a"]),
        "public_name": world_.USERS["mentor_a"][1],
        "time_zone": world_.USERS["mentor_a"][2],
    }
    assert row["student"] == {
        "id": str(world["student_a"]),
        "display_name": world_.USERS["student_a"][1],
        "time_zone": world_.USERS["student_a"][2],
    }


@pytest.mark.parametrize("table", ["sessions", "session_packs", "seat_reservations"])
def test_a_mentor_sees_their_students_profile(
    actors: dict[str, Api], world: world_.World, table: str
) -> None:
    response = actors["mentor_a"].get(
        f"/{table}?id=eq.{world[ROW[table]]}&select=id,student(display_name),mentor(public_name)"
    )
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "id": str(world[ROW[table]]),
            "student": {"display_name": world_.USERS["student_a"][1]},
            "mentor": {"public_name": world_.USERS["mentor_a"][1]},
        }
    ]


def test_embeds_keep_rls_a_student_sees_no_other_students_rows(
    actors: dict[str, Api], world: world_.World
) -> None:
    response = actors["student_b"].get(
        f"/sessions?id=eq.{world['session_a']}&select=id,student(display_name)"
    )
    assert response.status_code == 200
    assert response.json() == []


def test_sessions_embed_profiles_by_name_not_by_the_canceled_by_key(
    actors: dict[str, Api], world: world_.World
) -> None:
    # `profiles(...)` from a session follows canceled_by (the only key to profiles); the named
    # embeds are what a client means.
    response = actors["student_a"].get(
        f"/sessions?id=eq.{world['session_a']}&select=canceled_by,profiles(display_name),student(display_name)"
    )
    assert response.status_code == 200, response.text
    [row] = response.json()
    assert row["canceled_by"] is None and row["profiles"] is None
    assert row["student"] == {"display_name": world_.USERS["student_a"][1]}
