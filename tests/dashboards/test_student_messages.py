"""Messages: the student's own outbox rows only, newest first, kind, channel, status and when in
the student's zone; filters; pages of 25 with the count."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import texts
from testing.dashboards_student import NOW, page, student_world
from testing.factories import Scenario


def message(
    conn: psycopg.Connection,
    to: uuid.UUID,
    kind: str,
    channel: str,
    status: str,
    at: dt.datetime,
) -> None:
    conn.execute(
        "insert into public.notifications (recipient_id, kind, channel, dedupe_key, status,"
        " send_after, sent_at, voided_at, created_at, attempts)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            to,
            kind,
            channel,
            f"test:{uuid.uuid4()}",
            status,
            at,
            at + dt.timedelta(seconds=5) if status == "sent" else None,
            at + dt.timedelta(minutes=1) if status == "voided" else None,
            at,
            1 if status in ("sent", "failed") else 0,
        ),
    )


def test_only_my_messages_in_my_zone(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    other = scenario.person("student")
    message(conn, w.student, "pack_purchased", "email", "sent", NOW - dt.timedelta(days=1))
    message(conn, w.student, "session_booked", "discord", "failed", NOW - dt.timedelta(hours=2))
    message(conn, w.student, "session_reminder_24h", "email", "voided", NOW - dt.timedelta(hours=1))
    message(conn, other, "session_canceled", "email", "sent", NOW)
    at = page(w.student, "student_messages.py")
    assert not at.exception, at.exception
    rows = at.dataframe[0].value.to_dict("records")
    assert rows == [
        {
            "Message": "Reminder (a day before)",
            "Channel": "Email",
            "Status": "Not sent (no longer needed)",
            "When (Europe/Berlin)": "Mon 4 Jan 2027, 12:01",
            "Queued (Europe/Berlin)": "Mon 4 Jan 2027, 12:00",
        },
        {
            "Message": "Session booked",
            "Channel": "Discord",
            "Status": "Failed",
            "When (Europe/Berlin)": "Mon 4 Jan 2027, 11:00",
            "Queued (Europe/Berlin)": "Mon 4 Jan 2027, 11:00",
        },
        {
            "Message": "Pack purchased",
            "Channel": "Email",
            "Status": "Sent",
            "When (Europe/Berlin)": "Sun 3 Jan 2027, 13:00",
            "Queued (Europe/Berlin)": "Sun 3 Jan 2027, 13:00",
        },
    ]
    assert "Page 1 of 1 (3 messages)" in texts(at)

    at.selectbox(key="messages_status").set_value("sent").run()
    rows = at.dataframe[0].value.to_dict("records")
    assert [r["Message"] for r in rows] == ["Pack purchased"]

    at.selectbox(key="messages_kind").set_value("session_canceled").run()
    assert "No messages match" in texts(at)


def test_pages_and_empty_state(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    at = page(w.student, "student_messages.py")
    assert "No messages yet" in texts(at)
    for i in range(30):
        message(conn, w.student, "session_booked", "email", "sent", NOW - dt.timedelta(hours=i))
    at = page(w.student, "student_messages.py")
    assert len(at.dataframe[0].value) == 25
    assert "Page 1 of 2 (30 messages)" in texts(at)
    at.button(key="messages_next").click().run()
    assert len(at.dataframe[0].value) == 5
    assert "Page 2 of 2 (30 messages)" in texts(at)
    assert at.button(key="messages_next").disabled
