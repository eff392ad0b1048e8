"""video_session_access (sql/rules/booking/video.sql): who, and the window; over real PostgREST
with real JWTs and a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from testing.api import ok, refused
from testing.booking import ny
from testing.clock import Clock
from testing.factories import Scenario


def test_video_access_window(scenario: Scenario, booked: dict[str, Any], clock: Clock) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(3, 9)
        )
    )
    student, mentor = scenario.api(booked["student"]), scenario.api(booked["mentor"])
    clock.freeze(ny(3, 8, 50) - dt.timedelta(seconds=1))
    refused(student.rpc("video_session_access", session_id=session["id"]), 409, "the call opens at")
    clock.freeze(ny(3, 8, 50))
    access = ok(student.rpc("video_session_access", session_id=session["id"]))
    assert access["channel"] == session["video_channel"] and access["role"] == "student"
    assert access["expires_at"] == "2026-11-03T15:15:00+00:00"
    assert ok(mentor.rpc("video_session_access", session_id=session["id"]))["role"] == "mentor"
    refused(
        scenario.api(scenario.person("admin")).rpc(
            "video_session_access", session_id=session["id"]
        ),
        403,
        "only the session's student and mentor",
    )
    clock.freeze(ny(3, 10, 15))
    refused(
        student.rpc("video_session_access", session_id=session["id"]), 409, "the call closed at"
    )
