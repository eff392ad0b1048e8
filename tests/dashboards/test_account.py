"""My account (every role): name and time zone saved on the profile and the signed-in session
updated, a bad value's refusal shown, Discord unlinked (confirmed first) or its link refused on
the local stack's placeholder keys, and the message switches written."""

from __future__ import annotations

import psycopg
import pytest

from dashboards.api import Api
from dashboards.settings import DashboardSettings
from testing.dashboards import texts
from testing.dashboards_student import page
from testing.factories import Scenario


def profile(conn: psycopg.Connection, person: object) -> tuple[str, str, str | None]:
    row = conn.execute(
        "select display_name, time_zone, discord_user_id from public.profiles where id = %s",
        (person,),
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_name_and_zone_saved_and_the_session_follows(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection
) -> None:
    person = scenario.person("student", "Europe/Berlin")
    at = page(person, "account.py")
    assert at.selectbox(key="account_zone").value == "Europe/Berlin"
    at.text_input(key="account_name").set_value("Ada Painter")
    at.selectbox(key="account_zone").set_value("Asia/Tokyo")
    at.button(key="account_save").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == ["Saved your name and time zone."]
    assert profile(conn, person)[:2] == ("Ada Painter", "Asia/Tokyo")
    signed = at.session_state["signed_in"]
    assert (signed.name, signed.zone) == ("Ada Painter", "Asia/Tokyo")
    # The next page shows its times in the new zone.
    at.switch_page("views/student_messages.py").run()
    assert "Your times in Asia/Tokyo (JST)." in texts(at)


def test_a_bad_name_is_refused_with_its_message(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection
) -> None:
    person = scenario.person("mentor", "America/New_York")
    before = profile(conn, person)
    at = page(person, "account.py")
    at.text_input(key="account_name").set_value("x" * 101)
    at.button(key="account_save").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Not saved: display_name"), errors
    assert "100" in errors[0]
    assert profile(conn, person) == before
    assert at.session_state["signed_in"].zone == "America/New_York"


def test_unlink_discord_after_confirming(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection
) -> None:
    person = scenario.person("student", discord=True)
    linked = profile(conn, person)[2]
    assert linked
    at = page(person, "account.py")
    assert f"`{linked}`" in texts(at)
    at.button(key="discord_unlink").click().run()
    assert profile(conn, person)[2] == linked  # asked first, nothing changed yet
    at.button(key="discord_unlink_back").click().run()
    assert profile(conn, person)[2] == linked
    at.button(key="discord_unlink").click().run()
    at.button(key="discord_unlink_confirm").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == ["Discord unlinked."]
    assert profile(conn, person)[2] is None
    assert at.button(key="discord_link")


def test_link_discord_refused_on_placeholder_keys(
    dashboards: DashboardSettings, scenario: Scenario
) -> None:
    person = scenario.person("admin")
    at = page(person, "account.py")
    at.button(key="discord_link").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith("Discord cannot be linked now: "), errors
    assert "MENTORSHIPS_DISCORD_CLIENT_ID" in errors[0]
    assert not at.link_button


def test_message_switches(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection
) -> None:
    person = scenario.person("student")
    at = page(person, "account.py")
    box = at.checkbox(key="pref_session_reminder_1h_email")
    assert box.value is True
    box.uncheck()
    at.button(key="prefs_save").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == ["Saved your message settings."]
    rows = conn.execute(
        "select kind::text, channel::text, enabled from public.notification_preferences"
        " where user_id = %s",
        (person,),
    ).fetchall()
    assert rows == [("session_reminder_1h", "email", False)]
    assert at.checkbox(key="pref_session_reminder_1h_email").value is False
    # And back on: the same row, updated.
    at.checkbox(key="pref_session_reminder_1h_email").check()
    at.button(key="prefs_save").click().run()
    rows = conn.execute(
        "select enabled from public.notification_preferences where user_id = %s", (person,)
    ).fetchall()
    assert rows == [(True,)]


def test_link_discord_shows_discords_page(
    dashboards: DashboardSettings, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Discord's client keys set the services answer the authorize URL: the page links it
    (the services' answer stands in here)."""
    person = scenario.person("student")
    url = "https://discord.com/oauth2/authorize?response_type=code&state=s"

    def service(self: Api, method: str, path: str, body: object = None) -> object:
        assert (method, path) == ("GET", "/oauth/discord/start")
        return {"url": url, "expires_at": "2027-01-04T12:10:00+00:00"}

    monkeypatch.setattr(Api, "service", service)
    at = page(person, "account.py")
    at.button(key="discord_link").click().run()
    assert not at.exception, at.exception
    assert not at.error
    assert [(b.key, b.proto.url) for b in at.link_button] == [("discord_go", url)]
