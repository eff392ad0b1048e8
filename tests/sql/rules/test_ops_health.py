"""public.ops_health (sql/rules/ops_health.sql) over PostgREST: who may read it (403 in the
project's shape for anyone but admins and the service role), its exact keys, and each figure from
rows made here, against the frozen clock. The figures are global, so each test compares with a
read before its rows (or freezes the clock where only its own rows can be due) and deletes what it
made."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from testing.api import Api, ok, refused
from testing.clock import Clock
from testing.factories import Scenario, booked_session

UTC = dt.UTC
# Before anything another test queues: only this module's rows are due then.
PAST = dt.datetime(1975, 6, 1, 12, 0, tzinfo=UTC)
# After every report run another test records: this module's is the last one.
FUTURE = dt.datetime(2150, 1, 1, 12, 0, tzinfo=UTC)
KEYS = {"at", "outbox", "messages", "calendar", "calendar_jobs", "reports", "webhooks"}


def health(api: Api) -> dict[str, Any]:
    answer: dict[str, Any] = ok(api.rpc("ops_health"))
    return answer


@pytest.fixture
def made(conn: psycopg.Connection) -> Iterator[dict[str, list[Any]]]:
    """What a test made, deleted afterwards: {"notifications": [ids], ...}."""
    rows: dict[str, list[Any]] = {
        "notifications": [],
        "calendar_jobs": [],
        "report_runs": [],
        "webhook_events": [],
    }
    yield rows
    conn.execute("delete from public.notifications where id = any(%s)", (rows["notifications"],))
    conn.execute("delete from private.calendar_jobs where id = any(%s)", (rows["calendar_jobs"],))
    conn.execute("delete from public.report_runs where id = any(%s)", (rows["report_runs"],))
    conn.execute("delete from private.webhook_events where id = any(%s)", (rows["webhook_events"],))


def test_only_admins_and_the_service_role_read_it(
    scenario: Scenario, actors: dict[str, Api], clock: Clock
) -> None:
    clock.freeze(PAST)
    for api in (actors["service"], scenario.api(scenario.person("admin"))):
        answer = health(api)
        assert set(answer) == KEYS
        assert answer["at"] == "1975-06-01T12:00:00+00:00"
        assert set(answer["outbox"]) == {
            "pending",
            "due",
            "oldest_due_age_seconds",
            "failed",
            "sent",
        }
        assert set(answer["calendar_jobs"]) == {
            "pending",
            "due",
            "oldest_due_age_seconds",
            "failed",
        }
        assert set(answer["reports"]) == {"last_succeeded_at", "age_seconds", "running"}
    for who in (scenario.person("student"), scenario.mentor(), None):
        response = scenario.api(who).rpc("ops_health")
        refused(response, 403, "only admins and the service role may read the platform's health")
        assert response.json()["code"] == "PT403"
        assert response.headers["content-type"].startswith("application/json")


def _message(conn: psycopg.Connection, recipient: uuid.UUID, channel: str, **cols: Any) -> int:
    cols = {"send_after": PAST, **cols}
    names = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    row = conn.execute(
        "insert into public.notifications (recipient_id, kind, channel, dedupe_key, "
        + names
        + f") values (%s, 'session_booked', %s, %s, {marks}) returning id",
        (recipient, channel, f"ops-health:{uuid.uuid4()}", *cols.values()),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_outbox_and_messages(
    scenario: Scenario,
    actors: dict[str, Api],
    clock: Clock,
    conn: psycopg.Connection,
    made: dict[str, list[Any]],
) -> None:
    clock.freeze(PAST)
    before = health(actors["service"])
    assert before["outbox"]["oldest_due_age_seconds"] is None  # nothing else is due in 1975
    who = scenario.person()
    s = dt.timedelta(seconds=1)
    made["notifications"] += [
        _message(conn, who, "email", send_after=PAST - 12.5 * s),  # due 12.5 s ago
        _message(conn, who, "discord", send_after=PAST - 2 * s),  # due
        _message(conn, who, "email", send_after=PAST + 3600 * s),  # a reminder for later
        # failed once, retried later: pending, not due
        _message(conn, who, "email", send_after=PAST - 60 * s, next_attempt_at=PAST + 600 * s),
        _message(conn, who, "email", status="failed"),
        _message(conn, who, "email", status="sent", sent_at=PAST),
        _message(conn, who, "discord", status="sent", sent_at=PAST),
        _message(conn, who, "discord", status="voided", voided_at=PAST),
    ]
    after = health(actors["service"])
    grew = {
        k: after["outbox"][k] - before["outbox"][k] for k in ("pending", "due", "failed", "sent")
    }
    assert grew == {"pending": 4, "due": 2, "failed": 1, "sent": 2}
    assert after["outbox"]["oldest_due_age_seconds"] == 12.5

    def counts(answer: dict[str, Any]) -> dict[tuple[str, str], int]:
        return {(m["channel"], m["status"]): m["count"] for m in answer["messages"]}

    b, a = counts(before), counts(after)
    assert {k: a[k] - b.get(k, 0) for k in a if a[k] != b.get(k, 0)} == {
        ("email", "pending"): 3,
        ("discord", "pending"): 1,
        ("email", "failed"): 1,
        ("email", "sent"): 1,
        ("discord", "sent"): 1,
        ("discord", "voided"): 1,
    }
    assert after["messages"] == sorted(after["messages"], key=lambda m: (m["channel"], m["status"]))

    clock.freeze(PAST + 100 * s)  # the age follows the rules' clock
    assert health(actors["service"])["outbox"]["oldest_due_age_seconds"] == 112.5


def test_calendar_lag_per_connected_mentor(
    scenario: Scenario, actors: dict[str, Api], clock: Clock, conn: psycopg.Connection
) -> None:
    clock.freeze(PAST)
    synced, never, unconnected = scenario.mentor(), scenario.mentor(), scenario.mentor()
    for m in (synced, never):
        conn.execute(
            "insert into private.google_credentials (mentor_id, refresh_token_ciphertext)"
            " values (%s, '\\x00')",
            (m,),
        )
    conn.execute(
        "insert into private.calendar_sync_state (mentor_id, last_synced_at) values (%s, %s)"
        " on conflict (mentor_id) do update set last_synced_at = excluded.last_synced_at",
        (synced, PAST - dt.timedelta(seconds=30)),
    )
    rows = {r["mentor_id"]: r for r in health(actors["service"])["calendar"]}
    assert rows[str(synced)] == {"mentor_id": str(synced), "lag_seconds": 30.0}
    assert rows[str(never)] == {"mentor_id": str(never), "lag_seconds": None}
    assert str(unconnected) not in rows
    clock.advance(dt.timedelta(minutes=10))
    rows = {r["mentor_id"]: r for r in health(actors["service"])["calendar"]}
    assert rows[str(synced)]["lag_seconds"] == 630.0
    conn.execute(
        "delete from private.google_credentials where mentor_id = any(%s)", ([synced, never],)
    )


def test_calendar_jobs(
    scenario: Scenario,
    actors: dict[str, Api],
    clock: Clock,
    conn: psycopg.Connection,
    made: dict[str, list[Any]],
) -> None:
    clock.freeze(PAST)
    mentor, student = scenario.mentor(), scenario.person()
    pack = scenario.pack(mentor, student, purchased_at=PAST - dt.timedelta(days=1))
    session = booked_session(
        conn, pack=pack, mentor=mentor, student=student, starts=PAST + dt.timedelta(days=2)
    )
    before = health(actors["service"])["calendar_jobs"]
    assert before["oldest_due_age_seconds"] is None
    s = dt.timedelta(seconds=1)
    for cols in (
        {"requested_at": PAST - 40 * s},  # due 40 s ago
        {"requested_at": PAST - 90 * s, "next_attempt_at": PAST + 60 * s},  # backing off
        {"requested_at": PAST - 99 * s, "locked_until": PAST + 60 * s, "claimed_by": "w"},  # held
        {"requested_at": PAST - 99 * s, "processed_at": PAST, "outcome": "gave_up"},
        {"requested_at": PAST - 99 * s, "processed_at": PAST, "outcome": "done"},
    ):
        names = ", ".join(cols)
        marks = ", ".join(["%s"] * len(cols))
        row = conn.execute(
            f"insert into private.calendar_jobs (session_id, mentor_id, action, {names})"
            f" values (%s, %s, 'upsert', {marks}) returning id",
            (session, mentor, *cols.values()),
        ).fetchone()
        assert row is not None
        made["calendar_jobs"].append(row[0])
    after = health(actors["service"])["calendar_jobs"]
    assert {k: after[k] - before[k] for k in ("pending", "due", "failed")} == {
        "pending": 3,
        "due": 1,
        "failed": 1,
    }
    assert after["oldest_due_age_seconds"] == 40.0


def test_reports_and_webhooks(
    actors: dict[str, Api], clock: Clock, conn: psycopg.Connection, made: dict[str, list[Any]]
) -> None:
    clock.freeze(FUTURE)
    before = health(actors["service"])
    assert before["reports"]["running"] is False
    h = dt.timedelta(hours=1)
    for cols in (
        ("succeeded", FUTURE - 3 * h, FUTURE - 2 * h, None),
        ("failed", FUTURE - 2 * h, FUTURE - 1.5 * h, None),
        ("succeeded", FUTURE - 2 * h, FUTURE - h, None),
        ("running", FUTURE - 0.1 * h, None, FUTURE + h),
    ):
        row = conn.execute(
            "insert into public.report_runs (outcome, started_at, finished_at, lease_until, trigger,"
            " claimed_by) values (%s, %s, %s, %s, 'command', 'ops-health-test') returning id",
            cols,
        ).fetchone()
        assert row is not None
        made["report_runs"].append(row[0])
    reports = health(actors["service"])["reports"]
    assert reports == {
        "last_succeeded_at": "2150-01-01T11:00:00+00:00",
        "age_seconds": 3600.0,
        "running": True,
    }

    for provider, outcome in (("stripe", "fulfilled"), ("stripe", "fulfilled"), ("paypal", None)):
        row = conn.execute(
            "insert into private.webhook_events (provider, event_id, event_type, payload, outcome)"
            " values (%s, %s, 'test.event', '{}', %s) returning id",
            (provider, f"ops-health-{uuid.uuid4()}", outcome),
        ).fetchone()
        assert row is not None
        made["webhook_events"].append(row[0])

    def counts(answer: dict[str, Any]) -> dict[tuple[str, str], int]:
        return {(w["provider"], w["status"]): w["count"] for w in answer["webhooks"]}

    b, a = counts(before), counts(health(actors["service"]))
    assert {k: a[k] - b.get(k, 0) for k in a if a[k] != b.get(k, 0)} == {
        ("stripe", "fulfilled"): 2,
        ("paypal", "received"): 1,
    }
