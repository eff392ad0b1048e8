"""The gateway's request ids (made, passed on, answered; a client's kept only from a trusted
address), its JSON access log, and the services behind it at /services/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Gateway, Stack
from testing.gateways import EchoServer, access_log_lines, client_from, echo_server, own_gateway

OWN_ID = re.compile(r"^[0-9a-f]{32}$")
TRUSTED = "127.0.3.1"


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    with echo_server() as server:
        yield server


@pytest.fixture(scope="module")
def echo_gateway(settings: Settings, echo: EchoServer) -> Iterator[Gateway]:
    """A gateway whose PostgREST and services are the echo server; 127.0.3.1 is trusted."""
    with own_gateway(
        settings,
        "gw-echo",
        47,
        postgrest_port=echo.port,
        services_port=echo.port,
        gateway_trusted_addresses=f"{TRUSTED}, 10.0.0.0/8",
    ) as gw:
        yield gw


def last_seen(echo: EchoServer) -> dict[str, str]:
    headers: dict[str, str] = {k.lower(): v for k, v in echo.seen[-1]["headers"].items()}
    return headers


def test_a_request_id_is_made_passed_on_and_answered(
    settings: Settings, echo: EchoServer, echo_gateway: Gateway
) -> None:
    anon = {"apikey": jwt.anon_key(settings)}
    ids = set()
    for url in (f"{echo_gateway.address}/rest/v1/mentors", f"{echo_gateway.address}/services/ping"):
        r = httpx.get(url, headers=anon)
        assert r.status_code == 200
        sent = r.headers["x-request-id"]
        assert OWN_ID.match(sent)
        assert last_seen(echo)["x-request-id"] == sent
        # The upstream's own X-Request-Id is not answered next to it.
        assert r.headers.get_list("x-request-id") == [sent]
        ids.add(sent)
    assert len(ids) == 2


def test_the_services_see_their_own_paths(
    settings: Settings, echo: EchoServer, echo_gateway: Gateway
) -> None:
    r = httpx.post(f"{echo_gateway.address}/services/webhooks/stripe?x=1", content=b"{}")
    assert r.status_code == 200
    assert echo.seen[-1]["method"] == "POST"
    assert echo.seen[-1]["path"] == "/webhooks/stripe?x=1"
    assert last_seen(echo)["x-forwarded-prefix"] == "/services"


def test_a_clients_request_id_is_replaced_unless_trusted(
    settings: Settings, echo: EchoServer, echo_gateway: Gateway
) -> None:
    anon = {"apikey": jwt.anon_key(settings)}
    url = f"{echo_gateway.address}/rest/v1/mentors"
    mine = "trace-0123456789.ab_c"
    with client_from("127.0.3.2") as untrusted, client_from(TRUSTED) as trusted:
        r = untrusted.get(url, headers={**anon, "X-Request-Id": mine})
        assert OWN_ID.match(r.headers["x-request-id"])
        assert last_seen(echo)["x-request-id"] == r.headers["x-request-id"]
        r = trusted.get(url, headers={**anon, "X-Request-Id": mine})
        assert r.headers["x-request-id"] == mine
        assert last_seen(echo)["x-request-id"] == mine
        # Malformed (too short, a character outside [A-Za-z0-9._-], too long): replaced.
        for bad in (b"short", b"has space in it", b"x" * 129, "a;b=c,d\u00e9xxxxxx".encode()):
            sent = [*((k.encode(), v.encode()) for k, v in anon.items()), (b"X-Request-Id", bad)]
            r = trusted.get(url, headers=sent)
            assert OWN_ID.match(r.headers["x-request-id"]), bad
            assert last_seen(echo)["x-request-id"] == r.headers["x-request-id"]


def test_the_service_role_key_keeps_its_request_id(
    settings: Settings, echo: EchoServer, echo_gateway: Gateway
) -> None:
    """The services and workers call with the service-role key, passing on the id of the request
    they serve, from any address; a malformed one is replaced all the same."""
    service = {"apikey": jwt.service_role_key(settings)}
    url = f"{echo_gateway.address}/rest/v1/mentors"
    with client_from("127.0.3.3") as server:
        r = server.get(url, headers={**service, "X-Request-Id": "served-0001"})
        assert r.headers["x-request-id"] == "served-0001"
        assert last_seen(echo)["x-request-id"] == "served-0001"
        r = server.get(url, headers={**service, "X-Request-Id": "bad id"})
        assert OWN_ID.match(r.headers["x-request-id"])


def test_the_gateways_own_errors_carry_the_request_id(
    settings: Settings, echo_gateway: Gateway
) -> None:
    with client_from(TRUSTED) as trusted:
        for path in ("/nope", "/rest/v1/mentors", "/services/metrics"):
            r = trusted.get(
                f"{echo_gateway.address}{path}", headers={"X-Request-Id": "my-id-12345"}
            )
            assert r.status_code in (401, 404)
            assert r.json()["code"].startswith("GW")
            assert r.headers["x-request-id"] == "my-id-12345"


def test_the_access_log_is_json_lines(settings: Settings, echo_gateway: Gateway) -> None:
    anon = jwt.anon_key(settings)
    with client_from("127.0.3.3") as client:
        ok = client.get(f"{echo_gateway.address}/rest/v1/mentors?select=id&apikey={anon}")
        refused = client.post(f"{echo_gateway.address}/rest/v1/rpc/book_session?x=1")
    mine = access_log_lines(
        echo_gateway, ok.headers["x-request-id"], refused.headers["x-request-id"]
    )
    line = mine[ok.headers["x-request-id"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])
    assert line["level"] == "info"
    assert line["component"] == "gateway"
    assert line["logger"] == "gateway.access"
    assert line["msg"] == "GET /rest/v1/mentors 200"
    assert line["method"] == "GET"
    assert line["path"] == "/rest/v1/mentors"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], int)
    assert line["route_class"] == "catalog"
    assert line["limited"] is False
    # An error page is reached by GET inside nginx: the log keeps the request's own method.
    line = mine[refused.headers["x-request-id"]]
    assert (line["method"], line["status"], line["route_class"]) == ("POST", 401, "booking")
    text = echo_gateway.access_log.read_text()
    assert anon not in text
    assert jwt.service_role_key(settings) not in text


def test_services_are_behind_the_gateway(settings: Settings, stack: Stack) -> None:
    r = httpx.get(f"{settings.public_services_url}/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    # Their /metrics is for their own scraper, however the path is written.
    for path in ("/metrics", "//metrics", "/%6Detrics", "/metrics/x", "/./metrics"):
        r = httpx.get(f"{settings.public_services_url}{path}")
        assert r.status_code == 404, path
        assert r.json()["code"] == "GW404"


def test_a_trusted_address_names_the_client(settings: Settings, echo_gateway: Gateway) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    with client_from(TRUSTED) as trusted, client_from("127.0.3.4") as untrusted:
        kept = trusted.get(f"{echo_gateway.address}/nope", headers=forwarded)
        ignored = untrusted.get(f"{echo_gateway.address}/nope", headers=forwarded)
    lines = access_log_lines(
        echo_gateway, kept.headers["x-request-id"], ignored.headers["x-request-id"]
    )
    assert lines[kept.headers["x-request-id"]]["client"] == "203.0.113.9"
    assert lines[ignored.headers["x-request-id"]]["client"] == "127.0.3.4"
