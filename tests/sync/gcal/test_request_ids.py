"""The request id carried to the calendar worker: a booking made through the gateway with
`X-Request-Id` queues its calendar job with it, claim_calendar_jobs returns it, and the worker's
log line for the applied event carries it."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import psycopg
import pytest

from mentorships import jwt
from sync.gcal.worker import Syncer
from sync.logs import JsonFormatter
from testing.factories import Scenario
from testing.gcal import Connected
from tests.sync.gcal.events_setup import TUE, at

pytestmark = pytest.mark.usefixtures("frozen")


def test_the_calendar_worker_logs_the_request_that_queued_the_job(
    mentor: Connected,
    student: uuid.UUID,
    pack: uuid.UUID,
    syncer: Syncer,
    scenario: Scenario,
    conn: psycopg.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # straight to PostgREST: the header as the gateway passes it on
    settings = scenario.settings
    token = jwt.user_token(settings, student, f"{student}@scenario.test")
    answer = httpx.post(
        f"http://{settings.host}:{settings.postgrest_port}/rpc/book_session",
        json={"pack_id": str(pack), "starts_at": at(TUE, 10).isoformat()},
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "test-cal-456"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    session = answer.json()["id"]
    row = conn.execute(
        "select request_id from private.calendar_jobs where session_id = %s", (session,)
    ).fetchone()
    assert row == ("test-cal-456",)
    with caplog.at_level(logging.INFO, logger="sync.gcal"):
        assert syncer.drain_events() == 1
    lines = [
        json.loads(JsonFormatter("gcal-worker").format(r))
        for r in caplog.records
        if r.msg == "session event applied"
    ]
    assert [(x["session_id"], x["request_id"]) for x in lines] == [(session, "test-cal-456")]
