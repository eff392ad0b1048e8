"""The report builds' rules (sql/rules/reports.sql): a scheduled build is due only when the last
finished run started report_build_interval_minutes ago; a command or demo build whenever no run is
live; two claims at once make one run; a dead builder's run fails when its lease runs out; a
finished run records the rows of every table in analytics. The clock is frozen in 2040, and
no run but the test world's (2031) is there before or after each test."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mentorships.settings import Settings
from testing.api import refusal, together
from testing.clock import Clock
from testing.reports import clear_runs, mart_like_post_hook

NOW = dt.datetime(2040, 1, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def fresh(conn: psycopg.Connection, clock: Clock) -> Iterator[Clock]:
    """The clock frozen at NOW, no run but the world's (2031) before and after the test."""
    clear_runs(conn)
    clock.freeze(NOW)
    try:
        yield clock
    finally:
        clear_runs(conn)
        conn.execute(
            "update public.platform_settings"
            " set report_build_interval_minutes = 60, report_full_build_hours = 24"
        )


def claim(
    conn: psycopg.Connection, trigger: str = "schedule", lease: int = 600, worker: str = "w1"
) -> int | None:
    row = conn.execute(
        "select private.claim_report_build(%s, %s, null, %s)", (worker, trigger, lease)
    ).fetchone()
    assert row is not None
    return None if row[0] is None else int(row[0])


def finish(
    conn: psycopg.Connection, run_id: int, outcome: str = "succeeded", error: str | None = None
) -> dict[str, Any]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(
        "select * from private.finish_report_build(%s, %s, %s, '1.11.16')", (run_id, outcome, error)
    ).fetchone()
    assert row is not None
    return row


def test_a_scheduled_build_is_due_after_the_interval_only(
    conn: psycopg.Connection, fresh: Clock
) -> None:
    first = claim(conn)
    assert first is not None
    finish(conn, first)
    fresh.advance(dt.timedelta(minutes=59, seconds=59))
    assert claim(conn) is None  # not due: the last run started 59:59 ago
    fresh.advance(dt.timedelta(seconds=1))
    second = claim(conn)
    assert second is not None  # due at the interval
    finish(conn, second, "failed", "boom")
    conn.execute("update public.platform_settings set report_build_interval_minutes = 5")
    fresh.advance(dt.timedelta(minutes=5))
    assert claim(conn) is not None  # a failed run counts as the last one; the setting is read


def test_a_command_or_demo_build_is_due_whenever_none_is_live(
    conn: psycopg.Connection, fresh: Clock
) -> None:
    run = claim(conn)
    assert run is not None
    assert claim(conn, "command") is None  # one live run at a time
    finish(conn, run)
    command = claim(conn, "command")
    assert command is not None  # right after a build
    finish(conn, command)
    demo = claim(conn, "demo")
    assert demo is not None
    finish(conn, demo)
    assert claim(conn) is None  # and the schedule counts them: the last one started now


def test_two_claims_at_once_make_one_run(
    conn: psycopg.Connection, settings: Settings, fresh: Clock
) -> None:
    got: list[int | None] = []
    lock = threading.Lock()

    def one(barrier: threading.Barrier, worker: str, trigger: str) -> None:
        with psycopg.connect(settings.dsn(), autocommit=True) as c:
            barrier.wait()
            run = claim(c, trigger, worker=worker)
        with lock:
            got.append(run)

    together(one, [(f"w{i}", "command" if i % 2 else "schedule") for i in range(8)])
    assert Counter(r is None for r in got) == Counter({True: 7, False: 1})
    row = conn.execute(
        "select count(*) from public.report_runs where outcome = 'running'"
    ).fetchone()
    assert row == (1,)
    winner = next(r for r in got if r is not None)
    finish(conn, winner)


def test_a_dead_builders_run_fails_when_its_lease_runs_out(
    conn: psycopg.Connection, fresh: Clock
) -> None:
    dead = claim(conn, "command", lease=600, worker="dies")
    assert dead is not None
    fresh.advance(dt.timedelta(seconds=599))
    assert claim(conn, "command") is None  # still its
    fresh.advance(dt.timedelta(seconds=1))
    taken = claim(conn, "command", worker="next")
    assert taken is not None
    row = conn.execute(
        "select outcome, error, finished_at from public.report_runs where id = %s", (dead,)
    ).fetchone()
    assert row == (
        "failed",
        "lease ran out: dies stopped before finishing the build",
        NOW + dt.timedelta(seconds=600),
    )
    # the dead builder coming back cannot finish it
    with pytest.raises(psycopg.Error) as caught:
        finish(conn, dead)
    assert refusal(caught.value) == (
        "PT409",
        f"report run {dead} already ended (failed: lease ran out: dies stopped before finishing the build)",
    )
    finish(conn, taken)


