"""session_outcomes (dbt/models/marts/session_outcomes.sql) on the week of January 2001 played
through the real rules (testing.money_activity): every outcome counted once, in the ISO week
(Monday 00:00 UTC) the session starts in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from mentorships.settings import Settings
from testing.money_activity import Story, played, rows


@pytest.fixture(scope="module")
def story(conn: psycopg.Connection, settings: Settings) -> Story:
    return played(settings)


def test_outcomes_per_mentor_and_week(story: Story, conn: psycopg.Connection) -> None:
    got = rows(
        conn,
        "select week_start, booked, scheduled, completed, canceled_early, canceled_late, canceled_by_mentor,"
        " student_no_shows, mentor_no_shows, completion_rate from analytics.session_outcomes"
        " where mentor_id = %s order by week_start",
        story.mentor,
    )
    assert [tuple(r.values()) for r in got] == [
        # a1 completed, a2 student no-show, a3 mentor no-show, a4 canceled in time by the student,
        # a5 canceled 23.5 h ahead (late), b2 canceled by the mentor, d1 canceled by its refund,
        # c1 never closed: 1 completed of 3 closed
        (dt.date(2001, 1, 1), 8, 1, 1, 3, 1, 1, 1, 1, Decimal("0.3333")),
        # b1 at Monday 8 January 00:00 UTC belongs to the new week; nothing closed: no rate
        (dt.date(2001, 1, 8), 1, 1, 0, 0, 0, 0, 0, 0, None),
    ]
