"""Connecting a mentor's Google Calendar over real HTTP: the services (sync.app) against the
strict stateful fake of Google (testing.fakes.google) and the real test stack. The whole connect
stores the grant sealed and the calendars; bad, expired and replayed states, a non-mentor and a
code Google refuses are refused with nothing stored; choosing calendars, disconnecting (revoked
at Google), rotating the token keys. No token, code or client secret reaches an answer or a log
line, whatever the path (checked after every test)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as GoogleRequest

from mentorships import jwt
from mentorships.cli import cli
from mentorships.settings import Settings
from sync import rest
from sync.app import create_app
from sync.gcal import google as gcal
from sync.gcal.rotate import rotate
from sync.gcal.sealing import SealError, TokenKeys
from sync.settings import ServiceSettings
from testing.factories import Scenario
from testing.fakes import google as google_fake
from testing.fakes.google import GoogleFake
from testing.services import (
    GOOGLE_CLIENT_ID,
    GOOGLE_REDIRECT_URI,
    GOOGLE_TOKEN_KEY_1,
    GOOGLE_TOKEN_KEY_2,
    changed,
)


@pytest.fixture(autouse=True)
def no_secret_in_logs(
    caplog: pytest.LogCaptureFixture, google_api: GoogleFake
) -> Iterator[list[Any]]:
    """Every log record of the test, at DEBUG, and every answer the test keeps in the list this
    yields: none carries a code, token or the client secret the fake handed out."""
    caplog.set_level(logging.DEBUG)
    answers: list[Any] = []
    yield answers
    secrets = google_api.secrets_issued()
    assert len(secrets) >= 1
    # The test's own client (TestClient, http://testserver) logs the callback URL it sends: not
    # the services' (they run without an access log, sync/server.py).
    texts = [
        r.getMessage() + " " + repr(r.__dict__)
        for r in caplog.records
        if "http://testserver/" not in r.getMessage()
    ]
    texts += [a.text + repr(dict(a.headers)) for a in answers]
    for secret in secrets:
        for text in texts:
            assert secret not in text, "a secret reached a log line or an answer"


def _auth(settings: Settings, user: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.user_token(settings, user, f'{user}@gcal.test')}"}


def _refused(response: Any, status: int, details: str, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == (code or f"SV{status}")
    assert body["details"] == details
    return body


def _start(service: TestClient, settings: Settings, mentor: uuid.UUID) -> str:
    response = service.get("/oauth/google/start", headers=_auth(settings, mentor))
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["scope"].split() == list(gcal.SCOPES)
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert query["code_challenge_method"] == "S256"
    assert query["client_id"] == GOOGLE_CLIENT_ID
    assert query["redirect_uri"] == GOOGLE_REDIRECT_URI
    return url


def _state(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["state"]


def _unopenable(conn: psycopg.Connection, keys: TokenKeys) -> set[tuple[str, str]]:
    """The stored tokens (credentials by mentor, queued revocations by id) these keys cannot open."""
    found = set()
    for kind, key, ciphertext, version, mentor in conn.execute(
        "select 'credential', mentor_id::text, refresh_token_ciphertext, key_version, mentor_id"
        " from private.google_credentials union all"
        " select 'revocation', id::text, refresh_token_ciphertext, key_version, mentor_id"
        " from private.google_revocations"
    ):
        try:
            keys.open(bytes(ciphertext), version, mentor)
        except SealError:
            found.add((kind, key))
    return found


def _stored(conn: psycopg.Connection, mentor: uuid.UUID) -> tuple[Any, ...] | None:
    return conn.execute(
        "select refresh_token_ciphertext, key_version, scopes, calendar_id"
        " from private.google_credentials where mentor_id = %s",
        (mentor,),
    ).fetchone()


def _calendars(conn: psycopg.Connection, mentor: uuid.UUID) -> list[tuple[Any, ...]]:
    return conn.execute(
        "select calendar_id, counts_as_busy, receives_events from public.mentor_calendars"
        " where mentor_id = %s order by calendar_id",
        (mentor,),
    ).fetchall()


@pytest.fixture
def mentor(scenario: Scenario, google_api: GoogleFake) -> tuple[uuid.UUID, str]:
    """A mentor and their Google account: a primary calendar, a team calendar they write to and a
    holidays calendar they only read (listed two to a page)."""
    mentor = scenario.mentor()
    email = f"{mentor.hex[:10]}@gmail.test"
    google_api.add_account(
        email,
        [
            google_fake.calendar(email, "Me", primary=True),
            google_fake.calendar("team@group.calendar.google.com", "Team", access_role="writer"),
            google_fake.calendar("holidays@group.v.calendar.google.com", access_role="reader"),
        ],
    )
    google_api.page_size = 2
    return mentor, email


def _connect(
    service: TestClient, settings: Settings, google_api: GoogleFake, mentor: uuid.UUID, email: str
) -> tuple[str, str, Any]:
    url = _start(service, settings, mentor)
    code = google_api.consent(url, email)
    response = service.get("/oauth/google/callback", params={"code": code, "state": _state(url)})
    return url, code, response


# --- the whole connect ------------------------------------------------------------------------


def test_connect_stores_the_grant_sealed_and_the_calendars(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    service_settings: ServiceSettings,
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    _, _, response = _connect(service, settings, google_api, mentor_id, email)
    no_secret_in_logs.append(response)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mentor_id"] == str(mentor_id)
    assert body["scopes"] == list(gcal.SCOPES)
    assert body["calendars"][0]["calendar_id"] == email  # the primary first
    grant = google_api.grant_of(email)
    assert grant is not None and not grant.revoked
    stored = _stored(conn, mentor_id)
    assert stored is not None
    ciphertext, version, scopes, calendar_id = stored
    assert (version, scopes, calendar_id) == (1, list(gcal.SCOPES), email)
    assert grant.refresh_token.encode() not in bytes(ciphertext)
    keys = TokenKeys.from_settings(service_settings)
    assert keys.open(bytes(ciphertext), 1, mentor_id) == grant.refresh_token
    with pytest.raises(SealError):  # bound to its mentor
        keys.open(bytes(ciphertext), 1, uuid.uuid4())
    assert _calendars(conn, mentor_id) == [
        (email, True, True),
        ("holidays@group.v.calendar.google.com", False, False),
        ("team@group.calendar.google.com", False, False),
    ]


def test_the_stored_grant_refreshes_at_google_until_revoked(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    service_settings: ServiceSettings,
) -> None:
    """What the calendar sync will do: open the grant, refresh with google-auth, call Calendar v3."""
    mentor_id, email = mentor
    assert _connect(service, settings, google_api, mentor_id, email)[2].status_code == 200
    stored = _stored(conn, mentor_id)
    assert stored is not None
    token = TokenKeys.from_settings(service_settings).open(bytes(stored[0]), 1, mentor_id)
    creds = gcal.user_credentials(service_settings, token)
    creds.refresh(GoogleRequest())  # type: ignore[no-untyped-call]
    assert len(gcal.list_calendars(gcal.calendar_api(service_settings, creds))) == 3
    google_api.grant_of(email).revoked = True  # type: ignore[union-attr]
    with pytest.raises(RefreshError, match="invalid_grant"):
        creds.refresh(GoogleRequest())  # type: ignore[no-untyped-call]


# --- refusals: nothing stored -------------------------------------------------------------------


def test_a_tampered_state_is_refused_before_google_is_asked(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    url = _start(service, settings, mentor_id)
    code = google_api.consent(url, email)
    payload, signature = _state(url).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for state in (f"{payload}.{'A' * 43}", f"{forged}.{signature}", "x.y", ""):
        response = service.get("/oauth/google/callback", params={"code": code, "state": state})
        no_secret_in_logs.append(response)
        _refused(response, 400, "state")
    assert google_api.requests == []
    assert _stored(conn, mentor_id) is None and _calendars(conn, mentor_id) == []


def test_an_expired_state_is_refused(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    url = _start(service, settings, mentor_id)
    code = google_api.consent(url, email)
    service.app.state.services.google.states.clock = lambda: time.time() + 601  # type: ignore[attr-defined]
    response = service.get("/oauth/google/callback", params={"code": code, "state": _state(url)})
    no_secret_in_logs.append(response)
    body = _refused(response, 400, "state")
    assert body["message"].startswith("state: it expired at ")
    assert google_api.requests == []
    assert _stored(conn, mentor_id) is None


def test_a_replayed_state_is_refused(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    url, code, first = _connect(service, settings, google_api, mentor_id, email)
    assert first.status_code == 200, first.text
    before = _stored(conn, mentor_id)
    asked = len(google_api.requests)
    again = service.get("/oauth/google/callback", params={"code": code, "state": _state(url)})
    no_secret_in_logs.append(again)
    body = _refused(again, 400, "state", code="PT400")
    assert body["message"] == "state: it was already used, or was never issued to this mentor"
    assert len(google_api.requests) == asked  # Google is not asked again
    assert _stored(conn, mentor_id) == before
    assert len(google_api.grants) == 1


def test_a_non_mentor_cannot_start(
    service: TestClient, settings: Settings, scenario: Scenario, google_api: GoogleFake
) -> None:
    student = scenario.person("student")
    response = service.get("/oauth/google/start", headers=_auth(settings, student))
    body = _refused(response, 403, None, code="PT403")  # type: ignore[arg-type]
    assert body["message"] == "only mentors connect a Google Calendar"
    _refused(service.get("/oauth/google/start"), 401, "Authorization")


def test_google_refusing_the_code_stores_nothing(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    google_api.refuse_next_code()
    _, _, response = _connect(service, settings, google_api, mentor_id, email)
    no_secret_in_logs.append(response)
    body = _refused(response, 400, "code")
    assert body["message"] == 'Google refused the authorization code ("invalid_grant")'
    assert _stored(conn, mentor_id) is None and _calendars(conn, mentor_id) == []


def test_a_mentor_who_says_no_or_unticks_a_scope_is_told_so(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    url = _start(service, settings, mentor_id)
    no = service.get(
        "/oauth/google/callback", params={"error": "access_denied", "state": _state(url)}
    )
    assert _refused(no, 403, "error")["message"] == (
        'Google did not authorize the connection: "access_denied"'
    )
    url = _start(service, settings, mentor_id)
    code = google_api.consent(url, email, scopes=(gcal.SCOPES[1],))
    partial = service.get("/oauth/google/callback", params={"code": code, "state": _state(url)})
    no_secret_in_logs += [no, partial]
    body = _refused(partial, 403, "scope")
    assert body["message"] == f"Google granted the connection without {gcal.SCOPES[0]}"
    assert google_api.grant_of(email).revoked  # type: ignore[union-attr]  # not kept alive
    assert _stored(conn, mentor_id) is None


def test_on_missing_settings_the_endpoints_say_which(
    service_settings: ServiceSettings, settings: Settings, scenario: Scenario, stack: Any
) -> None:
    unset = changed(service_settings, google_token_keys=None, google_client_secret=None)
    with TestClient(create_app(unset)) as client:
        response = client.get("/oauth/google/start", headers=_auth(settings, scenario.mentor()))
    body = _refused(
        response, 503, "MENTORSHIPS_GOOGLE_CLIENT_SECRET, MENTORSHIPS_GOOGLE_TOKEN_KEYS"
    )
    assert "not set" in body["message"]


# --- choosing, disconnecting, rotating ----------------------------------------------------------


def test_a_mentor_chooses_among_their_own_calendars(
    service: TestClient,
    settings: Settings,
    scenario: Scenario,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
) -> None:
    mentor_id, email = mentor
    assert _connect(service, settings, google_api, mentor_id, email)[2].status_code == 200
    api = scenario.api(mentor_id)
    team, holidays = "team@group.calendar.google.com", "holidays@group.v.calendar.google.com"
    chosen = api.rpc(
        "choose_google_calendars", busy_calendar_ids=[email, holidays], events_calendar_id=team
    )
    assert chosen.status_code == 200, chosen.text
    assert _calendars(conn, mentor_id) == [
        (email, True, False),
        (holidays, True, False),
        (team, False, True),
    ]
    assert _stored(conn, mentor_id)[3] == team  # type: ignore[index]
    unknown = api.rpc(
        "choose_google_calendars", busy_calendar_ids=["nope@x"], events_calendar_id=team
    )
    assert _refused(unknown, 422, "busy_calendar_ids", code="PT422")["message"] == (
        'busy_calendar_ids: "nope@x" is not one of your calendars'
    )
    missing = api.rpc("choose_google_calendars", busy_calendar_ids=[])
    _refused(missing, 422, "events_calendar_id", code="PT422")
    # another mentor neither reads nor chooses them
    other = scenario.api(scenario.mentor())
    assert other.get("/mentor_calendars").json() == []
    theirs = other.rpc("choose_google_calendars", busy_calendar_ids=[], events_calendar_id=team)
    _refused(theirs, 409, None, code="PT409")  # type: ignore[arg-type]
    assert len(api.get("/mentor_calendars").json()) == 3


def test_disconnect_revokes_at_google_and_deletes_the_ciphertext(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
    no_secret_in_logs: list[Any],
) -> None:
    mentor_id, email = mentor
    assert _connect(service, settings, google_api, mentor_id, email)[2].status_code == 200
    response = service.post("/oauth/google/disconnect", headers=_auth(settings, mentor_id))
    no_secret_in_logs.append(response)
    assert response.status_code == 200, response.text
    assert response.json() == {"disconnected": True, "revoked_at_google": True}
    assert google_api.revocations == [email]
    assert _stored(conn, mentor_id) is None and _calendars(conn, mentor_id) == []
    row = conn.execute(
        "select count(*) from private.google_revocations where mentor_id = %s", (mentor_id,)
    ).fetchone()
    assert row == (0,)
    again = service.post("/oauth/google/disconnect", headers=_auth(settings, mentor_id))
    assert again.json() == {"disconnected": False, "revoked_at_google": True}


def test_reconnecting_revokes_the_grant_it_replaces(
    service: TestClient,
    settings: Settings,
    google_api: GoogleFake,
    mentor: tuple[uuid.UUID, str],
) -> None:
    mentor_id, email = mentor
    assert _connect(service, settings, google_api, mentor_id, email)[2].status_code == 200
    assert _connect(service, settings, google_api, mentor_id, email)[2].status_code == 200
    assert [g.revoked for g in google_api.grants] == [True, False]


def test_rotate_key_reseals_every_token_under_the_newest_key(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    google_api: GoogleFake,
    scenario: Scenario,
    service_settings: ServiceSettings,
) -> None:
    connected = []
    for n in range(3):
        mentor_id = scenario.mentor()
        email = f"rotate-{n}-{mentor_id.hex[:8]}@gmail.test"
        google_api.add_account(email)
        assert _connect(service, settings, google_api, mentor_id, email)[2].status_code == 200
        connected.append((mentor_id, google_api.grant_of(email).refresh_token))  # type: ignore[union-attr]
    rotated = changed(
        service_settings, google_token_keys=f"{GOOGLE_TOKEN_KEY_2},{GOOGLE_TOKEN_KEY_1}"
    )
    keys = TokenKeys.from_settings(rotated)
    # before the rotation: the old key still opens what it sealed
    for mentor_id, token in connected:
        stored = _stored(conn, mentor_id)
        assert stored is not None and stored[1] == 1
        assert keys.open(bytes(stored[0]), 1, mentor_id) == token

    async def run() -> dict[str, int]:
        async with rest.session() as http:
            return await rotate(keys, rest.Rest(rotated, http))

    # Other tests' tokens in this database sealed under other keys (the stack's own, say) cannot be
    # opened: the rotation counts them as failed and leaves them; every other one is resealed.
    foreign = _unopenable(conn, keys)
    first = asyncio.run(run())
    assert first["resealed"] >= 3 and first["failed"] == len(foreign)
    again = asyncio.run(run())  # idempotent
    assert again == {"resealed": 0, "skipped": 0, "failed": len(foreign)}
    only_new = TokenKeys.from_settings(changed(rotated, google_token_keys=GOOGLE_TOKEN_KEY_2))
    for mentor_id, token in connected:
        stored = _stored(conn, mentor_id)
        assert stored is not None and stored[1] == 2
        assert only_new.open(bytes(stored[0]), 2, mentor_id) == token
    left = conn.execute(
        "select 'credential', mentor_id::text from private.google_credentials where key_version <> 2"
        " union all select 'revocation', id::text from private.google_revocations where key_version <> 2"
    ).fetchall()
    assert {tuple(r) for r in left} == foreign


def test_rotate_key_answers_help() -> None:
    result = CliRunner().invoke(cli, ["gcal", "rotate-key", "--help"])
    assert result.exit_code == 0
    assert "Re-seal every stored Google refresh token under the newest key" in result.output
    assert "Idempotent" in result.output
