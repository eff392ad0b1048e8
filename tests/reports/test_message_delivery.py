"""message_delivery (dbt/models/marts/message_delivery.sql) on the week of January 2001 played
through the real rules (testing.money_activity): Monday's booking messages claimed by a worker,
half delivered at once and half after a retry; reminders waiting or voided. The days of 2001
hold only this story's messages."""

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


def delivery(conn: psycopg.Connection, day: int, kind: str) -> list[tuple[object, ...]]:
    got = rows(
        conn,
        "select queued, sent, failed, pending, voided, retries, delay_p50_seconds, delay_p95_seconds, max_attempts"
        " from analytics.message_delivery where send_day = %s and kind = %s and channel = 'email'",
        dt.date(2001, 1, day),
        kind,
    )
    return [tuple(r.values()) for r in got]


def test_delivered_messages_with_retries_and_delays(story: Story, conn: psycopg.Connection) -> None:
    # 9 bookings x (student, mentor); the canceled session's 2 voided at the claim; of the other 16,
    # 8 delivered 30 s after falling due and 8 after one retry, 600 s: median halfway, p95 600 s
    assert delivery(conn, 1, "session_booked") == [
        (18, 16, 0, 0, 2, 8, Decimal("315.000"), Decimal("600.000"), 2)
    ]


def test_waiting_and_voided_reminders(story: Story, conn: psycopg.Connection) -> None:
    # Tuesday's reminders for Wednesday's two sessions, never claimed (so no delay): c1's still
    # waiting, a2's voided when the session was closed (the student did not show up)
    assert delivery(conn, 2, "session_reminder_24h") == [(4, 0, 0, 2, 2, 0, None, None, 0)]
    # Thursday's, for the session canceled on Monday: voided
    assert delivery(conn, 4, "session_reminder_24h") == [(2, 0, 0, 0, 2, 0, None, None, 0)]
