"""POST /video/token: video_session_access as the caller (over the real test stack, the clock
frozen), then an Agora token read back offline (testing.agora) for its channel, uid, privileges
and expiry; the RPC's refusals come back unchanged."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mentorships import jwt
from mentorships.settings import Settings
from sync.agora.tokens import uid_for
from testing import agora
from testing.api import ok
from testing.booking import booked_world, ny
from testing.clock import Clock
from testing.factories import Scenario
from testing.services import AGORA_APP_CERTIFICATE, AGORA_APP_ID

# The session of `call` runs 09:00-10:00 New York time on 2026-11-03; its call is open from
# 08:50 to 10:15 (video_join_early_minutes, video_join_late_minutes).
OPENS = ny(3, 8, 50)
CLOSES = ny(3, 10, 15)


@pytest.fixture
def call(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A booked session and its two participants' Authorization headers."""
    world = booked_world(scenario, clock)
    session = ok(
        scenario.api(world["student"]).rpc(
            "book_session", pack_id=world["pack"], starts_at=ny(3, 9)
        )
    )
    return {**world, "session": session}


def _auth(settings: Settings, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.user_token(settings, user, f'{user}@video.test')}"}


def _ask(service: TestClient, settings: Settings, user: uuid.UUID, session_id: str) -> Any:
    return service.post(
        "/video/token", json={"session_id": session_id}, headers=_auth(settings, user)
    )


@pytest.mark.parametrize("who", ["student", "mentor"])
def test_a_participant_in_the_window_gets_a_token_that_expires_with_it(
    service: TestClient, settings: Settings, call: dict[str, Any], clock: Clock, who: str
) -> None:
    clock.freeze(OPENS)
    user = call[who]
    response = _ask(service, settings, user, call["session"]["id"])

    assert response.status_code == 200, response.text
    answer = response.json()
    channel = call["session"]["video_channel"]
    assert answer["app_id"] == AGORA_APP_ID
    assert answer["channel"] == channel
    assert answer["uid"] == uid_for(user)
    assert 1 <= answer["uid"] < 2**32
    assert answer["expires_at"] == "2026-11-03T15:15:00+00:00"
    assert dt.datetime.fromisoformat(answer["expires_at"]) == CLOSES

    token = agora.read(answer["token"])
    assert token.version == "006"
    assert token.app_id == AGORA_APP_ID
    assert token.names(channel, answer["uid"])
    closes = int(CLOSES.timestamp())
    assert token.privileges == dict.fromkeys(agora.PUBLISHER.values(), closes)
    assert agora.verifies(
        answer["token"], certificate=AGORA_APP_CERTIFICATE, channel=channel, uid=answer["uid"]
    )
    assert not agora.verifies(
        answer["token"], certificate="0" * 32, channel=channel, uid=answer["uid"]
    )
    assert not agora.verifies(
        answer["token"], certificate=AGORA_APP_CERTIFICATE, channel=channel, uid=answer["uid"] + 1
    )


def test_the_two_participants_join_as_two_uids_the_same_in_every_call(
    service: TestClient, settings: Settings, call: dict[str, Any], clock: Clock
) -> None:
    clock.freeze(OPENS + dt.timedelta(minutes=30))
    session_id = call["session"]["id"]
    student = _ask(service, settings, call["student"], session_id).json()
    mentor = _ask(service, settings, call["mentor"], session_id).json()
    assert student["uid"] != mentor["uid"]
    assert student["channel"] == mentor["channel"]
    assert _ask(service, settings, call["student"], session_id).json()["uid"] == student["uid"]


@pytest.mark.parametrize(
    ("who", "at", "status"),
    [
        ("stranger", OPENS, 403),
        ("student", OPENS - dt.timedelta(seconds=1), 409),
        ("mentor", CLOSES, 409),
    ],
)
def test_a_refusal_of_the_rpc_comes_back_unchanged(
    service: TestClient,
    settings: Settings,
    scenario: Scenario,
    call: dict[str, Any],
    clock: Clock,
    who: str,
    at: dt.datetime,
    status: int,
) -> None:
    user = scenario.person("student") if who == "stranger" else call[who]
    clock.freeze(at)
    session_id = call["session"]["id"]
    direct = scenario.api(user).rpc("video_session_access", session_id=session_id)
    assert direct.status_code == status, direct.text

    response = _ask(service, settings, user, session_id)

    assert response.status_code == status
    assert response.json() == direct.json()
    assert response.json()["code"] == f"PT{status}"


def test_an_unknown_session_is_the_rpc_404(
    service: TestClient, settings: Settings, call: dict[str, Any]
) -> None:
    response = _ask(service, settings, call["student"], str(uuid.uuid4()))
    assert response.status_code == 404
    assert response.json()["code"] == "PT404"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer  "}],
)
def test_without_a_bearer_token_it_is_a_401(
    service: TestClient, call: dict[str, Any], headers: dict[str, str]
) -> None:
    response = service.post(
        "/video/token", json={"session_id": call["session"]["id"]}, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "SV401"
    assert response.json()["details"] == "Authorization"


def test_a_token_postgrest_refuses_is_its_401(service: TestClient, call: dict[str, Any]) -> None:
    response = service.post(
        "/video/token",
        json={"session_id": call["session"]["id"]},
        headers={"Authorization": "Bearer not.a.jwt"},
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"].startswith("PGRST")


@pytest.mark.parametrize(
    ("body", "field", "got"),
    [
        ({}, "session_id", "nothing (the key is missing)"),
        ({"session_id": "nope"}, "session_id", 'a string of 4 characters ("nope")'),
        ({"session_id": 7}, "session_id", "the number 7"),
        ({"session_id": str(uuid.uuid4()), "role": "mentor"}, "role", "unknown key"),
        ([], "body", "an empty list"),
    ],
)
def test_a_body_without_a_session_id_is_a_422_naming_the_field(
    service: TestClient,
    settings: Settings,
    call: dict[str, Any],
    body: Any,
    field: str,
    got: str,
) -> None:
    response = service.post("/video/token", json=body, headers=_auth(settings, call["student"]))
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "SV422"
    assert error["details"] == field
    assert got in error["message"]


def test_text_that_is_not_json_is_a_422(
    service: TestClient, settings: Settings, call: dict[str, Any]
) -> None:
    response = service.post(
        "/video/token",
        content=b'{"session_id": ',
        headers={**_auth(settings, call["student"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["details"] == "body"


def test_uids_are_stable_uint32s_never_0() -> None:
    ids = [uuid.uuid4() for _ in range(2000)]
    uids = [uid_for(i) for i in ids]
    assert all(1 <= u <= 2**32 - 1 for u in uids)
    assert uids == [uid_for(i) for i in ids]
    assert len(set(uids)) == len(ids)
