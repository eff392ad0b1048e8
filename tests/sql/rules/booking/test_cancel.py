"""cancel_session (sql/rules/booking/cancel.sql): the student's notice, mentor and admin cancels,
refusals; over real PostgREST with real JWTs and a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from testing.api import ok, refused
from testing.booking import ny
from testing.clock import Clock
from testing.factories import Scenario


@pytest.mark.parametrize(
    ("before_start", "restored", "status"),
    [
        (dt.timedelta(hours=24), True, "canceled"),  # exactly the notice: credit back
        (dt.timedelta(hours=24) - dt.timedelta(seconds=1), False, "late_canceled"),
        (dt.timedelta(hours=30), True, "canceled"),
    ],
)
def test_student_cancel_notice(
    scenario: Scenario,
    booked: dict[str, Any],
    clock: Clock,
    before_start: dt.timedelta,
    restored: bool,
    status: str,
) -> None:
    api = scenario.api(booked["student"])
    session = ok(api.rpc("book_session", pack_id=booked["pack"], starts_at=ny(5, 9)))
    clock.freeze(ny(5, 9) - before_start)
    change = ok(api.rpc("cancel_session", session_id=session["id"], reason="sick"))
    assert change["credit_restored"] is restored
    assert change["session"]["status"] == status
    assert change["session"]["cancel_reason"] == "sick"
    assert scenario.one(
        "select remaining_sessions from public.session_packs where id = %s", booked["pack"]
    ) == (4 if restored else 3)
    assert (
        scenario.one(
            "select count(*) from public.notifications where session_id = %s and status = 'pending'"
            " and kind in ('session_reminder_24h', 'session_reminder_1h')",
            session["id"],
        )
        == 0
    )
    assert (
        scenario.one(
            "select count(*) from public.notifications where session_id = %s"
            " and kind = 'session_canceled'",
            session["id"],
        )
        == 3
    )
    refused(
        api.rpc("cancel_session", session_id=session["id"]),
        409,
        f"the session is already {status.replace('_', ' ')}",
    )


@pytest.mark.parametrize("who", ["mentor", "admin"])
def test_mentor_or_admin_cancel_always_restores(
    scenario: Scenario, booked: dict[str, Any], clock: Clock, who: str
) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(5, 9)
        )
    )
    clock.freeze(ny(5, 8))
    actor = booked["mentor"] if who == "mentor" else scenario.person("admin")
    change = ok(scenario.api(actor).rpc("cancel_session", session_id=session["id"]))
    assert change["credit_restored"] is True and change["session"]["status"] == "canceled"


def test_cancel_refusals(scenario: Scenario, booked: dict[str, Any], clock: Clock) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(5, 9)
        )
    )
    refused(
        scenario.api(scenario.person()).rpc("cancel_session", session_id=session["id"]),
        403,
        "this session is not yours",
    )
    refused(
        scenario.api(booked["student"]).rpc(
            "cancel_session", session_id="00000000-0000-0000-0000-000000000000"
        ),
        404,
        "no session with id",
    )
    clock.freeze(ny(5, 9))
    refused(
        scenario.api(booked["mentor"]).rpc("cancel_session", session_id=session["id"]),
        409,
        "the session has started",
    )


@pytest.mark.parametrize(
    ("before_start", "restored"),
    [
        (dt.timedelta(hours=24), True),
        (dt.timedelta(hours=24) - dt.timedelta(seconds=1), False),
    ],
)
def test_cancel_terms_say_what_the_cancel_then_does(
    scenario: Scenario,
    booked: dict[str, Any],
    clock: Clock,
    before_start: dt.timedelta,
    restored: bool,
) -> None:
    """cancel_terms (asked before confirming) and cancel_session at the same instant agree."""
    student = scenario.api(booked["student"])
    session = ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(5, 9)))
    clock.freeze(ny(5, 9) - before_start)
    [terms] = ok(student.rpc("cancel_terms", session_id=session["id"]))
    assert terms == {
        "credit_restored": restored,
        "cancel_notice_hours": 24,
        "credit_back_until": (ny(5, 9) - dt.timedelta(hours=24)).astimezone(dt.UTC).isoformat(),
    }
    # the mentor's cancel always gives the credit back: no deadline
    [mentor_terms] = ok(
        scenario.api(booked["mentor"]).rpc("cancel_terms", session_id=session["id"])
    )
    assert mentor_terms["credit_restored"] is True and mentor_terms["credit_back_until"] is None
    assert (
        scenario.one(
            "select count(*) from public.sessions where id = %s and status = 'scheduled'",
            session["id"],
        )
        == 1
    )  # asking changes nothing
    change = ok(student.rpc("cancel_session", session_id=session["id"]))
    assert change["credit_restored"] is restored


def test_cancel_terms_refuse_as_the_cancel_does(
    scenario: Scenario, booked: dict[str, Any], clock: Clock
) -> None:
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(5, 9)
        )
    )
    refused(
        scenario.api(scenario.person()).rpc("cancel_terms", session_id=session["id"]),
        403,
        "this session is not yours",
    )
    missing = scenario.api(booked["student"]).rpc(
        "cancel_terms", session_id="00000000-0000-0000-0000-000000000000"
    )
    refused(missing, 404, "no session with id")
    refused(scenario.api(booked["student"]).rpc("cancel_terms"), 422, "session_id is required")
    clock.freeze(ny(5, 9))
    refused(
        scenario.api(booked["student"]).rpc("cancel_terms", session_id=session["id"]),
        409,
        "the session has started",
    )
    assert scenario.api(None).rpc("cancel_terms", session_id=session["id"]).status_code == 401
