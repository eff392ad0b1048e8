"""The request id carried to the workers (sql/rules/request_ids.sql): a booking made through the
gateway with `X-Request-Id` queues its messages and its calendar job with that id, a malformed
or missing one leaves them null, nobody can write it, and the dispatcher's log line for each
message it sends carries it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from sync.logs import JsonFormatter
from sync.messaging.worker import Dispatcher, build_transports
from testing.dispatch import T, World, worker_settings

UTC = dt.UTC
# Tuesday 5 March 2002, 10:00 in New York: a free slot of the world's mentor.
SLOT = dt.datetime(2002, 3, 5, 15, 0, tzinfo=UTC)


def postgrest(
    settings: Settings, path: str, token: str, request_id: str | None, **kw: Any
) -> httpx.Response:
    """A request straight to PostgREST (the header as the gateway passes it on, whatever the
    gateway's own rule for making or trusting one)."""
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    return httpx.post(
        f"http://{settings.host}:{settings.postgrest_port}{path}", headers=headers, timeout=30, **kw
    )


def book(world: World, request_id: str | None, starts: dt.datetime) -> uuid.UUID:
    settings = world.scenario.settings
    token = jwt.user_token(settings, world.student, f"{world.student}@scenario.test")
    response = postgrest(
        settings,
        "/rpc/book_session",
        token,
        request_id,
        json={"pack_id": str(world.pack), "starts_at": starts.isoformat()},
    )
    assert response.status_code == 200, response.text
    return uuid.UUID(response.json()["id"])


def ids_of(conn: psycopg.Connection, session: uuid.UUID) -> tuple[set[str | None], set[str | None]]:
    messages = {
        r[0]
        for r in conn.execute(
            "select request_id from public.notifications where session_id = %s", (session,)
        )
    }
    jobs = {
        r[0]
        for r in conn.execute(
            "select request_id from private.calendar_jobs where session_id = %s", (session,)
        )
    }
    return messages, jobs


def test_a_booking_queues_its_messages_and_job_with_the_request_id(
    world: World,
    conn: psycopg.Connection,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert world.clock.now() == T
    session = book(world, "test-abc-123", SLOT)
    messages, jobs = ids_of(conn, session)
    assert messages == {"test-abc-123"} and jobs == {"test-abc-123"}

    # The dispatcher logs each message it sends with the id of the request that queued it.
    ws = worker_settings(settings, tmp_path / "mail")

    async def drain() -> None:
        async with Dispatcher(ws, build_transports(ws), "request-id-worker") as d:
            await d.drain()

    with caplog.at_level(logging.INFO, logger="sync.messaging"):
        asyncio.run(drain())
    lines = [
        json.loads(JsonFormatter("dispatcher").format(r))
        for r in caplog.records
        if r.msg == "message sent"
    ]
    booked = [x for x in lines if x["kind"] == "session_booked"]
    assert booked, [r.getMessage() for r in caplog.records]
    assert {x["request_id"] for x in booked} == {"test-abc-123"}
    sent = conn.execute(
        "select count(*) from public.notifications where session_id = %s and status = 'sent'",
        (session,),
    ).fetchone()
    assert sent is not None and sent[0] == len(booked)


@pytest.mark.parametrize("header", [None, "", "has space", "x" * 129, "a/b", "<script>"])
def test_a_missing_or_malformed_request_id_is_null(
    world: World, conn: psycopg.Connection, header: str | None
) -> None:
    session = book(world, header, SLOT + dt.timedelta(days=1))
    assert ids_of(conn, session) == ({None}, {None})


def test_the_longest_request_id_is_kept(world: World, conn: psycopg.Connection) -> None:
    longest = "A1._:-" + "z" * 122
    session = book(world, longest, SLOT + dt.timedelta(days=1))
    assert ids_of(conn, session) == ({longest}, {longest})


def test_nobody_writes_it(world: World, conn: psycopg.Connection) -> None:
    """The service role may insert messages; the request id it sends is replaced by its own
    request's (none here: null)."""
    response = postgrest(
        world.scenario.settings,
        "/notifications",
        jwt.service_role_key(world.scenario.settings),
        "real-id-1",
        headers={"Prefer": "return=representation"},
        json={
            "recipient_id": str(world.student),
            "kind": "session_booked",
            "channel": "email",
            "dedupe_key": f"request-id-test:{uuid.uuid4()}",
            "request_id": "forged-id",
        },
    )
    assert response.status_code == 201, response.text
    row = response.json()[0]
    conn.execute("delete from public.notifications where id = %s", (row["id"],))
    assert row["request_id"] == "real-id-1"
    # a student cannot write the table at all
    student = world.scenario.api(world.student)
    refused = student.request(
        "PATCH",
        f"/notifications?recipient_id=eq.{world.student}",
        json={"request_id": "forged"},
        rollback=True,
    )
    assert refused.status_code in (401, 403), refused.text
