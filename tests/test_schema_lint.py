"""Schema lint on the live catalog: the rules of STYLE.md and BRIEF.md §4 that a reviewer would
otherwise check by eye. Each lint returns its violations; each is also shown to catch a bad
object made on purpose (in a transaction that is rolled back)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import psycopg
import pytest
import sqlglot
from sqlglot import exp

from mentorships.settings import Settings

EXPOSED = ["public"]  # PostgREST db-schemas
OURS = ["public", "private"]
# Functions anon may execute, and why.
ANON_CALLABLE = {
    "public.free_seats(public.mentors)": "catalog computed field: free seats of a mentor",
    "private.mentor_free_seats(mentor_id uuid)": "called by public.free_seats for anon",
    "public.mentor_availability(mentor_id text, from_at text, to_at text)": "the public booking calendar",
    "private.uuid_arg(value text, field text, required boolean)": "reads public.mentor_availability's mentor_id",
    "private.timestamptz_arg(value text, field text, required boolean)": "reads public.mentor_availability's from_at and to_at",
    "private.refuse(status integer, message text, hint text, details text)": "raises a refusal (422 for a bad argument)",
    "private.quoted(value text)": "quotes a bad argument in a refusal",
    "private.printable(value text, max_length integer)": "cleans a refusal's text",
    "private.mentor_availability(mentor_id uuid, from_at timestamp with time zone, to_at timestamp with time zone)": "called by public.mentor_availability for anon",
    "private.working_slots(m public.mentors, from_at timestamp with time zone, to_at timestamp with time zone)": "called by private.mentor_availability",
    "private.slot_fits(m public.mentors, starts_at timestamp with time zone)": "the slot rule, used by the listing",
}

Lint = Callable[[psycopg.Connection], list[str]]


def _strings(conn: psycopg.Connection, sql: str, params: tuple[object, ...] = ()) -> list[str]:
    return [str(r[0]) for r in conn.execute(sql, params)]


def tables_without_rls(conn: psycopg.Connection) -> list[str]:
    return _strings(
        conn,
        """
        select format('%%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p') and not c.relrowsecurity order by 1""",
        (EXPOSED,),
    )


def for_all_policies(conn: psycopg.Connection) -> list[str]:
    return _strings(
        conn,
        """
        select format('%%I.%%I: %%s', schemaname, tablename, policyname) from pg_policies
        where schemaname = any(%s) and cmd = 'ALL' order by 1""",
        (OURS,),
    )


def unsafe_security_definers(conn: psycopg.Connection) -> list[str]:
    return _strings(
        conn,
        """
        select format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef and n.nspname = any(%s)
          and (n.nspname = any(%s) or not coalesce('search_path=""' = any(p.proconfig), false))
        order by 1""",
        (OURS, EXPOSED),
    )


def _policy_expressions(conn: psycopg.Connection) -> Iterator[tuple[str, str, str]]:
    for table, policy, qual, check in conn.execute(
        """
            select format('%%I.%%I', schemaname, tablename), policyname, qual, with_check
            from pg_policies where schemaname = any(%s) order by 1, 2""",
        (OURS,),
    ):
        for e in (qual, check):
            if e:
                yield table, policy, e


BARE_CALL = re.compile(r"(?<![\w.])(\w+\.\w+)\(\)")


def bare_calls_in_policies(conn: psycopg.Connection) -> list[str]:
    """A zero-argument helper (auth.uid(), private.is_admin()) must be wrapped as
    (select f()), so Postgres evaluates it once per statement, not once per row."""
    found = []
    for table, policy, expression in _policy_expressions(conn):
        for m in BARE_CALL.finditer(expression):
            before, after = expression[: m.start()], expression[m.end() :]
            if not (re.search(r"\(\s*SELECT\s+$", before) and re.match(r"\s+AS\s+\w+\)", after)):
                found.append(f"{table} {policy!r}: bare {m.group(1)}()")
    return found


def _index_leading_columns(conn: psycopg.Connection) -> set[tuple[str, str]]:
    return {
        (str(t), str(c))
        for t, c in conn.execute(
            """
        select format('%%I.%%I', n.nspname, c.relname), a.attname
        from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
        where n.nspname = any(%s)""",
            (OURS,),
        )
    }


def unindexed_foreign_keys(conn: psycopg.Connection) -> list[str]:
    return _strings(
        conn,
        """
        select format('%%s.%%I', c.conrelid::regclass, c.conname) from pg_constraint c
        join pg_namespace n on n.oid = c.connamespace
        where c.contype = 'f' and n.nspname = any(%s)
          and not exists (
            select from pg_index i where i.indrelid = c.conrelid
              and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
              and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey)
        order by 1""",
        (OURS,),
    )


def _top_level_columns(expression: str, table_name: str) -> set[str]:
    """Columns of the policy's own table read by the expression (not inside a sub-select)."""
    tree = sqlglot.parse_one(f"select 1 where {expression}", read="postgres")
    columns = set()
    for column in tree.find_all(exp.Column):
        if column.find_ancestor(exp.Select) is not tree:
            continue
        if column.table in ("", table_name):
            columns.add(column.name)
    return columns


def unindexed_policy_columns(conn: psycopg.Connection) -> list[str]:
    indexed = _index_leading_columns(conn)
    found = []
    for table, policy, expression in _policy_expressions(conn):
        for column in sorted(_top_level_columns(expression, table.split(".")[1])):
            if (table, column) not in indexed:
                found.append(f"{table}.{column} (policy {policy!r})")
    return sorted(set(found))


