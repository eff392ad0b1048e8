"""Sign-in with hosted Supabase Auth (supabase-py's auth client against a strict fake of GoTrue's
endpoints): an email one-time code, a password, a refused code or password shown as its message,
the session refreshed before its token expires (and a refused refresh signs the person out).
The fake's tokens are signed with the test stack's JWT secret, so the real gateway reads the
person's profile with them. Hosted, the page offers no local sign-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboards import auth
from dashboards.settings import DashboardSettings
from mentorships import jwt
from mentorships.settings import Settings
from testing.dashboards import app, environment, texts
from testing.factories import Scenario
from testing.fakes import supabase_auth as gotrue
from testing.fakes.http import StrictFake


@pytest.fixture(scope="module")
def auth_server() -> Iterator[StrictFake]:
    fake = StrictFake("supabase-auth")
    yield fake
    fake.close()


@pytest.fixture
def hosted(
    settings: Settings, stack: object, auth_server: StrictFake
) -> Iterator[DashboardSettings]:
    """The app as a hosted project runs it: no local sign-in, no JWT secret, Auth at the fake."""
    auth_server.reset()
    with environment(
        settings, local_sign_in=None, jwt_secret=None, auth_url=auth_server.url + "/auth/v1"
    ) as s:
        yield s
    auth_server.verify()


def secret(settings: Settings) -> str:
    return settings.jwt_secret.get_secret_value()


def test_email_code(
    hosted: DashboardSettings, auth_server: StrictFake, scenario: Scenario, settings: Settings
) -> None:
    student = scenario.person("student", "Asia/Tokyo")
    email = f"{student}@scenario.test"
    anon = jwt.anon_key(settings)
    gotrue.expect_code_sent(auth_server, anon, email)
    gotrue.expect_code_verified(
        auth_server, anon, email, "123456", gotrue.session(secret(settings), student, email)
    )
    at = app().run()
    assert not at.exception
    assert "Local sign-in" not in texts(at)
    at.text_input(key="otp_email").input(f"  {email} ").run()
    at.button(key="send_code").click().run()
    assert f"A code is on its way to {email}." in texts(at)
    at.text_input(key="otp_code").input("123456").run()
    at.button(key="verify_code").click().run()
    assert not at.exception
    signed = at.session_state["signed_in"]
    assert (signed.user_id, signed.role, signed.zone, signed.local) == (
        str(student),
        "student",
        "Asia/Tokyo",
        False,
    )


def test_a_refused_code_and_password_are_shown(
    hosted: DashboardSettings, auth_server: StrictFake, settings: Settings
) -> None:
    anon = jwt.anon_key(settings)
    gotrue.expect_code_sent(auth_server, anon, "sam@example.com")
    gotrue.expect_code_verified(
        auth_server,
        anon,
        "sam@example.com",
        "000000",
        gotrue.error("otp_expired", "Token has expired or is invalid"),
        status=403,
    )
    gotrue.expect_password(
        auth_server,
        anon,
        "sam@example.com",
        "wrong",
        gotrue.error("invalid_credentials", "Invalid login credentials"),
        status=400,
    )
    at = app().run()
    at.text_input(key="otp_email").input("sam@example.com").run()
    at.button(key="send_code").click().run()
    at.text_input(key="otp_code").input("000000").run()
    at.button(key="verify_code").click().run()
    assert [e.value for e in at.error] == ["code: Token has expired or is invalid"]
    at.text_input(key="pw_email").input("sam@example.com").run()
    at.text_input(key="pw_password").input("wrong").run()
    at.button(key="password_sign_in").click().run()
    assert [e.value for e in at.error] == ["password: Invalid login credentials"]
    assert "signed_in" not in at.session_state


def test_password_then_refresh_before_expiry(
    hosted: DashboardSettings, auth_server: StrictFake, scenario: Scenario, settings: Settings
) -> None:
    mentor = scenario.mentor("Europe/Berlin")
    email = f"{mentor}@scenario.test"
    anon = jwt.anon_key(settings)
    # A token with 60 s left: under the refresh margin (120 s), so the next run refreshes it.
    first = gotrue.session(secret(settings), mentor, email, ttl=60)
    second = gotrue.session(secret(settings), mentor, email, ttl=3600)
    gotrue.expect_password(auth_server, anon, email, "correct horse", first)
    gotrue.expect_refresh(auth_server, anon, first["refresh_token"], second)
    at = app().run()
    at.text_input(key="pw_email").input(email).run()
    at.text_input(key="pw_password").input("correct horse").run()
    at.button(key="password_sign_in").click().run()
    assert not at.exception
    signed = at.session_state["signed_in"]
    assert signed.role == "mentor" and signed.refresh_token == second["refresh_token"]
    assert signed.access_token == second["access_token"]


def test_a_refused_refresh_signs_out(
    hosted: DashboardSettings, auth_server: StrictFake, scenario: Scenario, settings: Settings
) -> None:
    student = scenario.person("student")
    email = f"{student}@scenario.test"
    expiring = gotrue.session(secret(settings), student, email, ttl=30)
    gotrue.expect_refresh(
        auth_server,
        jwt.anon_key(settings),
        expiring["refresh_token"],
        gotrue.error("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"),
        status=400,
    )
    at = app()
    at.session_state["signed_in"] = auth.SignedIn(
        str(student), email, expiring["access_token"], expiring["expires_at"],
        expiring["refresh_token"], local=False,
    )  # fmt: skip
    at.run()
    assert "signed_in" not in at.session_state
    assert (
        "your session ended (Invalid Refresh Token: Refresh Token Not Found); sign in again"
        in texts(at)
    )
    assert at.button(key="password_sign_in")


def test_the_secret_is_for_local_sign_in_only() -> None:
    with pytest.raises(ValueError, match="MENTORSHIPS_DASHBOARDS_JWT_SECRET is for a local stack"):
        DashboardSettings(
            supabase_url="https://abc.supabase.co",
            supabase_anon_key="anon",
            dashboards_jwt_secret="s" * 40,
            dashboards_local_sign_in=False,
        )
    with pytest.raises(ValueError, match="JWT_SECRET is required with"):
        DashboardSettings(
            supabase_url="https://abc.supabase.co",
            supabase_anon_key="anon",
            dashboards_local_sign_in=True,
            dashboards_jwt_secret=None,
        )
