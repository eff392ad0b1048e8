"""What a mentor changes of their own booking settings (sql/rls/mentors.sql, the column grant;
sql/rules/input_checks.sql, the checks) and reads of their own Google Calendar sync
(my_calendar_sync, sql/rules/google/busy.sql): over real PostgREST with real JWTs."""

from __future__ import annotations

import base64
import datetime as dt
import os

import pytest

from testing.api import ok, refused
from testing.clock import Clock
from testing.factories import Scenario
from testing.gcal import service_rpc

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
BOOKING = {
    "slot_minutes": 45,
    "slot_grid_minutes": 15,
    "buffer_minutes": 10,
    "min_notice_minutes": 1440,
    "booking_horizon_days": 30,
}


def test_a_mentor_writes_their_own_booking_settings(scenario: Scenario) -> None:
    mentor, other = scenario.mentor(), scenario.mentor()
    r = scenario.api(mentor).request("PATCH", f"/mentors?id=eq.{mentor}", json=BOOKING)
    [row] = ok(r)
    assert {k: row[k] for k in BOOKING} == BOOKING
    # another mentor's row: RLS filters it, nothing changes
    assert ok(scenario.api(mentor).request("PATCH", f"/mentors?id=eq.{other}", json=BOOKING)) == []
    assert scenario.one("select slot_minutes from public.mentors where id = %s", other) == 60
    # a student may not write a mentor row at all
    student = scenario.person("student")
    r = scenario.api(student).request(
        "PATCH", f"/mentors?id=eq.{mentor}", json={"slot_minutes": 30}
    )
    assert ok(r) == []


@pytest.mark.parametrize(
    ("column", "value", "accepted"),
    [
        ("slot_minutes", 10, "15 to 240"),
        ("slot_grid_minutes", 241, "5 to 240"),
        ("buffer_minutes", -1, "0 to 120"),
        ("min_notice_minutes", 20161, "0 to 20160"),
        ("booking_horizon_days", 0, "1 to 365"),
    ],
)
def test_a_booking_setting_out_of_range_is_a_422_naming_it(
    scenario: Scenario, column: str, value: int, accepted: str
) -> None:
    mentor = scenario.mentor()
    r = scenario.api(mentor).request("PATCH", f"/mentors?id=eq.{mentor}", json={column: value})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "PT422" and body["details"] == column
    assert body["message"] == f"{column} must be a whole number from {accepted} (got {value})"


def test_seat_capacity_stays_the_admins(scenario: Scenario) -> None:
    mentor = scenario.mentor()
    r = scenario.api(mentor).request("PATCH", f"/mentors?id=eq.{mentor}", json={"seat_capacity": 9})
    assert r.status_code == 403, r.text


def _connect(scenario: Scenario, mentor: object) -> None:
    sealed = base64.b64encode(os.urandom(48)).decode()
    r = service_rpc(
        scenario.settings,
        "google_connected",
        mentor_id=str(mentor),
        refresh_token_sealed=sealed,
        key_version="1",
        scopes=["https://www.googleapis.com/auth/calendar.events"],
        calendars=[
            {
                "id": f"{mentor}@gmail.test",
                "summary": "Me",
                "primary": True,
                "accessRole": "owner",
                "timeZone": "Europe/Berlin",
            }
        ],
    )
    assert r.status_code == 200, r.text


def test_my_calendar_sync_tells_a_mentor_their_own_state(scenario: Scenario, clock: Clock) -> None:
    clock.freeze(NOW)
    mentor, other = scenario.mentor(), scenario.mentor()
    [row] = ok(scenario.api(mentor).rpc("my_calendar_sync"))
    assert row == {
        "connected": False, "connected_at": None, "revoked_at": None, "last_synced_at": None,
        "next_sync_at": None, "failures": 0, "last_error": None, "closed_because": None,
    }  # fmt: skip
    _connect(scenario, mentor)
    [row] = ok(scenario.api(mentor).rpc("my_calendar_sync"))
    assert row["connected"] is True and row["revoked_at"] is None
    assert row["closed_because"].startswith("the mentor's Google Calendar has not been synced yet")
    synced = NOW - dt.timedelta(hours=3)
    scenario.conn.execute(
        "update private.calendar_sync_state set last_synced_at = %s, failures = 2,"
        " last_error = 'Calendar API (503)' where mentor_id = %s",
        (synced, mentor),
    )
    [row] = ok(scenario.api(mentor).rpc("my_calendar_sync"))
    assert dt.datetime.fromisoformat(row["last_synced_at"]) == synced
    assert row["failures"] == 2 and row["last_error"] == "Calendar API (503)"
    assert "more than 120 minutes ago" in row["closed_because"]
    # the other mentor still sees only their own: not connected
    [row] = ok(scenario.api(other).rpc("my_calendar_sync"))
    assert row["connected"] is False
    scenario.conn.execute(
        "update private.google_credentials set revoked_at = %s where mentor_id = %s", (NOW, mentor)
    )
    scenario.conn.execute(
        "update private.calendar_sync_state set grant_revoked = true where mentor_id = %s",
        (mentor,),
    )
    [row] = ok(scenario.api(mentor).rpc("my_calendar_sync"))
    assert dt.datetime.fromisoformat(row["revoked_at"]) == NOW and row["next_sync_at"] is None
    assert "stopped working" in row["closed_because"]


def test_my_calendar_sync_is_for_mentors(scenario: Scenario) -> None:
    student = scenario.person("student")
    refused(scenario.api(student).rpc("my_calendar_sync"), 403, "only mentors connect")
    assert scenario.api(None).rpc("my_calendar_sync").status_code == 401
