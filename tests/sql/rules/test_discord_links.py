"""sql/rules/discord_links.sql over real PostgREST with real JWTs: discord_user_id is written only
by link_discord (service role, after Discord's OAuth2 flow) and cleared by its owner
(unlink_discord); a person PATCHing it is refused by the column grant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api
from testing.factories import Scenario


def account() -> str:
    """A Discord user id no other test links (profiles.discord_user_id is unique)."""
    return str(10**17 + uuid.uuid4().int % (9 * 10**17))


def _discord_id(conn: psycopg.Connection, user: uuid.UUID) -> str | None:
    row = conn.execute("select discord_user_id from public.profiles where id = %s", (user,))
    value = row.fetchone()
    assert value is not None
    return value[0]  # type: ignore[no-any-return]


@pytest.fixture
def service_api(settings: Settings) -> Iterator[Api]:
    key = jwt.service_role_key(settings)
    api = Api(settings, key, name="service", apikey=key)
    yield api
    api.http.close()


def test_a_person_cannot_write_their_discord_id(
    scenario: Scenario, conn: psycopg.Connection
) -> None:
    student = scenario.person("student", discord=True)
    before = _discord_id(conn, student)
    api = scenario.api(student)
    for value in (account(), None):
        response = api.request(
            "PATCH", f"/profiles?id=eq.{student}", json={"discord_user_id": value}
        )
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "42501"
        assert response.json()["message"] == "permission denied for table profiles"
    assert _discord_id(conn, student) == before
    # the columns still in the grant are writable
    renamed = api.request("PATCH", f"/profiles?id=eq.{student}", json={"display_name": "Sam"})
    assert renamed.status_code == 200, renamed.text


def test_the_service_role_links_and_the_form_is_still_checked(
    scenario: Scenario, conn: psycopg.Connection, service_api: Api
) -> None:
    student, other = scenario.person("student"), scenario.person("student")
    mine = account()
    linked = service_api.rpc("link_discord", user_id=student, discord_user_id=mine)
    assert linked.status_code == 200, linked.text
    assert linked.json()["discord_user_id"] == mine
    assert (_discord_id(conn, student), _discord_id(conn, other)) == (mine, None)
    again = service_api.rpc("link_discord", user_id=student, discord_user_id=mine)
    assert again.status_code == 200, again.text

    taken = service_api.rpc("link_discord", user_id=other, discord_user_id=mine)
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == "PT409"
    assert taken.json()["message"] == "this Discord account is linked to another profile"

    bad = service_api.rpc("link_discord", user_id=other, discord_user_id="abc")
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "PT422"
    assert bad.json()["details"] == "discord_user_id"
    assert bad.json()["message"] == 'discord_user_id: "abc" is not a Discord user id'

    nobody = service_api.rpc("link_discord", user_id=uuid.uuid4(), discord_user_id=account())
    assert nobody.status_code == 404, nobody.text
    assert nobody.json()["code"] == "PT404"
    missing = service_api.rpc("link_discord", user_id=other)
    assert (missing.status_code, missing.json()["details"]) == (422, "discord_user_id")
    assert _discord_id(conn, other) is None


def test_nobody_signed_in_may_call_link_discord(
    scenario: Scenario, conn: psycopg.Connection
) -> None:
    student = scenario.person("student")
    admin = scenario.person("admin")
    for who, status in ((None, 401), (student, 403), (admin, 403)):
        response = scenario.api(who).rpc("link_discord", user_id=student, discord_user_id=account())
        assert response.status_code == status, response.text
        assert response.json()["code"] == "42501"
        assert response.json()["message"] == "permission denied for function link_discord"
    assert _discord_id(conn, student) is None


def test_a_person_unlinks_their_own_account_only(
    scenario: Scenario, conn: psycopg.Connection
) -> None:
    student, other = (
        scenario.person("student", discord=True),
        scenario.person("student", discord=True),
    )
    others = _discord_id(conn, other)
    response = scenario.api(student).rpc("unlink_discord")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(student)
    assert response.json()["discord_user_id"] is None
    assert (_discord_id(conn, student), _discord_id(conn, other)) == (None, others)
    # again: nothing to unlink is no error
    assert scenario.api(student).rpc("unlink_discord").status_code == 200

    anon = scenario.api(None).rpc("unlink_discord")
    assert anon.status_code == 401, anon.text
    assert anon.json()["code"] == "42501"