def views_not_security_invoker(conn: psycopg.Connection) -> list[str]:
    return _strings(
        conn,
        """
        select format('%%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s)
          and (c.relkind = 'm' or (c.relkind = 'v' and not coalesce('security_invoker=true' = any(c.reloptions)
                                                                 or 'security_invoker=on' = any(c.reloptions), false)))
        order by 1""",
        (EXPOSED,),
    )


def _functions(conn: psycopg.Connection, where: str) -> list[str]:
    return _strings(
        conn,
        f"""
        select format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%s)
          and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
          and ({where})
        order by 1""",
        (OURS,),
    )


def anon_executable_functions(conn: psycopg.Connection) -> list[str]:
    callable_ = _functions(conn, "has_function_privilege('anon', p.oid, 'execute')")
    return [f for f in callable_ if f not in ANON_CALLABLE]


def public_executable_functions(conn: psycopg.Connection) -> list[str]:
    return _functions(
        conn, "p.proacl is null or exists (select from aclexplode(p.proacl) a where a.grantee = 0)"
    )


def missing_comments(conn: psycopg.Connection) -> list[str]:
    tables = _strings(
        conn,
        """
        select format('table %%I.%%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm') and obj_description(c.oid, 'pg_class') is null
        """,
        (OURS,),
    )
    columns = _strings(
        conn,
        """
        select format('column %%I.%%I.%%I', n.nspname, c.relname, a.attname) from pg_attribute a
        join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'p', 'v', 'm') and a.attnum > 0 and not a.attisdropped
          and col_description(c.oid, a.attnum) is null""",
        (OURS,),
    )
    functions = _functions(conn, "obj_description(p.oid, 'pg_proc') is null")
    return sorted(tables + columns + [f"function {f}" for f in functions])


LINTS: dict[str, Lint] = {
    "rls enabled on every exposed table": tables_without_rls,
    "no `for all` policies": for_all_policies,
    "security definers set search_path = '' and live outside exposed schemas": unsafe_security_definers,
    "policies read (select auth.uid()), not a bare call": bare_calls_in_policies,
    "every foreign key indexed": unindexed_foreign_keys,
    "every policy column indexed": unindexed_policy_columns,
    "views are security_invoker": views_not_security_invoker,
    "anon executes only the allow-listed functions": anon_executable_functions,
    "no function executable by public": public_executable_functions,
    "every table, column and function commented": missing_comments,
}


@pytest.fixture(scope="module")
def lint_conn(stack: object, settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.dsn(), autocommit=True) as c:
        c.execute("set search_path = ''")
        yield c


@pytest.mark.parametrize("name", list(LINTS))
def test_schema_passes(lint_conn: psycopg.Connection, name: str) -> None:
    assert LINTS[name](lint_conn) == []


# Each lint catches what it is for -------------------------------------------------------------
BAD = {
    "rls enabled on every exposed table": (
        "create table public.lint_probe (id int primary key)",
        "public.lint_probe",
    ),
    "no `for all` policies": (
        "create table public.lint_probe (id int primary key); alter table public.lint_probe enable row level"
        ' security; create policy "anyone does anything" on public.lint_probe for all to authenticated'
        " using (true)",
        "anyone does anything",
    ),
    "security definers set search_path = '' and live outside exposed schemas": (
        "create function private.lint_definer() returns int language sql security definer as 'select 1'",
        "private.lint_definer()",
    ),
    "policies read (select auth.uid()), not a bare call": (
        "create table public.lint_probe (id uuid primary key); alter table public.lint_probe enable row level"
        ' security; create policy "own rows" on public.lint_probe for select to authenticated'
        " using (id = auth.uid())",
        "bare auth.uid()",
    ),
    "every foreign key indexed": (
        "create table public.lint_probe (id int primary key,"
        " mentor_id uuid references public.mentors (id) on delete cascade)",
        "lint_probe_mentor_id_fkey",
    ),
    "every policy column indexed": (
        "create table public.lint_probe (id int primary key, owner_id uuid); alter table public.lint_probe"
        ' enable row level security; create policy "owners read" on public.lint_probe for select'
        " to authenticated using (owner_id = (select auth.uid()))",
        "public.lint_probe.owner_id",
    ),
    "views are security_invoker": (
        "create view public.lint_view as select 1 as x",
        "public.lint_view",
    ),
    "anon executes only the allow-listed functions": (
        "create function public.lint_fn() returns int language sql as 'select 1'",
        "public.lint_fn()",
    ),
    "no function executable by public": (
        "create function private.lint_fn() returns int language sql as 'select 1';"
        " grant execute on function private.lint_fn() to public",
        "private.lint_fn()",
    ),
    "every table, column and function commented": (
        "create table private.lint_probe (id int primary key)",
        "table private.lint_probe",
    ),
}


def test_every_lint_has_a_bad_example() -> None:
    assert set(BAD) == set(LINTS)


@pytest.mark.parametrize("name", list(LINTS))
def test_lint_catches_a_bad_object(lint_conn: psycopg.Connection, name: str) -> None:
    ddl, expected = BAD[name]
    with lint_conn.transaction(force_rollback=True):
        lint_conn.execute(ddl)
        violations = LINTS[name](lint_conn)
    assert any(expected in v for v in violations), violations


def test_top_level_columns_ignore_sub_selects() -> None:
    expression = (
        "(is_active AND (mentor_id IN ( SELECT m.id FROM public.mentors m WHERE m.is_active)))"
    )
    assert _top_level_columns(expression, "mentorship_products") == {"is_active", "mentor_id"}
