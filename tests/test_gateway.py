"""The gateway behaves like hosted Supabase's at /rest/v1/."""

from __future__ import annotations

import httpx
import jwt as pyjwt

from mentorships import jwt
from mentorships.settings import Settings
from testing.world import World, email


def test_a_request_without_apikey_is_refused(settings: Settings, world: World) -> None:
    r = httpx.get(f"{settings.rest_url}/mentors")
    assert r.status_code == 401
    assert r.json()["code"] == "GW401"
    assert r.json()["message"] == "No API key found in request"


def test_an_unknown_apikey_is_refused(settings: Settings, world: World) -> None:
    forged = pyjwt.encode(
        {"role": "service_role"}, "not-the-secret-but-long-enough-to-sign-with", "HS256"
    )
    r = httpx.get(f"{settings.rest_url}/mentors", headers={"apikey": forged})
    assert r.status_code == 401
    assert r.json()["code"] == "GW401"
    assert r.json()["message"] == "Invalid API key"


def test_a_token_signed_with_another_secret_is_refused(settings: Settings, world: World) -> None:
    forged = pyjwt.encode(
        {
            "sub": str(world["admin"]),
            "role": "authenticated",
            "aud": "authenticated",
            "exp": 4102444800,
        },
        "not-the-secret-but-long-enough-to-sign-with",
        "HS256",
    )
    r = httpx.get(
        f"{settings.rest_url}/orders",
        headers={"apikey": jwt.anon_key(settings), "Authorization": f"Bearer {forged}"},
    )
    assert r.status_code == 401
    assert r.json()["code"] == "PGRST301"


def test_an_expired_token_is_refused(settings: Settings, world: World) -> None:
    # PostgREST allows 30 s of clock skew, so expire it well before that.
    token = jwt.user_token(settings, world.uid("student_a"), email("student_a"), ttl_seconds=-120)
    r = httpx.get(
        f"{settings.rest_url}/session_packs",
        headers={"apikey": jwt.anon_key(settings), "Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 401
    assert r.json()["message"] == "JWT expired"


def test_the_apikey_is_the_bearer_when_no_authorization_is_sent(
    settings: Settings, world: World
) -> None:
    r = httpx.get(
        f"{settings.rest_url}/orders?select=id", headers={"apikey": jwt.service_role_key(settings)}
    )
    assert r.status_code == 200
    assert str(world["order_a"]) in {row["id"] for row in r.json()}


def test_the_apikey_url_parameter_is_accepted_and_not_passed_on(
    settings: Settings, world: World
) -> None:
    anon = jwt.anon_key(settings)
    expected = httpx.get(
        f"{settings.rest_url}/mentors?select=id&order=id", headers={"apikey": anon}
    ).json()
    assert len(expected) >= 2
    # PostgREST would refuse an apikey parameter left in the query as a filter on no column.
    for query, rows in (
        (f"select=id&order=id&apikey={anon}", expected),
        (f"apikey={anon}&select=id&order=id", expected),
        (f"select=id&apikey={anon}&order=id&limit=1", expected[:1]),
    ):
        r = httpx.get(f"{settings.rest_url}/mentors?{query}")
        assert r.status_code == 200, (query, r.text)
        assert r.json() == rows


def test_the_apikey_url_parameter_is_no_rpc_argument(settings: Settings, world: World) -> None:
    r = httpx.get(
        f"{settings.rest_url}/rpc/mentor_availability",
        params={
            "mentor_id": str(world["mentor_a"]),
            "from_at": "2031-03-04T00:00:00Z",
            "to_at": "2031-03-05T00:00:00Z",
            "apikey": jwt.anon_key(settings),
        },
    )
    assert r.status_code == 200, r.text


def test_the_apikey_url_parameter_is_the_bearer(settings: Settings, world: World) -> None:
    r = httpx.get(f"{settings.rest_url}/orders?select=id&apikey={jwt.service_role_key(settings)}")
    assert r.status_code == 200, r.text
    assert str(world["order_a"]) in {row["id"] for row in r.json()}


def test_the_apikey_header_wins_over_the_url_parameter(settings: Settings, world: World) -> None:
    anon = jwt.anon_key(settings)
    r = httpx.get(
        f"{settings.rest_url}/mentors?select=id&apikey=not-a-key", headers={"apikey": anon}
    )
    assert r.status_code == 200, r.text
    r = httpx.get(
        f"{settings.rest_url}/mentors?select=id&apikey={anon}", headers={"apikey": "nope"}
    )
    assert r.status_code == 401
    assert r.json()["message"] == "Invalid API key"


def test_an_empty_apikey_url_parameter_is_no_key(settings: Settings, world: World) -> None:
    r = httpx.get(f"{settings.rest_url}/mentors?select=id&apikey=")
    assert r.status_code == 401
    assert r.json()["message"] == "No API key found in request"


def test_cors_preflight_is_answered(settings: Settings) -> None:
    r = httpx.options(
        f"{settings.rest_url}/mentors",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "apikey" in r.headers["access-control-allow-headers"]


def test_openapi_documents_tables_with_their_comments(settings: Settings, world: World) -> None:
    r = httpx.get(f"{settings.rest_url}/", headers={"apikey": jwt.anon_key(settings)})
    assert r.status_code == 200
    spec = r.json()
    assert "/mentors" in spec["paths"]
    assert spec["definitions"]["mentors"]["properties"]["seat_capacity"]["description"].startswith(
        "Students the mentor takes at once"
    )
    # follow-privileges: anon is not shown what it cannot read
    assert "/orders" not in spec["paths"]
