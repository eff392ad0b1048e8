"""The reports through the API (Accept-Profile: analytics), for every actor over real HTTP: admins
read every mart, students and mentors read nothing (200, no rows), anon is refused, and nobody
writes, admins and the service role included. The marts are enumerated from the catalog: the real
ones (built by `mentorships reports build`, tests/test_reports_build.py) are checked the same
way as the probe made here as the post-hook makes a mart."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from supabase import create_client
from testing.api import Api
from testing.reports import (
    NOBODY,
    PROFILE,
    READERS,
    WRITE_PROFILE,
    check_contract,
    first_column,
    mart_like_post_hook,
    marts,
    served,
)


@pytest.fixture(scope="module")
def every_mart(conn: psycopg.Connection, actors: dict[str, Api]) -> list[tuple[str, int]]:
    mart_like_post_hook(conn, "api_probe")
    found = []
    for mart in marts(conn):
        served(conn, actors["service"], mart)
        row = conn.execute(f'select count(*) from analytics."{mart}"').fetchone()
        assert row is not None
        found.append((mart, int(row[0])))
    assert ("api_probe", 2) in found
    return found


@pytest.mark.parametrize("actor", READERS)
def test_admins_and_the_service_role_read_every_row(
    actors: dict[str, Api], every_mart: list[tuple[str, int]], actor: str
) -> None:
    for mart, rows in every_mart:
        r = actors[actor].get(f"/{mart}", headers=PROFILE)
        assert r.status_code == 200, f"{actor} {mart}: {r.text}"
        assert len(r.json()) == min(rows, 1000), f"{actor} {mart}"


@pytest.mark.parametrize("actor", NOBODY)
def test_students_and_mentors_read_nothing(
    actors: dict[str, Api], every_mart: list[tuple[str, int]], actor: str
) -> None:
    for mart, _ in every_mart:
        r = actors[actor].get(f"/{mart}", headers=PROFILE)
        assert (r.status_code, r.json()) == (200, []), f"{actor} {mart}: {r.text}"


def test_anon_is_refused(actors: dict[str, Api], every_mart: list[tuple[str, int]]) -> None:
    for mart, _ in every_mart:
        body = check_contract(actors["anon"].get(f"/{mart}", headers=PROFILE), 401, "42501")
        assert body["message"] == "permission denied for schema analytics", mart


@pytest.mark.parametrize("actor", ("anon", *NOBODY, *READERS))
@pytest.mark.parametrize("method", ("POST", "PATCH", "DELETE"))
def test_nobody_writes_a_mart(
    actors: dict[str, Api],
    every_mart: list[tuple[str, int]],
    conn: psycopg.Connection,
    actor: str,
    method: str,
) -> None:
    status = 401 if actor == "anon" else 403
    for mart, rows in every_mart:
        column = first_column(conn, mart)
        kw: dict[str, Any] = {"headers": WRITE_PROFILE}
        if method != "DELETE":
            kw["json"] = {column: None}
        path = f"/{mart}" if method == "POST" else f"/{mart}?{column}=not.is.null"
        r = actors[actor].request(method, path, rollback=True, **kw)
        body = check_contract(r, status, "42501")
        assert body["message"] in (
            f"permission denied for table {mart}",
            "permission denied for schema analytics",
        ), body
        row = conn.execute(f'select count(*) from analytics."{mart}"').fetchone()
        assert row == (rows,), mart


def test_an_unexposed_schema_is_refused_in_the_error_shape(actors: dict[str, Api]) -> None:
    body = check_contract(
        actors["admin"].get("/report_runs", headers={"Accept-Profile": "private"}), 406, "PGRST106"
    )
    assert "public, analytics" in body["message"]


def test_supabase_py_reads_the_marts_as_an_admin(
    settings: Settings, every_mart: list[tuple[str, int]], world: Any
) -> None:
    from testing.world import email

    client = create_client(settings.gateway_url, jwt.anon_key(settings))
    client.postgrest.auth(jwt.user_token(settings, world.uid("admin"), email("admin")))
    rows = client.schema("analytics").table("api_probe").select("id, label").order("id").execute()
    assert rows.data == [{"id": 1, "label": "one"}, {"id": 2, "label": "two"}]
    client.postgrest.auth(jwt.user_token(settings, world.uid("student_a"), email("student_a")))
    assert client.schema("analytics").table("api_probe").select("id").execute().data == []
