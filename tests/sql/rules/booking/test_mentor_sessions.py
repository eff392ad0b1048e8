"""mentor_sessions (sql/rules/booking/mentor_sessions.sql): a mentor's sessions newest first,
page by page, the same rows the table's policies give; who may read them and each refusal;
over real PostgREST with real JWTs."""

from __future__ import annotations

from typing import Any

from testing.api import ok, refused
from testing.booking import ny
from testing.factories import Scenario

COLUMNS = "select=id,starts_at,status&order=starts_at.desc,id.desc"


def booked_four(scenario: Scenario, booked: dict[str, Any]) -> list[dict[str, Any]]:
    """Three sessions booked, one of them canceled early and its slot booked again (two rows
    with the same starts_at: the page cursor needs the id too)."""
    student = scenario.api(booked["student"])
    for starts_at in (ny(3, 9), ny(3, 11), ny(4, 9)):
        ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=starts_at))
    canceled = scenario.one(
        "select id from public.sessions where pack_id = %s and starts_at = %s",
        booked["pack"],
        ny(3, 11),
    )
    ok(student.rpc("cancel_session", session_id=canceled))
    ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 11)))
    rows: list[dict[str, Any]] = ok(scenario.api(booked["mentor"]).get(f"/sessions?{COLUMNS}"))
    assert len(rows) == 4 and rows[1]["starts_at"] == rows[2]["starts_at"]
    return rows


def trimmed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in ("id", "starts_at", "status")} for r in rows]


def test_a_mentor_reads_the_rows_the_policies_give_newest_first(
    scenario: Scenario, booked: dict[str, Any]
) -> None:
    expected = booked_four(scenario, booked)
    mentor = scenario.api(booked["mentor"])
    assert trimmed(ok(mentor.rpc("mentor_sessions"))) == expected
    # every column of the table, as the table read gives them
    whole = ok(mentor.rpc("mentor_sessions", max_rows="1"))
    assert whole == ok(mentor.get(f"/sessions?id=eq.{expected[0]['id']}"))
    # an admin, any mentor's
    admin = scenario.api(scenario.person("admin"))
    assert trimmed(ok(admin.rpc("mentor_sessions", mentor_id=booked["mentor"]))) == expected


def test_pages_follow_the_cursor_through_equal_start_times(
    scenario: Scenario, booked: dict[str, Any]
) -> None:
    expected = booked_four(scenario, booked)
    mentor = scenario.api(booked["mentor"])
    pages: list[list[dict[str, Any]]] = []
    cursor: dict[str, str] = {}
    while True:
        page = trimmed(ok(mentor.rpc("mentor_sessions", max_rows="1", **cursor)))
        if not page:
            break
        pages.append(page)
        cursor = {"before": page[-1]["starts_at"], "before_id": page[-1]["id"]}
    assert [p[0] for p in pages] == expected
    # before alone: strictly earlier starts (both rows at 11:00 are left out before 11:00)
    earlier = trimmed(ok(mentor.rpc("mentor_sessions", before=expected[1]["starts_at"])))
    assert earlier == expected[3:]


def test_who_may_not_read_and_bad_arguments(scenario: Scenario, booked: dict[str, Any]) -> None:
    student = scenario.api(booked["student"])
    refused(student.rpc("mentor_sessions"), 422, "mentor_id is required: you are not a mentor")
    refused(
        student.rpc("mentor_sessions", mentor_id=booked["mentor"]),
        403,
        "only the mentor and admins may list a mentor's sessions",
    )
    other = scenario.api(scenario.mentor())
    response = other.rpc("mentor_sessions", mentor_id=booked["mentor"])
    refused(response, 403, "only the mentor and admins")
    assert response.json()["details"] == "mentor_id"
    assert ok(other.rpc("mentor_sessions")) == []
    admin = scenario.api(scenario.person("admin"))
    refused(
        admin.rpc("mentor_sessions", mentor_id=booked["student"]),
        404,
        "no mentor with that mentor_id",
    )
    mentor = scenario.api(booked["mentor"])
    response = mentor.rpc("mentor_sessions", max_rows="501")
    refused(response, 422, 'max_rows: "501" is outside 1 to 500')
    assert response.json()["details"] == "max_rows"
    refused(mentor.rpc("mentor_sessions", before="yesterday"), 422, 'before: "yesterday"')
    refused(mentor.rpc("mentor_sessions", before_id=booked["pack"]), 422, "before_id needs before")
    anon = scenario.api(None).rpc("mentor_sessions", mentor_id=booked["mentor"])
    assert anon.status_code == 401, anon.text
