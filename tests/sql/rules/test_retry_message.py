"""retry_message (sql/rules/outbox_retry.sql) over PostgREST: an admin puts a failed message back
to pending for one more attempt, the dispatcher's claim (claim_messages, the service role) takes it
once, a second retry queues nothing, and each refusal (403, 404, 409 with the reason, 422).

The clock is frozen in 1999 and the messages fall due then, so no other test's message is due
here and none of these is due for another test."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api, ok, refused
from testing.clock import Clock
from testing.factories import Scenario, booked_session

T = dt.datetime(1999, 7, 1, 12, 0, tzinfo=dt.UTC)
KEY = "test-retry:"


@pytest.fixture
def admin(scenario: Scenario, clock: Clock, conn: psycopg.Connection) -> Iterator[uuid.UUID]:
    clock.freeze(T)
    who = scenario.person("admin")
    try:
        yield who
    finally:
        conn.execute("delete from public.notifications where dedupe_key like %s", (KEY + "%",))


def failed_message(
    conn: psycopg.Connection,
    recipient: uuid.UUID,
    *,
    kind: str = "grace_warning",
    session: uuid.UUID | None = None,
    payload: str = "{}",
    status: str = "failed",
) -> int:
    row = conn.execute(
        "insert into public.notifications (recipient_id, kind, channel, dedupe_key, session_id, payload,"
        " status, attempts, last_error, send_after, voided_at)"
        " values (%s, %s, 'email', %s || gen_random_uuid(), %s, %s::jsonb, %s, 8, 'resend 422 validation_error', %s,"
        " case when %s = 'voided' then %s::timestamptz end) returning id",
        (recipient, kind, KEY, session, payload, status, T - dt.timedelta(hours=2), status, T),
    ).fetchone()
    assert row is not None
    return int(row[0])


def service(settings: Settings) -> Api:
    key = jwt.service_role_key(settings)
    return Api(settings, key, name="service", apikey=key)


def test_a_retry_puts_the_message_back_once_and_the_claim_takes_it_once(
    admin: uuid.UUID, scenario: Scenario, conn: psycopg.Connection, settings: Settings
) -> None:
    student = scenario.person()
    mid = failed_message(conn, student)
    row = ok(scenario.api(admin).rpc("retry_message", message_id=str(mid)))
    assert row["id"] == mid and row["status"] == "pending"
    status, attempts, due = conn.execute(
        "select status, attempts, next_attempt_at from public.notifications where id = %s", (mid,)
    ).fetchone() or (None, None, None)
    assert (status, attempts, due) == ("pending", 8, T)
    audit = conn.execute(
        "select actor_id, old_values, new_values from public.audit_log"
        " where action = 'notifications.retried' and (new_values ->> 'notification_id')::bigint = %s",
        (mid,),
    ).fetchall()
    assert len(audit) == 1 and audit[0][0] == admin
    assert audit[0][1]["status"] == "failed" and audit[0][2]["status"] == "pending"

    # Retrying again queues nothing more: the message is no longer failed.
    refused(
        scenario.api(admin).rpc("retry_message", message_id=mid),
        409,
        f"message {mid} is pending; only a failed message can be retried",
    )
    worker = service(settings)
    try:
        first = ok(worker.rpc("claim_messages", worker="w-retry", max_messages="1000"))
        second = ok(worker.rpc("claim_messages", worker="w-retry", max_messages="1000"))
    finally:
        worker.http.close()
    assert [m["id"] for m in first["messages"]].count(mid) == 1
    assert mid not in [m["id"] for m in second["messages"]]
    assert conn.execute(
        "select status, attempts from public.notifications where id = %s", (mid,)
    ).fetchone() == ("sending", 9)


def test_refusals(
    admin: uuid.UUID, scenario: Scenario, conn: psycopg.Connection, settings: Settings
) -> None:
    student = scenario.person()
    mid = failed_message(conn, student)
    api = scenario.api(admin)
    refused(scenario.api(student).rpc("retry_message", message_id=mid), 403, "only admins")
    refused(
        scenario.api(scenario.person("mentor")).rpc("retry_message", message_id=mid),
        403,
        "only admins",
    )
    refused(api.rpc("retry_message", message_id="999999999999"), 404, "no message 999999999999")
    r = api.rpc("retry_message", message_id="12a")
    refused(r, 422, 'message_id: "12a" is not a message id')
    assert r.json()["details"] == "message_id"
    refused(api.rpc("retry_message"), 422, "message_id is required")
    sent = failed_message(conn, student, status="voided")
    refused(api.rpc("retry_message", message_id=sent), 409, f"message {sent} is voided")
    assert conn.execute(
        "select status from public.notifications where id = %s", (mid,)
    ).fetchone() == ("failed",)


def test_a_message_about_a_session_that_started_or_was_canceled_is_not_retried(
    admin: uuid.UUID, scenario: Scenario, conn: psycopg.Connection
) -> None:
    mentor = scenario.mentor()
    student = scenario.person()
    pack = scenario.pack(mentor, student, purchased_at=T - dt.timedelta(days=10))
    started = booked_session(
        conn, pack=pack, mentor=mentor, student=student, starts=T - dt.timedelta(minutes=30)
    )
    later = booked_session(
        conn, pack=pack, mentor=mentor, student=student, starts=T + dt.timedelta(days=2)
    )
    api = scenario.api(admin)
    reminder = failed_message(conn, student, kind="session_reminder_1h", session=started)
    refused(
        api.rpc("retry_message", message_id=reminder),
        409,
        f"message {reminder} is about a session that already started (1999-07-01 11:30 UTC)",
    )
    conn.execute(
        "update public.sessions set status = 'canceled', canceled_at = %s where id = %s", (T, later)
    )
    booked = failed_message(conn, student, kind="session_booked", session=later)
    refused(
        api.rpc("retry_message", message_id=booked),
        409,
        f"message {booked} is about a session that is canceled",
    )
    # The cancel message itself may go out again while the session is ahead.
    canceled = failed_message(conn, student, kind="session_canceled", session=later)
    assert ok(api.rpc("retry_message", message_id=canceled))["status"] == "pending"
