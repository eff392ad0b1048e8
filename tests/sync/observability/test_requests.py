"""Request ids in and out, in every log line of the request, passed on to PostgREST; the access
line with the common fields; no query string in any log line."""

from __future__ import annotations

import re

import httpx
import psycopg

from sync.app import create_app
from sync.settings import ServiceSettings
from testing.fakes.http import StrictFake
from testing.observability import (
    APP_PORT_OFFSET,
    GATEWAY_OFFSET,
    LogLines,
    Serve,
    port_base,
)
from testing.services import changed, serving

COMMON = {"ts", "level", "component", "logger", "msg"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|\+00:00)$")


def access_lines(log_lines: LogLines, rid: str) -> list[dict[str, object]]:
    return log_lines.wait_for(
        lambda line: line["logger"] == "sync.access" and line.get("request_id") == rid
    )


def test_a_well_formed_id_is_kept_answered_and_in_the_access_line(
    served: str, log_lines: LogLines
) -> None:
    rid = "req-0123456789.abc_DEF"
    r = httpx.get(f"{served}/health?apikey=not-for-logs", headers={"X-Request-Id": rid})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == rid
    (line,) = access_lines(log_lines, rid)
    assert set(line) >= COMMON
    assert TS.match(str(line["ts"])), line["ts"]
    assert line["component"] == "services"
    assert line["level"] == "info"
    assert line["msg"] == "request"
    assert line["method"] == "GET"
    assert line["path"] == "/health"
    assert line["route"] == "/health"
    assert line["status"] == 200
    assert line["client"] == "127.0.0.1"
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert "not-for-logs" not in log_lines.text()


def test_the_route_is_the_template_and_an_unknown_path_is_unmatched(
    served: str, log_lines: LogLines
) -> None:
    rid = "template-check-1"
    r = httpx.get(f"{served}/video/not-a-uuid", headers={"X-Request-Id": rid})
    assert r.headers["x-request-id"] == rid
    (line,) = access_lines(log_lines, rid)
    assert line["route"] == "/video/{session_id}"
    assert line["path"] == "/video/not-a-uuid"
    rid = "template-check-2"
    r = httpx.get(f"{served}/nothing/here", headers={"X-Request-Id": rid})
    assert r.status_code == 404
    (line,) = access_lines(log_lines, rid)
    assert line["route"] == "<unmatched>"
    assert line["status"] == 404


def test_a_malformed_or_missing_id_is_replaced(served: str, log_lines: LogLines) -> None:
    givens: list[str | bytes | None] = [
        "short",
        "x" * 129,
        "bad id with spaces",
        "ünïcode-id-123".encode(),
        None,
    ]
    for given in givens:
        headers = (
            [(b"X-Request-Id", given if isinstance(given, bytes) else given.encode())]
            if given is not None
            else []
        )
        r = httpx.get(f"{served}/health", headers=headers)
        rid = r.headers["x-request-id"]
        assert rid != (given.decode() if isinstance(given, bytes) else given)
        assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
        assert len(access_lines(log_lines, rid)) == 1


def test_every_line_of_a_request_carries_its_id(
    serve: Serve, log_lines: LogLines, obs_settings: ServiceSettings
) -> None:
    """A webhook refused for its signature logs a warning of its own: with the request's id."""
    rid = "webhook-line-1234"
    with serve() as url:
        r = httpx.post(
            f"{url}/webhooks/stripe",
            content=b"{}",
            headers={"Stripe-Signature": "t=1,v1=00", "X-Request-Id": rid},
        )
    assert r.status_code == 400
    access_lines(log_lines, rid)
    mine = [line for line in log_lines.lines() if line.get("request_id") == rid]
    assert {line["logger"] for line in mine} == {"sync.orders", "sync.access"}
    assert all(set(line) >= COMMON for line in mine)


def test_the_id_is_passed_to_postgrest(obs_settings: ServiceSettings) -> None:
    """A strict fake gateway expects the id on the services' call."""
    rid = "to-postgrest-0001"
    gateway = StrictFake("gateway", port_base() + GATEWAY_OFFSET)
    try:
        gateway.expect(
            "POST",
            "/rest/v1/rpc/report_error",
            headers={"X-Request-Id": rid},
            json={"report": {"message": "boom"}, "source": "client"},
            response={"id": 1},
        )
        app_settings = changed(obs_settings, supabase_url=gateway.url)
        with serving(create_app(app_settings), port_base() + APP_PORT_OFFSET) as url:
            r = httpx.post(f"{url}/errors", json={"message": "boom"}, headers={"X-Request-Id": rid})
        assert r.status_code == 202, r.text
        assert r.json() == {"id": 1}
        gateway.verify()
    finally:
        gateway.close()


def test_postgrest_gets_the_id_through_the_real_gateway(
    served: str, conn: psycopg.Connection
) -> None:
    """report_error stores the X-Request-Id PostgREST was given (request.headers)."""
    rid = "through-gateway-0001"
    r = httpx.post(f"{served}/errors", json={"message": "id check"}, headers={"X-Request-Id": rid})
    assert r.status_code == 202, r.text
    row = conn.execute(
        "select request_id, source from private.error_reports where id = %s", (r.json()["id"],)
    ).fetchone()
    assert row == (rid, "client")
