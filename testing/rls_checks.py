"""Checks of the RLS matrix's answers (testing/rls_matrix.py): an answer against its cell, and
that a request asked to roll back (`Prefer: tx=rollback`) left every public table as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from testing.api import Api
from testing.rls_matrix import DENIED, LABELS, NO_GRANT, POLICY_REFUSES, RLS, Expect, Refused
from testing.world import World


def fingerprint(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """An md5 of every public table's rows (sequences aside: a rolled-back insert still takes a
    value from its sequence)."""
    tables = [
        str(r[0])
        for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'public' order by 1"
        )
    ]
    query = sql.SQL(" union all ").join(
        sql.SQL(
            "select {name}, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), ''))"
            " from public.{table} t"
        ).format(name=sql.Literal(t), table=sql.Identifier(t))
        for t in tables
    )
    return {str(name): str(digest) for name, digest in conn.execute(query)}


@contextmanager
def persists_nothing(conn: psycopg.Connection[Any], where: str) -> Iterator[None]:
    """The request inside asked for tx=rollback: every public table is as it was after it."""
    before = fingerprint(conn)
    yield
    after = fingerprint(conn)
    changed = sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
    assert changed == [], f"{where}: tables changed despite tx=rollback: {changed}"


def world_filter(world: World, table: str) -> str:
    ids = ",".join(str(world[label]) for label in sorted(LABELS[table]))
    return f"id=in.({ids})"


def world_labels(world: World, table: str, returned: list[dict[str, Any]]) -> frozenset[str]:
    by_id = {str(world[label]): label for label in LABELS[table]}
    return frozenset(by_id.get(str(r["id"]), "new") for r in returned)


def check_answer(
    api: Api,
    world: World,
    table: str,
    expect: Expect,
    response: Any,
    written: dict[str, Any] | None = None,
) -> None:
    """The response is what the cell expects; an allowed write returned the values it wrote."""
    where = f"{api.name} {response.request.method} {table}: {response.status_code} {response.text[:300]}"
    if expect == DENIED:
        expect = NO_GRANT._replace(status=401 if api.name == "anon" else 403)
    elif expect == RLS:
        expect = POLICY_REFUSES
    if isinstance(expect, Refused):
        refusal = expect.for_table(table)
        body = response.json()
        assert (response.status_code, body["code"]) == (refusal.status, refusal.code), where
        if refusal.exact:
            assert body["message"] == refusal.message, where
        else:
            assert body["message"].startswith(refusal.message), where
        return
    assert isinstance(expect, frozenset), expect
    assert response.status_code == (201 if response.request.method == "POST" else 200), where
    returned = response.json()
    assert len(returned) == len(expect), where
    assert world_labels(world, table, returned) == expect, where
    for row in returned:
        assert {column: row.get(column) for column in written or {}} == (written or {}), where
