"""POST /errors and the server errors: stored by report_error with tokens and keys scrubbed in
SQL, 413 over 16 KiB (in the services and in SQL), refusals naming the field, the services'
unhandled errors reported with their request id, admins reading them."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
from fastapi import FastAPI

from sync.app import create_app
from testing.api import Api
from testing.observability import APP_PORT_OFFSET, LogLines, port_base
from testing.services import serving

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0"
    ".c2lnbmF0dXJlLW9mLXRoZS10ZXN0cw"
)
# A made-up key in Stripe's live-key shape, joined here so no scanner reads a literal as a leak.
FAKE_STRIPE_KEY = "_".join(("sk", "live", "51abcDEF0123456789"))
SECRETS = [JWT, "tok-in-url-123", "Zm9vYmFyYmF6", FAKE_STRIPE_KEY, "pw-in-json-9"]


def stored(conn: psycopg.Connection, report_id: int) -> dict[str, Any]:
    cur = conn.execute(
        "select source, message, stack, url, user_agent, release, context, request_id"
        " from private.error_reports where id = %s",
        (report_id,),
    )
    names = [c.name for c in cur.description or []]
    row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def count(conn: psycopg.Connection) -> int:
    row = conn.execute("select count(*) from private.error_reports").fetchone()
    assert row is not None
    return int(row[0])


def test_a_report_is_stored_scrubbed(served: str, conn: psycopg.Connection) -> None:
    report = {
        "message": f"TypeError: fetch failed with Authorization: Bearer {JWT}",
        "stack": f"at load (app.js:1:2)\n\tat token {JWT}\nkey {FAKE_STRIPE_KEY}",
        "url": "https://app.example/book?apikey=tok-in-url-123&mentor=7#x",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "release": "1.4.2",
        "context": {"password": "pw-in-json-9", "header": "Bearer Zm9vYmFyYmF6", "n": 3},
    }
    r = httpx.post(f"{served}/errors", json=report, headers={"X-Request-Id": "client-report-1"})
    assert r.status_code == 202, r.text
    row = stored(conn, r.json()["id"])
    assert row["source"] == "client"
    assert row["request_id"] == "client-report-1"
    assert row["message"] == "TypeError: fetch failed with Authorization: Bearer [redacted]"
    assert row["stack"] == "at load (app.js:1:2)\n\tat token [redacted]\nkey [redacted]"
    assert row["url"] == "https://app.example/book?apikey=[redacted]&mentor=7#x"
    assert row["user_agent"] == report["user_agent"] and row["release"] == "1.4.2"
    assert row["context"] == {"password": "[redacted]", "header": "Bearer [redacted]", "n": 3}
    text = repr(row)
    assert not [secret for secret in SECRETS if secret in text]


def test_over_16_kib_is_413_in_the_services_and_in_sql(
    served: str, conn: psycopg.Connection, actors: dict[str, Api]
) -> None:
    before = count(conn)
    r = httpx.post(f"{served}/errors", json={"message": "x", "stack": "y" * 17000})
    assert r.status_code == 413
    assert r.json() == {
        "code": "SV413",
        "message": "the body is larger than 16 KiB",
        "details": "body",
        "hint": "Send at most 16 KiB.",
    }
    # A REST client calling the RPC itself meets the same limit.
    direct = actors["service"].rpc(
        "report_error", report={"message": "x", "context": {"a": "z" * 17000}}
    )
    assert direct.status_code == 413
    assert direct.json()["code"] == "PT413"
    assert direct.json()["details"] == "report"
    assert count(conn) == before


def test_refusals_name_the_field(served: str, conn: psycopg.Connection) -> None:
    before = count(conn)
    cases: list[tuple[Any, str, str]] = [
        ({}, "message", "message is required"),
        ({"message": "   "}, "message", "message is required"),
        ({"message": 42}, "message", "message: expected text: got a number"),
        ({"message": "m", "stack": ["a"]}, "stack", "stack: expected text: got a array"),
        ({"message": "m", "url": "u" * 2001}, "url", "url is longer than 2000 characters (2001)"),
        ({"message": "m", "release": "a\nb"}, "release", "release contains control characters"),
        (
            {"message": "m", "context": [1]},
            "context",
            "context: expected a JSON object: got a array",
        ),
        ({"message": "m", "sevrity": "high"}, "sevrity", "sevrity: unknown key: expected only"),
    ]
    for body, field, message in cases:
        r = httpx.post(f"{served}/errors", json=body)
        assert r.status_code == 422, (body, r.text)
        answer = r.json()
        assert answer["code"] == "PT422"
        assert answer["details"] == field
        assert answer["message"].startswith(message), answer
    not_json = httpx.post(
        f"{served}/errors", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["details"] == "body"
    assert count(conn) == before


def test_only_the_service_role_stores_and_only_admins_read(actors: dict[str, Api]) -> None:
    for who, status in (("anon", 401), ("student_a", 403), ("admin", 403)):
        r = actors[who].rpc("report_error", report={"message": "x"})
        assert r.status_code == status, (who, r.text)
    made = actors["service"].rpc("report_error", report={"message": "for the admins"})
    assert made.status_code == 200, made.text
    listed = actors["admin"].rpc("error_reports", max_rows="5")
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["id"] == made.json()["id"]
    assert listed.json()[0]["message"] == "for the admins"
    refused = actors["student_a"].rpc("error_reports")
    assert refused.status_code == 403 and refused.json()["code"] == "PT403"
    bad = actors["admin"].rpc("error_reports", max_rows="0")
    assert bad.status_code == 422 and bad.json()["details"] == "max_rows"


def test_an_unhandled_error_is_reported_as_a_server_error(
    obs_settings: Any, conn: psycopg.Connection, log_lines: LogLines
) -> None:
    app: FastAPI = create_app(obs_settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"upstream said no to Bearer {JWT} at /x?access_token=tok-in-url-123")

    with serving(app, port_base() + APP_PORT_OFFSET) as url:
        r = httpx.get(f"{url}/boom", headers={"X-Request-Id": "server-error-0001"})
    assert r.status_code == 500
    assert r.json()["code"] == "SV500"
    row = conn.execute(
        "select id from private.error_reports where request_id = 'server-error-0001'"
    ).fetchone()
    assert row is not None
    report = stored(conn, row[0])
    assert report["source"] == "server"
    assert report["url"] == "/boom"
    assert report["message"] == (
        "RuntimeError: upstream said no to Bearer [redacted] at /x?access_token=[redacted]"
    )
    assert "Traceback (most recent call last)" in report["stack"]
    assert "raise RuntimeError" in report["stack"]
    assert not [secret for secret in SECRETS if secret in repr(report)]
    # The services' own line of it (with the traceback) carries no token either.
    (line,) = [x for x in log_lines.lines() if x["msg"] == "unhandled error"]
    assert line["request_id"] == "server-error-0001"
    assert "RuntimeError: upstream said no to Bearer [redacted]" in line["exc"]
    assert JWT not in log_lines.text()


def test_the_prune_job_keeps_30_days(conn: psycopg.Connection) -> None:
    old, recent = (
        conn.execute(
            "insert into private.error_reports (source, message, created_at)"
            " values ('client', 'prune check', private.clock_now() - %s::interval) returning id",
            (age,),
        ).fetchone()
        or (0,)
        for age in ("31 days", "29 days")
    )
    row = conn.execute("select private.prune_error_reports()").fetchone()
    assert row is not None and row[0] >= 1
    left = {
        r[0]
        for r in conn.execute(
            "select id from private.error_reports where id = any(%s)", ([old[0], recent[0]],)
        ).fetchall()
    }
    assert left == {recent[0]}
