"""Columns a person may not write even on their own row, rows they may not add for another, and
direct writes refused naming the column and the accepted form; over real HTTP with real JWTs,
every request asked to roll back and checked to leave the public tables as they were."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from testing.api import Api
from testing.rls_checks import check_answer, persists_nothing
from testing.rls_matrix import DENIED, RLS
from testing.world import World, wid

# Columns a person may not write, even on their own row --------------------------------------------
FORBIDDEN_COLUMNS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("student_a", "profiles", "student_a", {"role": "admin"}),
    ("student_a", "profiles", "student_a", {"email": "someone@else.test"}),
    # only Discord's OAuth2 flow sets it (link_discord, service role)
    ("student_a", "profiles", "student_a", {"discord_user_id": "80351110224678912"}),
    ("admin", "profiles", "student_a", {"discord_user_id": "80351110224678912"}),
    ("mentor_a", "mentors", "mentor_a", {"seat_capacity": 50}),
    ("mentor_a", "mentors", "mentor_a", {"is_active": True}),
    ("mentor_a", "mentorship_products", "product_a", {"mentor_id": str(wid("mentor_b"))}),
    ("admin", "promotion_codes", "code_global", {"code": "FREE100"}),
    ("student_a", "session_packs", "pack_a", {"remaining_sessions": 99}),
    ("student_a", "notification_preferences", "pref_a", {"created_at": "2031-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize(
    ("actor", "table", "label", "body"),
    FORBIDDEN_COLUMNS,
    ids=[f"{a}-{t}-{next(iter(b))}" for a, t, _, b in FORBIDDEN_COLUMNS],
)
def test_columns_outside_the_grant_are_refused(
    actors: dict[str, Api],
    world: World,
    conn: psycopg.Connection[Any],
    actor: str,
    table: str,
    label: str,
    body: dict[str, Any],
) -> None:
    with persists_nothing(conn, f"{actor} PATCH {table}"):
        response = actors[actor].request(
            "PATCH", f"/{table}?id=eq.{world[label]}", json=body, rollback=True
        )
    check_answer(actors[actor], world, table, DENIED, response)


def test_a_mentor_cannot_add_a_product_for_another_mentor(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any]
) -> None:
    with persists_nothing(conn, "mentor_b POST mentorship_products"):
        response = actors["mentor_b"].request(
            "POST",
            "/mentorship_products",
            rollback=True,
            json={"mentor_id": str(world["mentor_a"]), "title": "Not mine", "price_cents": 100},
        )
    check_answer(actors["mentor_b"], world, "mentorship_products", RLS, response)


def test_invalid_working_hours_are_refused_naming_the_column_and_the_form(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any]
) -> None:
    with persists_nothing(conn, "mentor_a PATCH mentors"):
        response = actors["mentor_a"].request(
            "PATCH",
            f"/mentors?id=eq.{world['mentor_a']}",
            rollback=True,
            json={"working_hours": [{"weekday": 1, "start": "10:00", "end": "09:00"}]},
        )
    assert response.status_code == 422
    assert response.reason_phrase == "Unprocessable Entity"
    body = response.json()
    assert body["code"] == "PT422"
    assert body["details"] == "working_hours"
    assert body["message"].startswith("working_hours must be a list of")
    assert '"start": "HH:MM"' in body["hint"]


def test_a_kind_that_may_not_be_turned_off_is_refused_naming_the_column(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any]
) -> None:
    with persists_nothing(conn, "student_a PATCH notification_preferences"):
        response = actors["student_a"].request(
            "PATCH",
            f"/notification_preferences?id=eq.{world['pref_a']}",
            rollback=True,
            json={"kind": "session_booked"},
        )
    assert response.status_code == 422
    assert response.reason_phrase == "Unprocessable Entity"
    assert response.json() == {
        "code": "PT422",
        "message": "kind: session_booked messages may not be turned off",
        "details": "kind",
        "hint": "Only these kinds may be turned off: session_reminder_24h, session_reminder_1h,"
        " renewal_reminder, one_session_left.",
    }
