"""Static checks of every plpgsql function of the project (public and private), as
`supabase db lint` runs them on hosted: plpgsql_check (Debian's postgresql-15-plpgsql-check,
installed by setup) with its extra warnings. No error and no warning may be left; a finding that
is wrong about our code is waived in the function itself, with the reason (plpgsql_check reads
`@plpgsql_check_options` comments, e.g. the transition table a statement trigger reads)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from mentorships.settings import Settings

FINDINGS = """
select format('%s: %s at line %s: %s%s', p.oid::regprocedure, c.level, coalesce(c.lineno::text, '-'),
              c.message, coalesce(' (' || c.hint || ')', ''))
  from pg_proc p
  join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
  join pg_namespace n on n.oid = p.pronamespace and n.nspname in ('public', 'private')
  left join lateral (select t.tgrelid, t.tgoldtable, t.tgnewtable from pg_trigger t
                      where t.tgfoid = p.oid order by t.tgname limit 1) trg on true
 cross join lateral extensions.plpgsql_check_function_tb(
         p.oid,
         coalesce(trg.tgrelid, 0),
         fatal_errors => false,
         other_warnings => true,
         extra_warnings => true,
         oldtable => trg.tgoldtable,
         newtable => trg.tgnewtable) c
 where p.prorettype <> 'trigger'::regtype or trg.tgrelid is not null
 order by 1
"""


@pytest.fixture(scope="module")
def checker(stack: object, settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.dsn(), autocommit=True) as c:
        c.execute("create extension if not exists plpgsql_check with schema extensions")
        yield c


def test_every_plpgsql_function_passes_plpgsql_check(checker: psycopg.Connection) -> None:
    findings = [str(r[0]) for r in checker.execute(FINDINGS)]
    assert findings == []


def test_the_check_reports_a_bad_function(checker: psycopg.Connection) -> None:
    """The query above sees what plpgsql_check finds (a function it could not fault would make
    the first test pass for nothing)."""
    with checker.transaction():
        checker.execute(
            """create function private.tap_bad() returns integer language plpgsql as $$
               begin return (select count(*) from public.no_such_table); end $$"""
        )
        findings = [str(r[0]) for r in checker.execute(FINDINGS)]
        checker.execute("drop function private.tap_bad()")
    assert any(
        f.startswith("private.tap_bad(): error") and "no_such_table" in f for f in findings
    ), findings
