"""Who may do what, over real HTTP: every table x select/insert/update/delete x actor, through
the gateway with real JWTs, each cell as testing/rls_matrix.py expects it. Writes carry
`Prefer: tx=rollback`, so nothing they do persists: every write is checked to leave the public
tables as they were, and so is the whole module."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from testing.api import Api
from testing.rls_checks import check_answer, fingerprint, persists_nothing, world_filter
from testing.rls_matrix import DELETE, INSERT, LABELS, SELECT, UPDATE
from testing.world import ACTORS, World, wid


def test_matrix_covers_every_public_table(conn: Any) -> None:
    tables = {
        r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")
    }
    for matrix in (SELECT, INSERT, UPDATE, DELETE):
        assert set(matrix) == tables
    for expectations in SELECT.values():
        assert set(expectations) == set(ACTORS)


@pytest.fixture(scope="module", autouse=True)
def tables_before_the_module(conn: psycopg.Connection[Any], world: World) -> dict[str, str]:
    return fingerprint(conn)


def _cases(matrix: dict[str, Any]) -> list[Any]:
    return [pytest.param(t, a, id=f"{t}-{a}") for t in sorted(matrix) for a in ACTORS]


@pytest.mark.parametrize(("table", "actor"), _cases(SELECT))
def test_select(actors: dict[str, Api], world: World, table: str, actor: str) -> None:
    api = actors[actor]
    response = api.get(f"/{table}?{world_filter(world, table)}")
    check_answer(api, world, table, SELECT[table][actor], response)


@pytest.mark.parametrize(("table", "actor"), _cases(INSERT))
def test_insert(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any], table: str, actor: str
) -> None:
    api = actors[actor]
    make_row, expectations = INSERT[table]
    row = make_row(world)
    with persists_nothing(conn, f"{actor} POST {table}"):
        response = api.request("POST", f"/{table}", json=row, rollback=True)
    check_answer(api, world, table, expectations[actor], response, written=row)


@pytest.mark.parametrize("table", sorted(UPDATE))
def test_updates_write_values_the_world_does_not_hold(
    conn: psycopg.Connection[Any], world: World, table: str
) -> None:
    """Else an update that changed nothing would pass for one that wrote."""
    body, _ = UPDATE[table]
    ids = [str(world[label]).lower() for label in LABELS[table]]
    for column, value in body.items():
        held = conn.execute(
            sql.SQL(
                "select count(*) from public.{} t where t.id::text = any(%s) and to_jsonb(t) -> %s::text = %s"
            ).format(sql.Identifier(table)),
            (ids, column, Jsonb(value)),
        ).fetchone()
        assert held == (0,), f"{table}.{column} already holds {value!r}"


@pytest.mark.parametrize(("table", "actor"), _cases(UPDATE))
def test_update(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any], table: str, actor: str
) -> None:
    api = actors[actor]
    body, expectations = UPDATE[table]
    with persists_nothing(conn, f"{actor} PATCH {table}"):
        response = api.request(
            "PATCH", f"/{table}?{world_filter(world, table)}", json=body, rollback=True
        )
    check_answer(api, world, table, expectations[actor], response, written=body)


@pytest.mark.parametrize(("table", "actor"), _cases(DELETE))
def test_delete(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any], table: str, actor: str
) -> None:
    api = actors[actor]
    with persists_nothing(conn, f"{actor} DELETE {table}"):
        response = api.request("DELETE", f"/{table}?{world_filter(world, table)}", rollback=True)
    check_answer(api, world, table, DELETE[table][actor], response)


def test_rolled_back_writes_left_nothing(
    conn: psycopg.Connection[Any], tables_before_the_module: dict[str, str]
) -> None:
    """Last in the module: after all its writes (every one asked for tx=rollback), every public
    table is as the module found it, and the world as it was made."""
    after = fingerprint(conn)
    changed = sorted(
        t
        for t in tables_before_the_module.keys() | after.keys()
        if tables_before_the_module.get(t) != after.get(t)
    )
    assert changed == []
    mentors = [wid("mentor_a"), wid("mentor_b"), wid("mentor_x"), wid("mentor_new")]
    people = [wid(label) for label in ("student_a", "student_b", "mentor_a", "mentor_b")]
    assert conn.execute(
        "select count(*) from public.mentorship_products where mentor_id = any(%s)", (mentors,)
    ).fetchone() == (4,)
    assert conn.execute(
        "select count(*) from public.notifications where recipient_id = any(%s)", (people,)
    ).fetchone() == (4,)
    assert conn.execute(
        "select count(*) from public.promotion_codes where code in ('SPRING25', 'WELCOME10', 'MIRA20')"
    ).fetchone() == (2,)
    assert conn.execute(
        "select display_name from public.profiles where id = %s", (wid("student_a"),)
    ).fetchone() == ("Sam Student",)
    assert conn.execute("select seat_hold_minutes from public.platform_settings").fetchone() == (
        30,
    )
