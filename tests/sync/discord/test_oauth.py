"""GET /oauth/discord/start and /oauth/discord/callback against a strict fake of Discord's OAuth2
endpoints (testing.fakes.discord) and the real test stack: the whole flow links the account
Discord names to the person who started, and nobody else; every bad state, a refused code and a
missing code are refused in the error shape with nothing stored and nothing asked of Discord."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt as pyjwt
import psycopg
import pytest
from fastapi.testclient import TestClient

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from sync.app import create_app
from sync.discord.oauth import discord_states
from sync.oauth_state import StateSigner
from sync.placeholders import new_placeholder
from sync.settings import ServiceSettings
from testing.factories import Scenario
from testing.fakes import discord as discord_fake
from testing.fakes.http import StrictFake
from testing.services import (
    DISCORD_CLIENT_ID,
    DISCORD_CLIENT_SECRET,
    DISCORD_REDIRECT_URI,
    DISCORD_STATE_SECRET,
    changed,
)


def _account() -> str:
    """The Discord account the person signs in with at Discord, linked nowhere yet
    (profiles.discord_user_id is unique)."""
    return str(10**17 + uuid.uuid4().int % (9 * 10**17))


def _auth(settings: Settings, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.user_token(settings, user, f'{user}@discord.test')}"}


def _discord_ids(conn: psycopg.Connection, *users: uuid.UUID) -> list[str | None]:
    return [
        conn.execute("select discord_user_id from public.profiles where id = %s", (u,)).fetchone()[
            0
        ]  # type: ignore[index]
        for u in users
    ]


def _start(service: TestClient, settings: Settings, user: uuid.UUID) -> dict[str, str]:
    """The authorize URL's query, checked field by field against what Discord requires."""
    response = service.get("/oauth/discord/start", headers=_auth(settings, user))
    assert response.status_code == 200, response.text
    url = urlsplit(response.json()["url"])
    assert f"{url.scheme}://{url.netloc}" == service.app.state.services.settings.discord_api_base  # type: ignore[attr-defined]
    assert url.path == discord_fake.AUTHORIZE_PATH
    pairs = parse_qsl(url.query, keep_blank_values=True)
    query = dict(pairs)
    assert len(query) == len(pairs), "a repeated field"
    assert set(query) == {
        "response_type",
        "client_id",
        "scope",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
    }
    assert query["response_type"] == "code"
    assert query["client_id"] == DISCORD_CLIENT_ID
    assert query["scope"] == "identify"
    assert query["redirect_uri"] == DISCORD_REDIRECT_URI
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256, no padding
    expires = response.json()["expires_at"]
    left = dt.datetime.fromisoformat(expires).timestamp() - time.time()
    assert 590 < left <= 600
    return query


def _expect_exchange(
    discord: StrictFake, query: dict[str, str], code: str, *, status: int = 200
) -> str:
    access = discord_fake.access_token()
    discord.expect(
        "POST",
        discord_fake.TOKEN_PATH,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        form=discord_fake.token_form(
            discord,
            code=code,
            challenge=query["code_challenge"],
            client_id=DISCORD_CLIENT_ID,
            secret=DISCORD_CLIENT_SECRET,
            redirect_uri=DISCORD_REDIRECT_URI,
        ),
        status=status,
        response=discord_fake.token(access) if status == 200 else discord_fake.invalid_grant(),
    )
    return access