def test_a_finished_run_records_every_marts_rows(conn: psycopg.Connection, fresh: Clock) -> None:
    mart_like_post_hook(conn, "rules_probe")
    try:
        run = claim(conn, "command")
        assert run is not None
        fresh.advance(dt.timedelta(seconds=42))
        done = finish(conn, run, "failed", "  x" * 1000)
        marts = {
            str(r[0])
            for r in conn.execute(
                "select relname from pg_class where relnamespace = 'analytics'::regnamespace and relkind in ('r', 'p')"
            )
        }
        assert set(done["rows_per_mart"]) == marts
        assert done["rows_per_mart"]["rules_probe"] == 2
        assert (done["outcome"], done["finished_at"], done["dbt_version"]) == (
            "failed",
            NOW + dt.timedelta(seconds=42),
            "1.11.16",
        )
        assert len(done["error"]) == 2000
    finally:
        conn.execute("drop table analytics.rules_probe")


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            "select private.claim_report_build('w', 'cron', null, 60)",
            "PT422",
            'trigger must be schedule, command or demo (got "cron")',
        ),
        (
            "select private.claim_report_build(' ', 'command', null, 60)",
            "PT422",
            "worker must name the builder in 1 to 200 characters",
        ),
        (
            "select private.claim_report_build('w', 'command', null, 5)",
            "PT422",
            "lease_seconds must be a whole number from 10 to 86400 (got 5)",
        ),
        (
            "select private.claim_report_build('w', 'command', null, 60, repeat('f', 101))",
            "PT422",
            "project_checksum must be at most 100 characters",
        ),
        (
            "select private.finish_report_build(-1, 'succeeded')",
            "PT404",
            "report run -1 does not exist",
        ),
        (
            "select private.finish_report_build(-1, 'done')",
            "PT422",
            'outcome must be succeeded or failed (got "done")',
        ),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(
    conn: psycopg.Connection, fresh: Clock, call: str, code: str, message: str
) -> None:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(call)
    assert refusal(caught.value) == (code, message)


@pytest.mark.parametrize("role", ["anon", "authenticated", "analyst"])
def test_the_api_roles_and_the_analyst_cannot_build(conn: psycopg.Connection, role: str) -> None:
    for function in (
        "private.claim_report_build(text, text, text, integer, text, boolean)",
        "private.finish_report_build(bigint, text, text, text)",
        "private.analytics_row_counts()",
    ):
        row = conn.execute(
            "select has_function_privilege(%s, %s, 'execute')", (role, function)
        ).fetchone()
        assert row == (False,), f"{role} {function}"


def test_the_interval_setting_is_checked(conn: psycopg.Connection, fresh: Clock) -> None:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute("update public.platform_settings set report_build_interval_minutes = 1")
    assert refusal(caught.value) == (
        "PT422",
        "report_build_interval_minutes must be a whole number from 5 to 10080 (got 1)",
    )


def claim_kind(
    conn: psycopg.Connection,
    checksum: str | None = "a1",
    *,
    full_refresh: bool = False,
    selector: str | None = None,
) -> tuple[int, str]:
    row = conn.execute(
        "select private.claim_report_build('w1', 'command', %s, 600, %s, %s)",
        (selector, checksum, full_refresh),
    ).fetchone()
    assert row is not None and row[0] is not None
    kind = conn.execute("select kind from public.report_runs where id = %s", (row[0],)).fetchone()
    assert kind is not None
    return int(row[0]), str(kind[0])


def test_a_build_is_full_for_a_new_project_a_day_on_or_asked_else_incremental(
    conn: psycopg.Connection, fresh: Clock
) -> None:
    run, kind = claim_kind(conn)
    assert kind == "full"  # no full build yet
    finish(conn, run)
    run, kind = claim_kind(conn)
    assert kind == "incremental"
    finish(conn, run)
    # another project (a model changed, another dbt): full; a failed full build does not count
    run, kind = claim_kind(conn, "b2")
    assert kind == "full"
    finish(conn, run, "failed", "boom")
    run, kind = claim_kind(conn, "b2")
    assert kind == "full"
    finish(conn, run)
    # report_full_build_hours after the last full build's start: full again
    fresh.advance(dt.timedelta(hours=24, seconds=-1))
    run, kind = claim_kind(conn, "b2")
    assert kind == "incremental"
    finish(conn, run)
    fresh.advance(dt.timedelta(seconds=1))
    run, kind = claim_kind(conn, "b2")
    assert kind == "full"
    finish(conn, run)
    conn.execute("update public.platform_settings set report_full_build_hours = 1")
    fresh.advance(dt.timedelta(hours=1))
    run, kind = claim_kind(conn, "b2")
    assert kind == "full"  # the setting is read
    finish(conn, run)
    # asked for; no checksum; a selection
    assert [finish(conn, r)["kind"] for r, _ in [claim_kind(conn, "b2", full_refresh=True)]] == [
        "full"
    ]
    assert [finish(conn, r)["kind"] for r, _ in [claim_kind(conn, None)]] == ["full"]
    run, kind = claim_kind(conn, "b2", selector="revenue_daily+")
    assert kind == "selected"
    done = finish(conn, run)
    assert done["selector"] == "revenue_daily+" and done["project_checksum"] == "b2"


def test_the_full_build_setting_is_checked(conn: psycopg.Connection, fresh: Clock) -> None:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute("update public.platform_settings set report_full_build_hours = 0")
    assert refusal(caught.value) == (
        "PT422",
        "report_full_build_hours must be a whole number from 1 to 720 (got 0)",
    )
