"""Schema lint on the live catalog: the rules of STYLE.md and BRIEF.md §4 that a reviewer would
otherwise check by eye. Each lint returns its violations; each branch of each is also shown to
report exactly the bad object made on purpose for it (in a transaction that is rolled back). The
anon allow-list is linted too: an entry whose function is gone, or anon can no longer execute,
fails."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

import psycopg
import pytest
import sqlglot
from sqlglot import exp

from mentorships.settings import Settings
from testing.reports import mart_like_post_hook

EXPOSED = ["public", "analytics"]  # PostgREST db-schemas
OURS = ["public", "private", "analytics"]
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
    "public.ops_health()": "the platform's health: anon is answered 403 in the project's shape, not 401",
    "private.ops_health()": "called by public.ops_health, which refuses anon with a 403",
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


def stale_anon_allow_list(conn: psycopg.Connection) -> list[str]:
    """Every ANON_CALLABLE entry names a function that exists and anon may execute."""
    return _strings(
        conn,
        """
        select format('%%s: %%s', entry, case when p.oid is null then 'no such function'
                                             else 'anon cannot execute it' end)
        from unnest(%s::text[]) entry
        left join (pg_proc p join pg_namespace n on n.oid = p.pronamespace)
          on format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) = entry
        where p.oid is null or not has_function_privilege('anon', p.oid, 'execute')
        order by 1""",
        (sorted(ANON_CALLABLE),),
    )


LINTS: dict[str, Lint] = {
    "rls enabled on every exposed table": tables_without_rls,
    "no `for all` policies": for_all_policies,
    "security definers set search_path = '' and live outside exposed schemas": unsafe_security_definers,
    "policies read (select auth.uid()), not a bare call": bare_calls_in_policies,
    "every foreign key indexed": unindexed_foreign_keys,
    "every policy column indexed": unindexed_policy_columns,
    "views are security_invoker": views_not_security_invoker,
    "anon executes only the allow-listed functions": anon_executable_functions,
    "the anon allow-list names only functions anon executes": stale_anon_allow_list,
    "no function executable by public": public_executable_functions,
    "every table, column and function commented": missing_comments,
}


@pytest.fixture(scope="module")
def lint_conn(stack: object, settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.dsn(), autocommit=True) as c:
        # a mart as the build leaves one (the post-hook's grants and policies), linted with the rest
        mart_like_post_hook(c, "lint_probe")
        c.execute("set search_path = ''")
        yield c
        c.execute("drop table analytics.lint_probe")


@pytest.mark.parametrize("name", list(LINTS))
def test_schema_passes(lint_conn: psycopg.Connection, name: str) -> None:
    assert LINTS[name](lint_conn) == []


# Each lint catches what it is for: one bad object per branch of its rule ------------------------
class Bad(NamedTuple):
    lint: str
    case: str  # the branch of the rule, for the test's id
    ddl: str  # run in a transaction that is rolled back
    reported: list[str]  # exactly what the lint reports beyond what it reported before
    # A query true once the ddl ran, where the branch could be missed without a word.
    holds: str = "select true"


COMMENTED = "comment on column private.lint_probe.id is 'probe'"
BAD = [
    # rls enabled on every exposed table
    Bad(
        "rls enabled on every exposed table",
        "table",
        "create table public.lint_probe (id int primary key)",
        ["public.lint_probe"],
    ),
    Bad(
        "rls enabled on every exposed table",
        "partitioned table",
        "create table public.lint_probe (id int) partition by range (id)",
        ["public.lint_probe"],
    ),
    # no `for all` policies
    Bad(
        "no `for all` policies",
        "exposed schema",
        "create table public.lint_probe (id int primary key); alter table public.lint_probe enable row level"
        ' security; create policy "anyone does anything" on public.lint_probe for all to authenticated'
        " using (true)",
        ["public.lint_probe: anyone does anything"],
    ),
    Bad(
        "no `for all` policies",
        "private schema",
        "create table private.lint_probe (id int primary key); alter table private.lint_probe enable row level"
        ' security; create policy "anyone does anything" on private.lint_probe for all to authenticated'
        " using (true)",
        ["private.lint_probe: anyone does anything"],
    ),
    # security definers
    Bad(
        "security definers set search_path = '' and live outside exposed schemas",
        "no search_path",
        "create function private.lint_definer() returns int language sql security definer as 'select 1'",
        ["private.lint_definer()"],
    ),
    Bad(
        "security definers set search_path = '' and live outside exposed schemas",
        "a search_path other than ''",
        "create function private.lint_definer() returns int language sql security definer"
        " set search_path = public as 'select 1'",
        ["private.lint_definer()"],
    ),
    Bad(
        "security definers set search_path = '' and live outside exposed schemas",
        "in an exposed schema",
        "create function public.lint_definer() returns int language sql security definer"
        " set search_path = '' as 'select 1'",
        ["public.lint_definer()"],
    ),
    # policies read (select f()), not a bare call
    Bad(
        "policies read (select auth.uid()), not a bare call",
        "using",
        "create table public.lint_probe (id uuid primary key); alter table public.lint_probe enable row level"
        ' security; create policy "own rows" on public.lint_probe for select to authenticated'
        " using (id = auth.uid())",
        ["public.lint_probe 'own rows': bare auth.uid()"],
    ),
    Bad(
        "policies read (select auth.uid()), not a bare call",
        "with check",
        "create table public.lint_probe (id uuid primary key); alter table public.lint_probe enable row level"
        ' security; create policy "own rows" on public.lint_probe for insert to authenticated'
        " with check (id = auth.uid())",
        ["public.lint_probe 'own rows': bare auth.uid()"],
    ),
    Bad(
        "policies read (select auth.uid()), not a bare call",
        "a correlated sub-select (once per row again)",
        "create table public.lint_probe (id uuid primary key); alter table public.lint_probe enable row level"
        ' security; create policy "own rows" on public.lint_probe for select to authenticated'
        " using ((select auth.uid() = id))",
        ["public.lint_probe 'own rows': bare auth.uid()"],
    ),
    Bad(
        "policies read (select auth.uid()), not a bare call",
        "one of our own helpers",
        "create table private.lint_probe (id uuid primary key); alter table private.lint_probe enable row level"
        ' security; create policy "admins" on private.lint_probe for select to authenticated'
        " using (private.is_admin())",
        ["private.lint_probe 'admins': bare private.is_admin()"],
    ),
    # every foreign key indexed
    Bad(
        "every foreign key indexed",
        "no index",
        "create table public.lint_probe (id int primary key,"
        " mentor_id uuid references public.mentors (id) on delete cascade)",
        ["public.lint_probe.lint_probe_mentor_id_fkey"],
    ),
    Bad(
        "every foreign key indexed",
        "an index the key does not lead",
        "create table public.lint_probe (id int primary key,"
        " mentor_id uuid references public.mentors (id) on delete cascade);"
        " create index on public.lint_probe (id, mentor_id)",
        ["public.lint_probe.lint_probe_mentor_id_fkey"],
    ),
    Bad(
        "every foreign key indexed",
        "an index on part of a composite key",
        "create table public.lint_parent (a int, b int, primary key (a, b));"
        " create table public.lint_probe (id int primary key, a int, b int,"
        " foreign key (a, b) references public.lint_parent (a, b));"
        " create index on public.lint_probe (a)",
        ["public.lint_probe.lint_probe_a_b_fkey"],
    ),
    # every policy column indexed
    Bad(
        "every policy column indexed",
        "using",
        "create table public.lint_probe (id int primary key, owner_id uuid); alter table public.lint_probe"
        ' enable row level security; create policy "owners read" on public.lint_probe for select'
        " to authenticated using (owner_id = (select auth.uid()))",
        ["public.lint_probe.owner_id (policy 'owners read')"],
    ),
    Bad(
        "every policy column indexed",
        "with check",
        "create table public.lint_probe (id int primary key, owner_id uuid); alter table public.lint_probe"
        ' enable row level security; create policy "owners add" on public.lint_probe for insert'
        " to authenticated with check (owner_id = (select auth.uid()))",
        ["public.lint_probe.owner_id (policy 'owners add')"],
    ),
    Bad(
        "every policy column indexed",
        "an index the column does not lead",
        "create table public.lint_probe (id int primary key, owner_id uuid); alter table public.lint_probe"
        ' enable row level security; create policy "owners read" on public.lint_probe for select'
        " to authenticated using (owner_id = (select auth.uid()));"
        " create index on public.lint_probe (id, owner_id)",
        ["public.lint_probe.owner_id (policy 'owners read')"],
    ),
    # views are security_invoker
    Bad(
        "views are security_invoker",
        "a view without the option",
        "create view public.lint_view as select 1 as x",
        ["public.lint_view"],
    ),
    Bad(
        "views are security_invoker",
        "a view with security_invoker = false",
        "create view public.lint_view with (security_invoker = false) as select 1 as x",
        ["public.lint_view"],
    ),
    Bad(
        "views are security_invoker",
        "a materialized view (never security_invoker)",
        "create materialized view public.lint_view as select 1 as x",
        ["public.lint_view"],
    ),
    # anon executes only the allow-listed functions
    Bad(
        "anon executes only the allow-listed functions",
        "granted by the public schema's default privileges",
        "create function public.lint_fn() returns int language sql as 'select 1'",
        ["public.lint_fn()"],
    ),
    Bad(
        "anon executes only the allow-listed functions",
        "granted to anon",
        "create function private.lint_fn() returns int language sql as 'select 1';"
        " grant execute on function private.lint_fn() to anon",
        ["private.lint_fn()"],
    ),
    Bad(
        "anon executes only the allow-listed functions",
        "granted to public",
        "create function private.lint_fn() returns int language sql as 'select 1';"
        " grant execute on function private.lint_fn() to public",
        ["private.lint_fn()"],
    ),
    # the anon allow-list names only functions anon executes
    Bad(
        "the anon allow-list names only functions anon executes",
        "an entry whose function is gone",
        "alter function private.quoted(text) rename to lint_quoted",
        ["private.quoted(value text): no such function"],
    ),
    Bad(
        "the anon allow-list names only functions anon executes",
        "an entry anon can no longer execute",
        "revoke execute on function private.quoted(text) from anon, public",
        ["private.quoted(value text): anon cannot execute it"],
    ),
    # no function executable by public
    Bad(
        "no function executable by public",
        "granted to public",
        "create function private.lint_fn() returns int language sql as 'select 1';"
        " grant execute on function private.lint_fn() to public",
        ["private.lint_fn()"],
    ),
    Bad(
        "no function executable by public",
        "a null ACL (Postgres's default: public executes)",
        # Without the project's default privileges (which revoke execute from public), a new
        # function keeps a null ACL, as one made by another role would.
        "alter default privileges for role postgres grant execute on functions to public;"
        " create function private.lint_fn() returns int language sql as 'select 1'",
        ["private.lint_fn()"],
        "select proacl is null from pg_proc where oid = 'private.lint_fn()'::regprocedure",
    ),
    # every table, column and function commented
    Bad(
        "every table, column and function commented",
        "table",
        f"create table private.lint_probe (id int primary key); {COMMENTED}",
        ["table private.lint_probe"],
    ),
    Bad(
        "every table, column and function commented",
        "partitioned table",
        f"create table private.lint_probe (id int) partition by range (id); {COMMENTED}",
        ["table private.lint_probe"],
    ),
    Bad(
        "every table, column and function commented",
        "view",
        f"create view private.lint_probe as select 1 as id; {COMMENTED}",
        ["table private.lint_probe"],
    ),
    Bad(
        "every table, column and function commented",
        "materialized view",
        f"create materialized view private.lint_probe as select 1 as id; {COMMENTED}",
        ["table private.lint_probe"],
    ),
    Bad(
        "every table, column and function commented",
        "column",
        f"create table private.lint_probe (id int primary key, note text); {COMMENTED};"
        " comment on table private.lint_probe is 'probe'",
        ["column private.lint_probe.note"],
    ),
    Bad(
        "every table, column and function commented",
        "function",
        "create function private.lint_fn() returns int language sql as 'select 1'",
        ["function private.lint_fn()"],
    ),
]


def test_every_branch_of_every_lint_has_a_bad_example() -> None:
    assert {b.lint for b in BAD} == set(LINTS)
    cases = [(b.lint, b.case) for b in BAD]
    assert len(cases) == len(set(cases))


@pytest.mark.parametrize("bad", BAD, ids=[f"{b.lint}: {b.case}" for b in BAD])
def test_lint_reports_exactly_the_bad_object(lint_conn: psycopg.Connection, bad: Bad) -> None:
    lint = LINTS[bad.lint]
    with lint_conn.transaction(force_rollback=True):
        # What the schema already violates is test_schema_passes's to report, not this test's.
        before = lint(lint_conn)
        lint_conn.execute(bad.ddl)
        assert lint_conn.execute(bad.holds).fetchone() == (True,), bad.holds
        after = lint(lint_conn)
    assert [v for v in after if v not in before] == bad.reported, after
    assert set(before) <= set(after)


def test_top_level_columns_ignore_sub_selects() -> None:
    expression = (
        "(is_active AND (mentor_id IN ( SELECT m.id FROM public.mentors m WHERE m.is_active)))"
    )
    assert _top_level_columns(expression, "mentorship_products") == {"is_active", "mentor_id"}
