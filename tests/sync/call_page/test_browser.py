"""The call page in headless Chromium against the services (served over real HTTP, talking to
the real test stack): it takes the JWT from the fragment, asks POST /video/token with it, and
calls the real SDK's join with exactly what the services minted; a refusal is shown as text and
nothing is joined. Agora's servers are out of reach: the client's join, publish and leave are
recorded instead (testing.browser.AGORA_RECORDER)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from sync.agora.tokens import uid_for
from testing import agora
from testing.booking import ny
from testing.browser import recorded
from testing.clock import Clock
from testing.factories import Scenario
from testing.services import AGORA_APP_CERTIFICATE, AGORA_APP_ID

# The session of `call` (conftest) runs 09:00-10:00 New York time on 2026-11-03: its call is open
# from 08:50 to 10:15 (15:15 UTC, 16:15 in Berlin, where the tests' browser is).
OPENS = ny(3, 8, 50)
CLOSES = ny(3, 10, 15)
SCREENSHOT = "/tmp/mentorships-call-page.png"


def _token(settings: Settings, user: uuid.UUID) -> str:
    return jwt.user_token(settings, user, f"{user}@call.test")


def _tab(context: BrowserContext, at: dt.datetime) -> tuple[Page, list[str]]:
    """A tab whose clock reads `at` (the database's frozen instant), and its script errors."""
    page = context.new_page()
    page.clock.set_fixed_time(at)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def _open(context: BrowserContext, url: str, at: dt.datetime) -> tuple[Page, list[str]]:
    page, errors = _tab(context, at)
    page.goto(url)
    return page, errors


def test_the_page_joins_with_exactly_what_the_services_minted(
    served: str, context: BrowserContext, settings: Settings, call: dict[str, Any], clock: Clock
) -> None:
    clock.freeze(OPENS)
    token = _token(settings, call["student"])
    page, errors = _tab(context, OPENS)
    with page.expect_response(f"{served}/video/token") as answered:
        page.goto(f"{served}/video/{call['session']}#access_token={token}")
    response = answered.value
    request = response.request
    assert request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {token}"
    assert json.loads(request.post_data or "") == {"session_id": call["session"]}
    assert response.status == 200
    minted = response.json()

    expect(page.locator("#status")).to_have_text("In the call")
    expect(page.locator("#access")).to_have_text("Access until 16:15 Europe/Berlin")
    seen = recorded(page)
    assert seen["joins"] == [[minted["app_id"], minted["channel"], minted["token"], minted["uid"]]]
    assert minted["app_id"] == AGORA_APP_ID
    assert minted["channel"] == call["channel"]
    assert minted["uid"] == uid_for(call["student"])
    assert agora.verifies(
        minted["token"],
        certificate=AGORA_APP_CERTIFICATE,
        channel=call["channel"],
        uid=minted["uid"],
    )
    # Fake camera and microphone: both published, the camera shown in the local tile.
    expect(page.locator("#mute")).to_be_enabled()
    assert recorded(page)["published"] == [["audio", "video"]]
    expect(page.locator("#local-video video")).to_have_count(1)
    # The token left the address bar (its history entry replaced) for this tab's sessionStorage.
    assert page.url == f"{served}/video/{call['session']}"
    assert page.evaluate("sessionStorage.getItem('mentorships.access_token')") == token
    assert seen["csp"] == [] and errors == []
    page.screenshot(path=SCREENSHOT, full_page=True)

    # The SDK warns 30 s before the token expires: the page says when the call ends.
    page.evaluate("window.__agora.handlers['token-privilege-will-expire']()")
    expect(page.locator("#access")).to_have_text("The call ends at 16:15 Europe/Berlin.")

    page.locator("#mute").click()
    expect(page.locator("#mute")).to_have_text("Unmute")
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
    page.locator("#camera").click()
    expect(page.locator("#camera")).to_have_text("Camera on")
    page.locator("#leave").click()
    expect(page.locator("#status")).to_have_text("You left the call.")
    assert recorded(page)["left"] == 1
    expect(page.locator("#leave")).to_be_disabled()

    # A reload joins again with the token this tab kept (and a freshly minted Agora token).
    with page.expect_response(f"{served}/video/token") as again:
        page.reload()
    assert again.value.request.headers["authorization"] == f"Bearer {token}"
    expect(page.locator("#status")).to_have_text("In the call")
    minted = again.value.json()
    assert recorded(page)["joins"] == [
        [AGORA_APP_ID, call["channel"], minted["token"], uid_for(call["student"])]
    ]
    assert recorded(page)["csp"] == [] and errors == []
    # Back goes to where the tab was before (nothing), never to the URL with the token.
    page.go_back()
    assert page.url == "about:blank"


def _refusal(scenario: Scenario, user: uuid.UUID, session: str) -> dict[str, Any]:
    """The RPC's own refusal, asked straight from the gateway."""
    direct = scenario.api(user).rpc("video_session_access", session_id=session)
    assert direct.status_code >= 400, direct.text
    body: dict[str, Any] = direct.json()
    return body


def test_a_stranger_is_shown_the_rpcs_refusal_and_nothing_is_joined(
    served: str,
    context: BrowserContext,
    settings: Settings,
    scenario: Scenario,
    call: dict[str, Any],
    clock: Clock,
) -> None:
    clock.freeze(OPENS)
    stranger = scenario.person("student")
    refusal = _refusal(scenario, stranger, call["session"])
    assert refusal["code"] == "PT403"
    url = f"{served}/video/{call['session']}#access_token={_token(settings, stranger)}"
    page, errors = _open(context, url, OPENS)

    message = refusal["message"]  # shown as a sentence
    expect(page.locator("#status")).to_have_text(message[0].upper() + message[1:])
    expect(page.locator("#status")).to_have_attribute("data-kind", "refused")
    expect(page.locator("#hint")).to_have_text(refusal["hint"] or "")
    assert recorded(page)["joins"] == []
    expect(page.locator("#leave")).to_be_disabled()
    expect(page.locator(".tiles")).to_be_hidden()
    assert errors == []


def test_before_the_window_opens_the_participant_is_told_when(
    served: str,
    context: BrowserContext,
    settings: Settings,
    scenario: Scenario,
    call: dict[str, Any],
    clock: Clock,
) -> None:
    early = OPENS - dt.timedelta(seconds=1)
    clock.freeze(early)
    refusal = _refusal(scenario, call["mentor"], call["session"])
    assert refusal["code"] == "PT409"
    assert refusal["message"] == "the call opens at 2026-11-03 13:50:00+00"
    url = f"{served}/video/{call['session']}#access_token={_token(settings, call['mentor'])}"
    page, errors = _open(context, url, early)

    # The RPC's message, its instant in the viewer's zone (08:50 in New York is 14:50 in Berlin).
    expect(page.locator("#status")).to_have_text("The call opens at 14:50 Europe/Berlin")
    expect(page.locator("#hint")).to_have_text(refusal["hint"] or "")
    assert recorded(page)["joins"] == []
    assert errors == []


def test_a_refusal_is_shown_as_text_never_as_html(
    served: str, context: BrowserContext, settings: Settings, call: dict[str, Any], clock: Clock
) -> None:
    """The services never answer markup, but the page must not trust them to: the token call is
    answered here with a refusal full of it."""
    hostile = '<img src=x onerror="window.__pwned=1">'
    message, hint = f"Bad {hostile}", f"<b>{hostile}</b>"
    body = {"code": "PT422", "message": message, "details": None, "hint": hint}
    context.route(
        f"{served}/video/token",
        lambda route: route.fulfill(status=422, json=body),
    )
    url = f"{served}/video/{call['session']}#access_token={_token(settings, call['student'])}"
    page, errors = _open(context, url, OPENS)

    expect(page.locator("#status")).to_have_text(message)
    expect(page.locator("#hint")).to_have_text(hint)
    assert page.locator("main img, main b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert recorded(page)["joins"] == []
    assert errors == []


def test_without_a_token_the_page_says_how_to_open_it_and_asks_nothing(
    served: str, context: BrowserContext, call: dict[str, Any]
) -> None:
    asked: list[str] = []
    context.on("request", lambda request: asked.append(request.url))
    page, errors = _open(context, f"{served}/video/{call['session']}", CLOSES)

    expect(page.locator("#status")).to_have_text("Sign in to join this call.")
    expect(page.locator("#hint")).to_contain_text("dashboard")
    assert not [url for url in asked if url.endswith("/video/token")]
    assert recorded(page)["joins"] == []
    assert errors == []


def test_a_sign_in_error_from_supabase_is_shown_and_leaves_the_address_bar(
    served: str, context: BrowserContext, call: dict[str, Any]
) -> None:
    fragment = "error=access_denied&error_code=otp_expired&error_description=Email+link+is+invalid+or+has+expired"
    page, errors = _open(context, f"{served}/video/{call['session']}#{fragment}", CLOSES)

    expect(page.locator("#status")).to_have_text(
        "Sign-in failed: Email link is invalid or has expired"
    )
    assert page.url == f"{served}/video/{call['session']}"
    assert errors == []


def test_a_token_the_api_refuses_is_forgotten(
    served: str, context: BrowserContext, call: dict[str, Any]
) -> None:
    page, errors = _open(context, f"{served}/video/{call['session']}#access_token=not.a.jwt", OPENS)

    expect(page.locator("#status")).to_have_text(
        "Your sign-in is not valid any more (it may have expired)."
    )
    assert page.evaluate("sessionStorage.getItem('mentorships.access_token')") is None
    assert recorded(page)["joins"] == []
    assert errors == []


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`mentorships ...` on the test stack."""
    env = {
        **os.environ,
        "MENTORSHIPS_STACK": settings.stack,
        "MENTORSHIPS_GATEWAY_PORT": str(settings.gateway_port),
        "MENTORSHIPS_DB_PORT": str(settings.db_port),
        "MENTORSHIPS_POSTGREST_PORT": str(settings.postgrest_port),
        "MENTORSHIPS_POSTGREST_ADMIN_PORT": str(settings.postgrest_admin_port),
        "MENTORSHIPS_SERVICES_PORT": str(settings.services_port),
    }
    return subprocess.run(
        [sys.executable, "-m", "mentorships.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_token_call_prints_a_url_that_joins_on_the_stacks_own_services(
    context: BrowserContext, settings: Settings, stack: Stack, call: dict[str, Any], clock: Clock
) -> None:
    clock.freeze(OPENS)
    stack.services.start()  # a no-op when running, as the stack fixture left it
    email = f"{call['mentor']}@scenario.test"
    out = _cli(settings, "token", email, "--call", "next")
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    base, _, token = url.partition("#access_token=")
    assert base == f"{settings.services_url}/video/{call['session']}"
    assert jwt.decode(settings, token)["sub"] == str(call["mentor"])
    assert _cli(settings, "token", email, "--call", call["session"]).stdout.startswith(base)

    page, errors = _open(context, url, OPENS)
    expect(page.locator("#status")).to_have_text("In the call")
    app_id = stack.services.effective_settings().agora_app_id
    [joined] = recorded(page)["joins"]
    assert joined[:2] == [app_id, call["channel"]]
    assert joined[3] == uid_for(call["mentor"])
    assert errors == []


def test_token_call_next_without_a_session_ahead_says_so(
    settings: Settings, scenario: Scenario, call: dict[str, Any], clock: Clock
) -> None:
    clock.freeze(CLOSES + dt.timedelta(hours=1))
    out = _cli(settings, "token", f"{call['student']}@scenario.test", "--call", "next")
    assert out.returncode == 1
    assert "has no scheduled session ahead" in out.stderr
    bad = _cli(settings, "token", f"{call['student']}@scenario.test", "--call", "tomorrow")
    assert bad.returncode == 2
    assert "expected a session id (a UUID) or `next`" in bad.stderr
