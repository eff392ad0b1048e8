"""Each component's log line read in the common shape (mentorships/log_lines.py): the formats as
the components write them, queries and statements dropped, the readable form."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from mentorships.log_lines import parse, readable


def test_a_python_json_line_keeps_its_fields_and_gets_its_component() -> None:
    line = json.dumps(
        {
            "ts": "2026-12-03T16:58:30.627+00:00",
            "level": "info",
            "logger": "sync.messaging",
            "msg": "message sent",
            "request_id": "abc-1",
            "notification_id": 7,
        }
    )
    entry = parse("dispatcher", line)
    assert entry == {
        "ts": "2026-12-03T16:58:30.627+00:00",
        "level": "info",
        "logger": "sync.messaging",
        "msg": "message sent",
        "request_id": "abc-1",
        "notification_id": 7,
        "component": "dispatcher",
    }
    # a line that names its component (sync/logs.py's configure(component=...)) keeps it;
    # a "Z" time is the same instant
    named = parse("services", '{"ts": "2026-12-03T16:58:30.627Z", "component": "x", "msg": "m"}')
    assert named is not None
    assert (named["component"], named["ts"]) == ("x", "2026-12-03T16:58:30.627+00:00")


def test_postgres_jsonlog() -> None:
    line = json.dumps(
        {
            "timestamp": "2026-12-03 19:40:12.123 UTC",
            "pid": 42,
            "error_severity": "ERROR",
            "state_code": "23505",
            "message": "duplicate key value violates unique constraint",
            "statement": "insert into x values ('secret')",
            "backend_type": "client backend",
        }
    )
    entry = parse("postgres", line)
    assert entry is not None
    assert entry["ts"] == "2026-12-03T19:40:12.123+00:00"
    assert (entry["level"], entry["component"], entry["state_code"]) == (
        "error",
        "postgres",
        "23505",
    )
    assert "statement" not in entry and "secret" not in json.dumps(entry)


def test_postgrest_lines_are_converted() -> None:
    entry = parse("postgrest", "03/Dec/2026:18:53:30 +0000: Schema cache loaded")
    assert entry == {
        "ts": "2026-12-03T18:53:30.000+00:00",
        "level": "info",
        "component": "postgrest",
        "logger": "postgrest",
        "msg": "Schema cache loaded",
    }
    failed = parse("postgrest", "03/Dec/2026:18:53:30 +0100: Connection failed. Retrying")
    assert failed is not None
    assert (failed["level"], failed["ts"]) == ("error", "2026-12-03T17:53:30.000+00:00")


def test_nginx_lines_lose_their_query_string() -> None:
    access = parse(
        "gateway",
        '127.0.0.1 - - [03/Dec/2026:19:20:24 +0000] "GET /rest/v1/mentors?apikey=sekrit&select=id'
        ' HTTP/1.1" 502 12 "-" "python-httpx/0.28.1"',
    )
    assert access is not None
    assert (access["method"], access["path"], access["status"], access["level"]) == (
        "GET",
        "/rest/v1/mentors",
        502,
        "error",
    )
    assert "sekrit" not in json.dumps(access)
    error = parse(
        "gateway",
        "2026/12/03 19:20:24 [warn] 12#12: *5 an upstream response is buffered, client: 127.0.0.1,"
        ' request: "GET /rest/v1/x?apikey=sekrit HTTP/1.1"',
    )
    assert error is not None
    assert (error["level"], error["ts"]) == ("warning", "2026-12-03T19:20:24.000+00:00")
    assert "sekrit" not in error["msg"] and "/rest/v1/x" in error["msg"]


def test_a_plain_line_has_no_time_and_blank_lines_are_none() -> None:
    assert parse("dashboards", "  URL: http://127.0.0.1:8501") == {
        "ts": None,
        "level": "info",
        "component": "dashboards",
        "logger": "dashboards",
        "msg": "  URL: http://127.0.0.1:8501",
    }
    traceback = parse("services", "Traceback (most recent call last):")
    assert traceback is not None and traceback["level"] == "warning"
    assert parse("services", "   \n") is None


def test_readable_names_the_zone_and_shows_the_request() -> None:
    entry = {
        "ts": "2026-12-03T19:20:24.000+00:00",
        "level": "info",
        "component": "gateway",
        "msg": "GET /x",
        "method": "GET",
        "path": "/rest/v1/x",
        "status": 200,
        "duration_ms": 3.5,
        "request_id": "r-1",
    }
    line = readable(entry, ZoneInfo("Europe/Berlin"))
    assert line.startswith("2026-12-03 20:20:24.000 CET gateway")
    assert "r-1" in line and line.endswith("GET /rest/v1/x 200 3.5 ms")
