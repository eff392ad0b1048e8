"""What the session-event tests share besides fixtures (conftest.py): the frozen instants and
small helpers over the gateway, the fake and the database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg

from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.gcal import Connected

UTC = dt.UTC
NOW = dt.datetime(2027, 1, 4, 6, 0, tzinfo=UTC)  # Monday; Berlin is UTC+1
TUE = dt.datetime(2027, 1, 5, tzinfo=UTC)
CALL_PAGE = "https://call.example.test"


def at(day: dt.datetime, hh: int, mm: int = 0) -> dt.datetime:
    return day.replace(hour=hh, minute=mm)


def book(scenario: Scenario, student: uuid.UUID, pack: uuid.UUID, starts: dt.datetime) -> str:
    answer = scenario.api(student).rpc("book_session", pack_id=pack, starts_at=starts)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def reschedule(scenario: Scenario, student: uuid.UUID, session: str, starts: dt.datetime) -> None:
    answer = scenario.api(student).rpc("reschedule_session", session_id=session, starts_at=starts)
    assert answer.status_code == 200, answer.text


def cancel(scenario: Scenario, who: uuid.UUID, session: str) -> None:
    answer = scenario.api(who).rpc("cancel_session", session_id=session)
    assert answer.status_code == 200, answer.text


def live(google: GoogleFake, mentor: Connected) -> dict[str, dict[str, Any]]:
    return google.writes.live(mentor.email, mentor.email)


def span(e: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.fromisoformat(e["start"]["dateTime"]),
        dt.datetime.fromisoformat(e["end"]["dateTime"]),
    )


def jobs(conn: psycopg.Connection, session: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select action, outcome, attempts, last_error from private.calendar_jobs"
        " where session_id = %s order by id",
        (session,),
    ).fetchall()