def _refused(response: Any, status: int, details: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == f"SV{status}"
    assert body["details"] == details
    return body


# --- the whole flow -------------------------------------------------------------------------------


def test_the_flow_links_the_account_discord_names_to_the_person_who_started(
    service: TestClient,
    settings: Settings,
    scenario: Scenario,
    conn: psycopg.Connection,
    discord_api: StrictFake,
) -> None:
    student = scenario.person("student")
    bystander = scenario.person("student", discord=True)
    bystanders_id = _discord_ids(conn, bystander)[0]
    query = _start(service, settings, student)
    account = _account()

    access = _expect_exchange(discord_api, query, "code-from-discord-1")
    discord_api.expect(
        "GET",
        discord_fake.ME_PATH,
        headers={"Authorization": f"Bearer {access}"},
        response=discord_fake.user(account),
    )
    response = service.get(
        "/oauth/discord/callback", params={"code": "code-from-discord-1", "state": query["state"]}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "user_id": str(student),
        "discord_user_id": account,
        "discord_username": "sam.paints",
    }
    assert _discord_ids(conn, student, bystander) == [account, bystanders_id]
    discord_api.verify()  # the verifier matched the challenge, every field as Discord wants it


def test_an_account_linked_to_another_profile_is_refused_by_the_rule(
    service: TestClient,
    settings: Settings,
    scenario: Scenario,
    conn: psycopg.Connection,
    discord_api: StrictFake,
) -> None:
    """link_discord's 409 comes back unchanged; the account stays where it was."""
    holder = scenario.person("student", discord=True)
    held = _discord_ids(conn, holder)[0]
    assert held is not None
    student = scenario.person("student")
    query = _start(service, settings, student)
    access = _expect_exchange(discord_api, query, "code-2")
    discord_api.expect(
        "GET",
        discord_fake.ME_PATH,
        headers={"Authorization": f"Bearer {access}"},
        response=discord_fake.user(held),
    )
    response = service.get(
        "/oauth/discord/callback", params={"code": "code-2", "state": query["state"]}
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "PT409"
    assert _discord_ids(conn, holder, student) == [held, None]


def test_each_start_has_its_own_state_and_challenge(
    service: TestClient, settings: Settings, scenario: Scenario
) -> None:
    student = scenario.person("student")
    first, second = _start(service, settings, student), _start(service, settings, student)
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    # the state names the person and carries no verifier: only its challenge is public
    payload = json.loads(base64.urlsafe_b64decode(first["state"].split(".")[0] + "=="))
    assert set(payload) == {"sub", "exp", "nonce"}
    assert payload["sub"] == str(student)


# --- refusals: nothing stored, nothing asked of Discord (the fake expects no call) ---------------


@pytest.fixture
def started(
    service: TestClient, settings: Settings, scenario: Scenario, conn: psycopg.Connection
) -> Iterator[tuple[uuid.UUID, uuid.UUID, dict[str, str]]]:
    """A student who started (their authorize query) and another student; afterwards neither has
    a Discord id."""
    student, other = scenario.person("student"), scenario.person("student")
    yield student, other, _start(service, settings, student)
    assert _discord_ids(conn, student, other) == [None, None]


def _callback(service: TestClient, **params: str) -> Any:
    return service.get("/oauth/discord/callback", params=params)


def test_a_tampered_signature_is_refused(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    payload, signature = started[2]["state"].split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    body = _refused(_callback(service, code="c", state=f"{payload}.{flipped}"), 400, "state")
    assert body["message"] == ("state: its signature does not match (not issued by these services)")
    assert body["hint"] == "Start again at GET /oauth/discord/start."


def test_a_state_rewritten_for_another_user_is_refused(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    """The state's user swapped for another's (the signature kept): their account is not linked
    to the one who started, nor the other way round."""
    _, other, query = started
    payload, signature = query["state"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(other)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    body = _refused(_callback(service, code="c", state=f"{forged}.{signature}"), 400, "state")
    assert "signature does not match" in body["message"]


def test_a_state_signed_with_another_secret_is_refused(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    state, _, _ = discord_states("another-deployment-secret-0123456789abcdef").issue(started[1])
    body = _refused(_callback(service, code="c", state=state), 400, "state")
    assert "signature does not match" in body["message"]


@pytest.mark.parametrize("state", ["", "not-a-state", "a.b", "x" * 5000])
def test_a_malformed_or_missing_state_is_refused(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
    state: str,
) -> None:
    params = {"code": "c", "state": state} if state else {"code": "c"}
    body = _refused(service.get("/oauth/discord/callback", params=params), 400, "state")
    assert body["message"].startswith("state: it is")


def test_an_expired_state_is_refused(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    """The services' own state, checked 10 minutes and 1 second later (their signer's clock moved
    on, as a frozen clock would be)."""
    signer: StateSigner = service.app.state.services.discord.states  # type: ignore[attr-defined]
    signer.clock = lambda: time.time() + 601
    body = _refused(_callback(service, code="c", state=started[2]["state"]), 400, "state")
    assert body["message"].startswith("state: it expired at ")


def test_discord_refusing_the_code_is_refused_and_stores_nothing(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    _expect_exchange(discord_api, started[2], "used-code", status=400)
    body = _refused(_callback(service, code="used-code", state=started[2]["state"]), 400, "code")
    assert body["message"] == 'Discord refused the authorization code ("invalid_grant")'
    # no GET /users/@me: the fake fails the test on any call it was not told of


def test_a_missing_code_is_refused(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    body = _refused(_callback(service, state=started[2]["state"]), 400, "code")
    assert body["message"] == "code is missing (Discord sends it back with the state)"


def test_a_person_who_says_no_at_discord_is_told_so(
    service: TestClient,
    started: tuple[uuid.UUID, uuid.UUID, dict[str, str]],
    discord_api: StrictFake,
) -> None:
    response = _callback(service, error="access_denied", state=started[2]["state"])
    body = _refused(response, 403, "error")
    assert body["message"] == 'Discord did not authorize the link: "access_denied"'


# --- who may start ---------------------------------------------------------------------------------


def test_start_needs_a_signed_in_person(
    service: TestClient, settings: Settings, discord_api: StrictFake
) -> None:
    response = service.get("/oauth/discord/start")
    _refused(response, 401, "Authorization")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    # the anon key names nobody
    anon = service.get(
        "/oauth/discord/start", headers={"Authorization": f"Bearer {jwt.anon_key(settings)}"}
    )
    assert anon.status_code == 401


def test_start_with_a_forged_token_is_refused_by_the_database_api(
    service: TestClient, scenario: Scenario, discord_api: StrictFake
) -> None:
    """A token naming a real person but not signed with the project's secret: PostgREST's 401."""
    student = scenario.person("student")
    claims = {"sub": str(student), "role": "authenticated", "aud": "authenticated"}
    forged = pyjwt.encode({**claims, "exp": int(time.time()) + 600}, "x" * 40, algorithm="HS256")
    response = service.get("/oauth/discord/start", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401, response.text
    assert response.json()["code"].startswith("PGRST")


def test_on_placeholder_keys_start_says_which_variables_to_set(
    service_settings: ServiceSettings,
    stack: Stack,
    settings: Settings,
    scenario: Scenario,
    discord_api: StrictFake,
) -> None:
    local = changed(
        service_settings,
        discord_client_id=new_placeholder("discord_client_id"),
        discord_client_secret=new_placeholder("discord_client_secret"),
    )
    with TestClient(create_app(local)) as client:
        response = client.get("/oauth/discord/start", headers=_auth(settings, scenario.person()))
    variables = "MENTORSHIPS_DISCORD_CLIENT_ID and MENTORSHIPS_DISCORD_CLIENT_SECRET"
    body = _refused(response, 503, variables)
    assert variables in body["message"]


# --- the state on its own -------------------------------------------------------------------------


def test_a_state_lives_ten_minutes_to_the_second() -> None:
    now = 1_800_000_000.0
    signer = discord_states(DISCORD_STATE_SECRET, clock=lambda: now)
    user = uuid.uuid4()
    state, verifier, expires_at = signer.issue(user)
    assert expires_at.timestamp() == now + 600
    assert signer.check(state) == (user, verifier)
    signer.clock = lambda: now + 599
    assert signer.check(state) == (user, verifier)
    signer.clock = lambda: now + 600
    with pytest.raises(Exception, match="expired"):
        signer.check(state)
    assert discord_fake.VERIFIER.fullmatch(verifier)
    assert verifier not in state
