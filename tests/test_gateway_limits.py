"""The gateway's rate limits per route class: on a gateway of the tests' own with tight limits, in
front of the test stack's PostgREST and services; every client from a loopback address of its
own (127.0.0.x), so no test meets another's counts."""

from __future__ import annotations

import http
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Gateway, Stack
from mentorships.stack.gateway_limits import CLASS_NAMES
from testing.gateways import access_log_lines, client_from, own_gateway

# Per user; per address twice that (ADDRESS_FACTOR).
TIGHT = "2r/s 3"
ADDRESS_FACTOR = 2
MARKER = "zq7marker"
# A server of the platform's own (the dashboards, the services), trusted by the gateway.
PLATFORM_SERVER = "127.0.2.9"


@pytest.fixture(scope="module")
def tight(settings: Settings, stack: Stack) -> Iterator[Gateway]:
    limits = {f"rate_limit_{c}": TIGHT for c in CLASS_NAMES}
    with own_gateway(
        settings,
        "gw-limits",
        45,
        rate_limit_enabled=True,
        rate_limit_address_factor=ADDRESS_FACTOR,
        gateway_trusted_addresses=PLATFORM_SERVER,
        **{**limits, "rate_limit_checkout": "30r/m 2", "rate_limit_webhook": "off"},
    ) as gw:
        yield gw


def token(settings: Settings) -> str:
    """A signed-in user of their own (no such row needed: the limits read only the `sub`)."""
    return jwt.user_token(settings, uuid.uuid4(), None)


def headers(settings: Settings, user: str | None) -> dict[str, str]:
    h = {"apikey": jwt.anon_key(settings), "Content-Type": "application/json"}
    if user is not None:
        h["Authorization"] = f"Bearer {user}"
    return h


# One request of each class: method, path (the query carries a marker no header may show).
REQUESTS: dict[str, tuple[str, str]] = {
    "catalog": ("GET", f"/rest/v1/mentors?select=id&slug=neq.{MARKER}"),
    "availability": (
        "GET",
        f"/rest/v1/rpc/mentor_availability?mentor_id={uuid.UUID(int=1)}"
        "&from_at=2031-03-04T00:00:00Z&to_at=2031-03-05T00:00:00Z",
    ),
    "booking": ("POST", f"/rest/v1/rpc/book_session?{MARKER}=1"),
    "checkout": ("POST", f"/rest/v1/rpc/create_order?{MARKER}=1"),
    "admin": ("POST", f"/rest/v1/rpc/retry_message?{MARKER}=1"),
    "errors": ("POST", f"/services/errors?{MARKER}=1"),
    "default": ("GET", f"/rest/v1/session_packs?select=id&{MARKER}=1"),
}


def send(client: httpx.Client, gw: Gateway, route_class: str, h: dict[str, str]) -> httpx.Response:
    method, path = REQUESTS[route_class]
    return client.request(method, f"{gw.address}{path}", headers=h, content=b"{}")


def until_refused(
    client: httpx.Client, gw: Gateway, route_class: str, h: dict[str, str], most: int = 40
) -> tuple[int, httpx.Response]:
    """Sends the class's request until one is refused; how many passed, and the refusal."""
    for passed in range(most):
        r = send(client, gw, route_class, h)
        if r.status_code == 429:
            return passed, r
    raise AssertionError(f"{most} {route_class} requests in a row and none refused")


def assert_refusal(r: httpx.Response, route_class: str, retry_after: int) -> dict[str, Any]:
    assert r.status_code == 429
    assert r.reason_phrase == http.HTTPStatus.TOO_MANY_REQUESTS.phrase
    assert r.headers["content-type"] == "application/json"
    assert r.headers["retry-after"] == str(retry_after)
    assert len(r.headers["x-request-id"]) == 32
    assert r.headers["access-control-allow-origin"] == "*"
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["code"] == "GW429"
    assert f"the {route_class} rate limit" in body["message"]
    assert body["details"] == f"rate limit class: {route_class}"
    assert f"wait {retry_after} s" in body["hint"]
    for name, value in r.headers.items():
        assert MARKER not in f"{name}: {value}".lower()
    return body


