"""The analysts' login (`analyst`, password MENTORSHIPS_ANALYST_PASSWORD): reads every table in
analytics and nothing else, writes nothing, and its queries are cancelled by its statement
timeout. What it may reach is enumerated from the catalog, so a table, view or function added
later is checked too."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql

from mentorships.settings import Settings
from testing.reports import mart_like_post_hook, marts

ELSEWHERE = (
    "public",
    "private",
    "auth",
    "analytics_staging",
    "analytics_intermediate",
    "supabase_migrations",
    "cron",
    "extensions",
)


@pytest.fixture(scope="module")
def analyst(conn: psycopg.Connection, settings: Settings) -> Iterator[psycopg.Connection]:
    mart_like_post_hook(conn, "analyst_probe")
    # a view in each of the build's own schemas, as dbt's staging and intermediate models are
    for schema in ("analytics_staging", "analytics_intermediate"):
        conn.execute(
            sql.SQL("create or replace view {} as select id from public.profiles").format(
                sql.Identifier(schema, "analyst_probe")
            )
        )
    with psycopg.connect(settings.analyst_dsn(), autocommit=True) as c:
        yield c
    conn.execute("drop table analytics.analyst_probe")
    for schema in ("analytics_staging", "analytics_intermediate"):
        conn.execute(sql.SQL("drop view {}").format(sql.Identifier(schema, "analyst_probe")))


def test_the_analyst_logs_in_with_the_password_from_the_settings(
    analyst: psycopg.Connection, settings: Settings
) -> None:
    assert analyst.execute("select current_user").fetchone() == ("analyst",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(settings.dsn("analyst", "not-the-password"), connect_timeout=5).close()


def test_the_analyst_reads_every_table_in_analytics(
    analyst: psycopg.Connection, conn: psycopg.Connection
) -> None:
    found = marts(conn)
    assert "analyst_probe" in found
    for mart in found:
        count = sql.SQL("select count(*) from {}").format(sql.Identifier("analytics", mart))
        assert analyst.execute(count).fetchone() == conn.execute(count).fetchone(), mart
    # unqualified names resolve in analytics (the role's search_path)
    assert analyst.execute("select count(*) from analyst_probe").fetchone() == (2,)


def test_the_analyst_reads_no_table_or_view_anywhere_else(
    analyst: psycopg.Connection, conn: psycopg.Connection
) -> None:
    relations = [
        (str(s), str(r))
        for s, r in conn.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1, 2",
            (list(ELSEWHERE),),
        )
    ]
    assert {s for s, _ in relations} >= {"public", "private", "auth", "analytics_staging"}
    readable = []
    for schema, name in relations:
        try:
            analyst.execute(sql.SQL("select from {} limit 0").format(sql.Identifier(schema, name)))
            readable.append(f"{schema}.{name}")
        except errors.InsufficientPrivilege:
            pass
    assert readable == []


def test_the_analyst_executes_no_security_definer_and_nothing_of_ours(
    analyst: psycopg.Connection, conn: psycopg.Connection
) -> None:
    """A function runs only with usage on its schema and execute on it: PUBLIC's defaults
    (usage on public, execute on new functions) must not add up to anything callable."""
    callable_ = [
        str(r[0])
        for r in conn.execute(
            """
            select format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname not in ('pg_catalog', 'information_schema')
              and (p.prosecdef or n.nspname = any(%s))
              and has_schema_privilege('analyst', n.oid, 'usage')
              and has_function_privilege('analyst', p.oid, 'execute')
            order by 1""",
            (["public", "private", "auth", "analytics"],),
        )
    ]
    assert callable_ == []
    for call in ("select private.is_admin()", "select auth.uid()", "select private.clock_now()"):
        with pytest.raises(errors.InsufficientPrivilege):
            analyst.execute(call)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into analytics.analyst_probe values (3, 'three')",
        "update analytics.analyst_probe set label = 'x'",
        "delete from analytics.analyst_probe",
        "truncate analytics.analyst_probe",
        "create table analytics.mine (id integer)",
        "create table public.mine (id integer)",
        "alter table analytics.analyst_probe disable row level security",
        "set role postgres",
    ],
)
def test_the_analyst_writes_nothing(analyst: psycopg.Connection, statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        analyst.execute(statement)
    assert analyst.execute("select count(*) from analytics.analyst_probe").fetchone() == (2,)


def test_a_long_query_is_cancelled_by_the_roles_statement_timeout(
    analyst: psycopg.Connection, conn: psycopg.Connection, settings: Settings
) -> None:
    assert analyst.execute("show statement_timeout").fetchone() == ("1min",)
    # The same role setting, shortened for the test: a new session gets it and is cancelled.
    conn.execute("alter role analyst set statement_timeout = '300ms'")
    try:
        with psycopg.connect(settings.analyst_dsn(), autocommit=True) as quick:
            with pytest.raises(errors.QueryCanceled, match="statement timeout"):
                quick.execute("select pg_sleep(3)")
            assert quick.execute("select 1").fetchone() == (1,)
    finally:
        conn.execute("alter role analyst set statement_timeout = '60s'")
