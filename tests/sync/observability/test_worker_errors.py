"""A worker's ERROR lines stored as error reports (source "server") through the test stack's
gateway and report_error: message, traceback, component, request id; tokens scrubbed by the
SQL; warnings not reported; a report that cannot be stored is counted and not reported in turn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from sync.observability import worker_errors

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0"
    ".c2lnbmF0dXJlLW9mLXRoZS13b3JrZXI"
)
log = logging.getLogger("sync.test_worker")


@pytest.fixture
def forwarder(settings: Settings) -> Iterator[worker_errors.ErrorReports]:
    handler = worker_errors.install(
        "test-worker", settings.rest_url, jwt.service_role_key(settings)
    )
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def reports(conn: psycopg.Connection, since: int) -> list[dict[str, Any]]:
    cur = conn.execute(
        "select source, message, stack, url, context, request_id from private.error_reports"
        " where id > %s and url = 'worker:test-worker' order by id",
        (since,),
    )
    names = [c.name for c in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur]


def last_id(conn: psycopg.Connection) -> int:
    row = conn.execute("select coalesce(max(id), 0) from private.error_reports").fetchone()
    assert row is not None
    return int(row[0])


def test_an_error_line_is_stored_as_a_server_report(
    forwarder: worker_errors.ErrorReports, conn: psycopg.Connection
) -> None:
    since = last_id(conn)
    log.warning("a warning is only logged")
    try:
        raise RuntimeError(f"the provider said no to Bearer {JWT}")
    except RuntimeError:
        log.exception("transport error", extra={"request_id": "req-worker-0001"})
    log.error("the database API failed", extra={"request_id": "not a request id!"})
    log.error("a request id no header can carry", extra={"request_id": "naïve-id-0001"})
    forwarder.close()
    assert (forwarder.stored, forwarder.failed, forwarder.dropped) == (3, 0, 0)
    first, second, third = reports(conn, since)
    assert first["source"] == "server"
    assert first["message"] == "transport error"
    assert "RuntimeError: the provider said no to Bearer [redacted]" in first["stack"]
    assert JWT not in first["stack"]
    assert first["context"] == {
        "component": "test-worker",
        "logger": "sync.test_worker",
        "level": "ERROR",
    }
    assert first["request_id"] == "req-worker-0001"
    # A malformed id is not sent: the gateway's own id for the report's request is kept.
    assert second["message"] == "the database API failed"
    assert second["stack"] is None
    assert second["request_id"] != "not a request id!"
    assert third["message"] == "a request id no header can carry"


def test_a_report_that_cannot_be_stored_is_counted_not_reported_again(
    settings: Settings, conn: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    since = last_id(conn)
    handler = worker_errors.install("test-worker", settings.rest_url, "not-the-service-key")
    try:
        with caplog.at_level(logging.WARNING):
            log.error("a refused report")
            handler.close()
    finally:
        logging.getLogger().removeHandler(handler)
    assert (handler.stored, handler.failed) == (0, 1)
    assert [r.getMessage() for r in caplog.records if r.name == worker_errors.__name__] == [
        "error not reported"
    ]
    assert reports(conn, since) == []