@pytest.mark.parametrize("route_class", list(REQUESTS))
def test_each_class_is_limited_then_recovers(
    settings: Settings, tight: Gateway, route_class: str
) -> None:
    n = list(REQUESTS).index(route_class)
    retry_after = 2 if route_class == "checkout" else 1
    burst = 2 if route_class == "checkout" else 3
    with client_from(f"127.0.1.{n + 1}") as client:
        h = headers(settings, token(settings))
        passed, refusal = until_refused(client, tight, route_class, h)
        # The burst passes at once, the next is refused (the bucket leaks little meanwhile).
        assert burst + 1 <= passed <= burst + 2, passed
        body = assert_refusal(refusal, route_class, retry_after)
        assert "per user" in body["message"] and "per client address" in body["message"]
        time.sleep(retry_after + 0.2)
        assert send(client, tight, route_class, h).status_code != 429
    line = access_log_lines(tight, refusal.headers["x-request-id"])[refusal.headers["x-request-id"]]
    assert (line["status"], line["client"]) == (429, f"127.0.1.{n + 1}")
    assert line["path"] == REQUESTS[route_class][1].split("?")[0]


def test_one_users_burst_does_not_limit_another(settings: Settings, tight: Gateway) -> None:
    a, b, c = token(settings), token(settings), token(settings)
    with client_from("127.0.2.1") as one, client_from("127.0.2.2") as other:
        until_refused(one, tight, "booking", headers(settings, a))
        assert send(one, tight, "booking", headers(settings, a)).status_code == 429
        # However the scheme is spelled.
        lower = {**headers(settings, a), "Authorization": f"bearer  {a}"}
        assert send(other, tight, "booking", lower).status_code == 429
        # Another user elsewhere, and another user behind the same address (its limit is
        # higher: people share a NAT).
        assert send(other, tight, "booking", headers(settings, b)).status_code != 429
        assert send(one, tight, "booking", headers(settings, c)).status_code != 429
        # Other classes of the refused user are not affected.
        assert send(one, tight, "catalog", headers(settings, a)).status_code != 429


def test_an_address_is_limited_whatever_subs_it_sends(settings: Settings, tight: Gateway) -> None:
    # The sub is not verified at the gateway: a new one per request does not escape the
    # address's limit.
    with client_from("127.0.2.3") as client:
        passed = 0
        for passed in range(40):  # noqa: B007
            r = send(client, tight, "booking", headers(settings, token(settings)))
            if r.status_code == 429:
                break
        assert r.status_code == 429
        assert 3 * ADDRESS_FACTOR + 1 <= passed <= 3 * ADDRESS_FACTOR + 3, passed


def test_anonymous_traffic_is_limited_by_address(settings: Settings, tight: Gateway) -> None:
    with client_from("127.0.2.4") as one, client_from("127.0.2.5") as other:
        passed, refusal = until_refused(one, tight, "catalog", headers(settings, None))
        # The address's limit: twice a user's burst.
        assert 3 * ADDRESS_FACTOR + 1 <= passed <= 3 * ADDRESS_FACTOR + 3, passed
        assert_refusal(refusal, "catalog", 1)
        assert send(other, tight, "catalog", headers(settings, None)).status_code != 429


def test_webhooks_are_not_limited(settings: Settings, tight: Gateway) -> None:
    with client_from("127.0.2.6") as client:
        statuses = {
            client.post(f"{tight.address}/services/webhooks/stripe", content=b"{}").status_code
            for _ in range(40)
        }
    assert 429 not in statuses


def test_the_service_role_key_is_not_limited(settings: Settings, tight: Gateway) -> None:
    key = jwt.service_role_key(settings)
    with client_from("127.0.2.7") as client:
        statuses = {
            client.get(
                f"{tight.address}/rest/v1/mentors?select=id", headers={"apikey": key}
            ).status_code
            for _ in range(40)
        }
    assert statuses == {200}


def test_limits_off(settings: Settings, stack: Stack) -> None:
    with (
        own_gateway(settings, "gw-nolimits", 46, rate_limit_enabled=False) as gw,
        client_from("127.0.2.8") as client,
    ):
        assert "limit_req " not in gw.conf.read_text()
        statuses = {
            send(client, gw, "booking", headers(settings, None)).status_code for _ in range(40)
        }
    assert 429 not in statuses


def test_a_trusted_server_has_no_address_limit_but_its_users_do(
    settings: Settings, tight: Gateway
) -> None:
    with client_from(PLATFORM_SERVER) as server:
        # Many people behind one server: no address limit ...
        statuses = {
            send(server, tight, "catalog", headers(settings, None)).status_code for _ in range(40)
        }
        assert 429 not in statuses
        # ... each of them still has theirs,
        passed, refusal = until_refused(
            server, tight, "booking", headers(settings, token(settings))
        )
        assert passed <= 5
        assert_refusal(refusal, "booking", 1)
        # and a client it names in X-Forwarded-For has its address's.
        named = {**headers(settings, None), "X-Forwarded-For": "203.0.113.7"}
        passed, refusal = until_refused(server, tight, "catalog", named)
        assert 3 * ADDRESS_FACTOR + 1 <= passed <= 3 * ADDRESS_FACTOR + 3, passed
