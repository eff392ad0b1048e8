"""The mentor's availability and calendar page (dashboards/views/mentor_settings.py) against the
test stack: the working-hours editor (saved; a range ending before it starts refused with the
rules' message), the booking settings (saved; out of range refused), and Google Calendar as a
connected and an unconnected mentor see it (connect link, calendars chosen, disconnect)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dashboards.api import Api
from dashboards.settings import DashboardSettings
from sync.gcal.sealing import TokenKeys
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario
from testing.fakes import google as google_fake
from testing.fakes.google import GoogleFake
from testing.gcal import connect_mentor
from testing.services import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_REDIRECT_URI,
    GOOGLE_TOKEN_KEY_1,
)

PAGE = "mentor_settings.py"
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def mentor(scenario: Scenario, clock: Clock) -> uuid.UUID:
    clock.freeze(NOW)
    return scenario.mentor("America/New_York")


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleFake]:
    fake = GoogleFake(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        redirect_uri=GOOGLE_REDIRECT_URI,
    )
    yield fake
    fake.close()


def column(conn: psycopg.Connection, mentor: uuid.UUID, name: str) -> Any:
    row = conn.execute(f"select {name} from public.mentors where id = %s", (mentor,)).fetchone()
    assert row is not None
    return row[0]


def test_working_hours_editor_saves_ranges(
    dashboards: DashboardSettings, mentor: uuid.UUID, conn: psycopg.Connection
) -> None:
    at = open_page(app(mentor), PAGE)
    assert not at.exception, at.exception
    # Monday to Friday 09:00-17:00: rows 0 to 4
    assert at.selectbox(key="wh_start_0").value == "09:00"
    assert at.selectbox(key="wh_end_4").value == "17:00"
    at.button(key="wh_remove_0").click().run()  # Monday off
    at.selectbox(key="wh_end_1").set_value("12:00").run()  # Tuesday morning ...
    at.button(key="wh_add_3").click().run()  # ... and Wednesday a second range
    at.selectbox(key="wh_start_5").set_value("18:00")
    at.selectbox(key="wh_end_5").set_value("24:00")
    at.button(key="wh_add_6").click().run()  # Saturday
    at.selectbox(key="wh_start_6").set_value("10:00")
    at.selectbox(key="wh_end_6").set_value("14:00")
    at.button(key="wh_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert column(conn, mentor, "working_hours") == [
        {"weekday": 2, "start": "09:00", "end": "12:00"},
        {"weekday": 3, "start": "09:00", "end": "17:00"},
        {"weekday": 3, "start": "18:00", "end": "24:00"},
        {"weekday": 4, "start": "09:00", "end": "17:00"},
        {"weekday": 5, "start": "09:00", "end": "17:00"},
        {"weekday": 6, "start": "10:00", "end": "14:00"},
    ]
    assert "Saved your working hours." in texts(at)
    assert "off" in texts(at)  # Monday


def test_a_range_ending_before_it_starts_is_refused_with_its_message(
    dashboards: DashboardSettings, mentor: uuid.UUID, conn: psycopg.Connection
) -> None:
    before = column(conn, mentor, "working_hours")
    at = open_page(app(mentor), PAGE)
    at.selectbox(key="wh_start_0").set_value("17:00")
    at.selectbox(key="wh_end_0").set_value("09:00")
    at.button(key="wh_save").click().run()
    [error] = [e.value for e in at.error]
    assert error.startswith(
        'Not saved: working_hours must be a list of {"weekday", "start", "end"} windows'
    )
    assert "each start before its end" in error  # the hint says what to send
    assert column(conn, mentor, "working_hours") == before
    # what the mentor typed is still there to fix
    assert at.selectbox(key="wh_start_0").value == "17:00"


def test_booking_settings_saved(
    dashboards: DashboardSettings, mentor: uuid.UUID, conn: psycopg.Connection
) -> None:
    at = open_page(app(mentor), PAGE)
    at.selectbox(key="set_time_zone").set_value("Europe/Berlin")
    at.toggle(key="set_accepting").set_value(False)
    for key, value in (("set_slot", 45), ("set_grid", 15), ("set_buffer", 10),
                       ("set_notice", 1440), ("set_horizon", 30)):  # fmt: skip
        at.number_input(key=key).set_value(value)
    at.button(key="settings_save").click().run()
    assert not at.error, [e.value for e in at.error]
    row = conn.execute(
        "select time_zone, accepting_students, slot_minutes, slot_grid_minutes, buffer_minutes,"
        " min_notice_minutes, booking_horizon_days from public.mentors where id = %s",
        (mentor,),
    ).fetchone()
    assert row == ("Europe/Berlin", False, 45, 15, 10, 1440, 30)
    assert "Saved your booking settings." in texts(at)
    assert "In Europe/Berlin." in texts(at)  # the working hours now say so


def test_a_booking_setting_out_of_range_is_refused(
    dashboards: DashboardSettings, mentor: uuid.UUID, conn: psycopg.Connection
) -> None:
    at = open_page(app(mentor), PAGE)
    at.number_input(key="set_slot").set_value(10)
    at.button(key="settings_save").click().run()
    [error] = [e.value for e in at.error]
    assert "slot_minutes must be a whole number from 15 to 240 (got 10)" in error
    assert column(conn, mentor, "slot_minutes") == 60


def test_unconnected_mentor_connects(
    dashboards: DashboardSettings, mentor: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page(app(mentor), PAGE)
    assert "Not connected." in texts(at)
    # the test stack's services have no Google client: their refusal is shown
    at.button(key="gcal_connect").click().run()
    assert any("Google Calendar:" in e.value for e in at.error)
    calls: list[tuple[str, str]] = []

    def service(self: Api, method: str, path: str, body: Any = None) -> Any:
        calls.append((method, path))
        return {"url": "https://accounts.example/consent?state=x", "expires_at": NOW.isoformat()}

    monkeypatch.setattr(Api, "service", service)
    at.button(key="gcal_connect").click().run()
    assert calls == [("GET", "/oauth/google/start")]
    assert [b.proto.url for b in at.get("link_button")] == [
        "https://accounts.example/consent?state=x"
    ]


def _connected(scenario: Scenario, google: GoogleFake) -> uuid.UUID:
    google.reset()
    version, key = GOOGLE_TOKEN_KEY_1.split(":", 1)
    keys = TokenKeys({int(version): base64.b64decode(key)})
    mentor = scenario.mentor("America/New_York")
    extra = google_fake.calendar(f"team-{mentor.hex[:6]}@group.test", "Team", access_role="writer")
    connect_mentor(scenario, google, keys, mentor=mentor, calendars=[extra])
    return mentor


def test_connected_mentor_sees_the_sync_and_chooses_calendars(
    dashboards: DashboardSettings,
    scenario: Scenario,
    google: GoogleFake,
    clock: Clock,
    conn: psycopg.Connection,
) -> None:
    clock.freeze(NOW)
    mentor = _connected(scenario, google)
    at = open_page(app(mentor), PAGE)
    assert "Connected since" in texts(at)
    assert "has not been synced yet" in texts(at)
    conn.execute(
        "update private.calendar_sync_state set last_synced_at = %s where mentor_id = %s",
        (NOW - dt.timedelta(minutes=10), mentor),
    )
    at = open_page(app(mentor), PAGE)
    assert "In sync. Last synced: Mon 2 Nov 2026, 06:50 EST (America/New_York)." in texts(at)
    team = f"team-{mentor.hex[:6]}@group.test"
    at.multiselect(key="gcal_busy").set_value([f"{mentor.hex[:12]}@gmail.test", team])
    at.selectbox(key="gcal_events").set_value(team)
    at.button(key="gcal_choose").click().run()
    assert not at.error, [e.value for e in at.error]
    rows = conn.execute(
        "select calendar_id, counts_as_busy, receives_events from public.mentor_calendars"
        " where mentor_id = %s order by is_primary desc",
        (mentor,),
    ).fetchall()
    assert rows == [(f"{mentor.hex[:12]}@gmail.test", True, False), (team, True, True)]


def test_revoked_then_disconnected(
    dashboards: DashboardSettings,
    scenario: Scenario,
    google: GoogleFake,
    clock: Clock,
    conn: psycopg.Connection,
) -> None:
    clock.freeze(NOW)
    mentor = _connected(scenario, google)
    conn.execute(
        "update private.google_credentials set revoked_at = %s where mentor_id = %s", (NOW, mentor)
    )
    conn.execute(
        "update private.calendar_sync_state set grant_revoked = true where mentor_id = %s",
        (mentor,),
    )
    at = open_page(app(mentor), PAGE)
    assert any("Google stopped accepting the connection" in e.value for e in at.error)
    at.button(key="gcal_disconnect").click().run()
    assert conn.execute(
        "select count(*) from private.google_credentials where mentor_id = %s", (mentor,)
    ).fetchone() == (1,)
    at.button(key="gcal_disconnect_confirm").click().run()
    assert conn.execute(
        "select count(*) from private.google_credentials where mentor_id = %s", (mentor,)
    ).fetchone() == (0,)
    assert "Disconnected" in texts(at) and "Not connected." in texts(at)


def test_disconnect_through_the_services(
    dashboards: DashboardSettings,
    scenario: Scenario,
    google: GoogleFake,
    clock: Clock,
    conn: psycopg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.freeze(NOW)
    mentor = _connected(scenario, google)
    calls: list[tuple[str, str]] = []

    def service(self: Api, method: str, path: str, body: Any = None) -> Any:
        calls.append((method, path))
        self.rpc("disconnect_google")  # what the services do first, with the mentor's token
        return {"disconnected": True, "revoked_at_google": True}

    monkeypatch.setattr(Api, "service", service)
    at = open_page(app(mentor), PAGE)
    at.button(key="gcal_disconnect").click().run()
    at.button(key="gcal_disconnect_confirm").click().run()
    assert calls == [("POST", "/oauth/google/disconnect")]
    assert "Disconnected; the access is revoked at Google." in texts(at)
    assert conn.execute(
        "select count(*) from private.google_revocations where mentor_id = %s", (mentor,)
    ).fetchone() == (1,)
