"""private.prune_calendar_jobs (sql/rules/jobs.sql): the calendar's work queue keeps a job
applied or skipped 7 days, one given up 30 days, a pending one for ever."""

from __future__ import annotations

import datetime as dt
from datetime import UTC

import psycopg

from testing.clock import Clock
from testing.factories import Scenario, booked_session

T = dt.datetime(2004, 3, 1, 12, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)


def test_processed_jobs_go_after_their_days_pending_ones_stay(
    scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    clock.freeze(T)
    mentor, student = scenario.mentor(), scenario.person()
    pack = scenario.pack(mentor, student, purchased_at=T - 90 * DAY)
    session = booked_session(conn, pack=pack, mentor=mentor, student=student, starts=T + 2 * DAY)
    rows = {
        "done 8 days ago": (T - 9 * DAY, T - 8 * DAY, "done"),
        "done 6 days ago": (T - 7 * DAY, T - 6 * DAY, "done"),
        "skipped 8 days ago": (T - 9 * DAY, T - 8 * DAY, "skipped"),
        "gave up 29 days ago": (T - 30 * DAY, T - 29 * DAY, "gave_up"),
        "gave up 31 days ago": (T - 32 * DAY, T - 31 * DAY, "gave_up"),
        "pending for 60 days": (T - 60 * DAY, None, None),
    }
    ids = {}
    for name, (requested, processed, outcome) in rows.items():
        row = conn.execute(
            "insert into private.calendar_jobs (session_id, mentor_id, action, requested_at,"
            " processed_at, outcome) values (%s, %s, 'upsert', %s, %s, %s) returning id",
            (session, mentor, requested, processed, outcome),
        ).fetchone()
        assert row is not None
        ids[name] = row[0]
    try:
        gone = conn.execute("select private.prune_calendar_jobs()").fetchone()
        assert gone is not None and gone[0] >= 3
        left = {
            r[0]
            for r in conn.execute(
                "select id from private.calendar_jobs where id = any(%s)", (list(ids.values()),)
            )
        }
        assert {name for name, i in ids.items() if i in left} == {
            "done 6 days ago",
            "gave up 29 days ago",
            "pending for 60 days",
        }
    finally:
        conn.execute("delete from private.calendar_jobs where id = any(%s)", (list(ids.values()),))
