"""Every answer the gateway makes itself is JSON in PostgREST's error shape (`{"code", "message",
"details", "hint"}`, code `GW<status>`) with a standard status line, never nginx's HTML page.

Each status is provoked for real through nginx: on the test stack's gateway, on throwaway
gateways whose PostgREST is down, silent or sends huge headers, and, for what the gateway does not
produce yet (429, 503, 500, 403), on a gateway from the real generated config with probe
locations (`return 429;`) added to its server block by the test, so that the real error_page
mapping answers."""

from __future__ import annotations

import contextlib
import http
import http.client
import re
import shutil
import socket
import socketserver
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Gateway, Stack
from mentorships.stack.gateway_errors import (
    ERROR_PAGE_FOR_STATUS,
    GATEWAY_MAX_BODY_MB,
    GATEWAY_UPSTREAM_HEADER_KB,
)

KEYS = {"code", "message", "details", "hint"}


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as it came over the wire (header names lowercased)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def of(cls, r: httpx.Response) -> Answer:
        return cls(r.status_code, r.reason_phrase, dict(r.headers), r.content)


def raw_request(port: int, data: bytes, timeout: float = 10) -> Answer:
    """Sends bytes as they are (what httpx would refuse to send) and reads the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        r = http.client.HTTPResponse(sock)
        r.begin()
        return Answer(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, r.read())


def assert_gateway_error(answer: Answer | httpx.Response, status: int) -> dict[str, Any]:
    """The gateway's own error answer for `status`; returns its body."""
    a = Answer.of(answer) if isinstance(answer, httpx.Response) else answer
    text = a.body.decode()
    assert a.status == status, text
    assert a.reason == http.HTTPStatus(status).phrase
    assert a.headers["content-type"] == "application/json"
    assert "<html" not in text.lower()
    body: dict[str, Any] = httpx.Response(200, content=a.body).json()
    assert set(body) == KEYS
    assert body["code"] == f"GW{status}"
    assert body["message"]
    assert body["hint"]
    # The CORS headers are on error answers too (a browser could not read them otherwise).
    assert a.headers["access-control-allow-origin"] == "*"
    assert "apikey" in a.headers["access-control-allow-headers"]
    return body


# --- throwaway gateways ---------------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_gateway(
    settings: Settings,
    name: str,
    port_offset: int,
    gateway: type[Gateway] = Gateway,
    **updates: Any,
) -> Iterator[Gateway]:
    """A gateway of its own (state folder, port) next to the test stack's, stopped and removed
    afterwards. It plays no PayPal host."""
    s = settings.model_copy(
        update={
            "stack": f"{settings.stack}-{name}",
            "gateway_port": settings.gateway_port + port_offset,
            "payment_providers": (),
            **updates,
        }
    )
    gw = gateway(s)
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        shutil.rmtree(gw.p.state, ignore_errors=True)


PROBED = (403, 408, 429, 500, 503)
PROBE_PREFIX = "/__probe/"


class ProbeGateway(Gateway):
    """The real generated config, with probe locations (`return <status>;`) for the statuses
    nginx produces only under conditions not built yet, and a 1 s client_body_timeout, added to
    its server block."""

    def config(self) -> str:
        text = super().config()
        server = f"    listen {self.s.host}:{self.s.gateway_port};\n    server_name _;\n"
        assert text.count(server) == 1
        probes = "".join(
            f"    location = {PROBE_PREFIX}{status} {{ return {status}; }}\n"
            for status in {*PROBED, *ERROR_PAGE_FOR_STATUS}
        )
        return text.replace(server, server + probes + "    client_body_timeout 1s;\n")


@pytest.fixture(scope="module")
def probe_gateway(settings: Settings, stack: Stack) -> Iterator[Gateway]:
    with throwaway_gateway(settings, "gw-probe", 20, ProbeGateway) as gw:
        yield gw


@pytest.fixture(scope="module")
def unreachable_gateway(settings: Settings) -> Iterator[Gateway]:
    """A gateway whose PostgREST port is closed (bound, never listening: refused)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        with throwaway_gateway(settings, "gw-down", 21, postgrest_port=port) as gw:
            yield gw


class FakeApiServer(socketserver.ThreadingTCPServer):
    """Plays PostgREST badly. /silent: reads the request and never answers. /header?bytes=N:
    answers 200 with a response header N bytes long."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeApiHandler)
        self.released = threading.Event()

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


class FakeApiHandler(socketserver.BaseRequestHandler):
    server: FakeApiServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                return
            head += chunk
        target = head.split(b" ", 2)[1].decode()
        if target.startswith("/silent"):
            self.server.released.wait(30)
            return
        match = re.fullmatch(r"/header\?bytes=(\d+)", target)
        if match is None:
            sock.sendall(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        big = b"a" * int(match[1])
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: " + big + b"\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"
        )


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeApiServer]:
    server = FakeApiServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.released.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def fake_api_gateway(settings: Settings, fake_api: FakeApiServer) -> Iterator[Gateway]:
    """A gateway in front of the fake API, waiting 1 s for an answer."""
    with throwaway_gateway(
        settings,
        "gw-fake",
        22,
        postgrest_port=fake_api.port,
        gateway_upstream_timeout_seconds=1,
    ) as gw:
        yield gw


# --- 400 ----------------------------------------------------------------------------------------


def test_400_a_malformed_request_line(settings: Settings, stack: Stack) -> None:
    answer = raw_request(settings.gateway_port, b"get /rest/v1/ HTTP/1.1\r\nHost: x\r\n\r\n")
    body = assert_gateway_error(answer, 400)
    assert "not well-formed HTTP" in body["message"]


def test_400_a_request_header_too_large(settings: Settings, stack: Stack) -> None:
    r = httpx.get(f"{settings.rest_url}/mentors", headers={"X-Big": "a" * 9000})
    body = assert_gateway_error(r, 400)
    assert "headers are larger than the gateway accepts (8 KB" in body["message"]


# --- 401 ----------------------------------------------------------------------------------------


def test_401_no_api_key(settings: Settings, stack: Stack) -> None:
    body = assert_gateway_error(httpx.get(f"{settings.rest_url}/mentors"), 401)
    assert body["message"] == "No API key found in request"
    assert body["details"] == "No `apikey` request header or url param was found."


def test_401_an_unknown_api_key_header(settings: Settings, stack: Stack) -> None:
    r = httpx.get(f"{settings.rest_url}/mentors", headers={"apikey": "not-a-key"})
    assert assert_gateway_error(r, 401)["message"] == "Invalid API key"


def test_401_an_unknown_api_key_url_param(settings: Settings, stack: Stack) -> None:
    r = httpx.get(f"{settings.rest_url}/mentors?select=id&apikey=not-a-key")
    assert assert_gateway_error(r, 401)["message"] == "Invalid API key"


def test_401_a_repeated_api_key_url_param(settings: Settings, stack: Stack) -> None:
    anon = jwt.anon_key(settings)
    r = httpx.get(f"{settings.rest_url}/mentors?apikey={anon}&select=id&apikey={anon}")
    assert assert_gateway_error(r, 401)["message"] == "Duplicate API key found"


# --- 404, 405, 413, 414 on the test stack's gateway --------------------------------------------


def test_404_outside_rest_v1(settings: Settings, stack: Stack) -> None:
    for path in ("/", "/nope", "/index.html", "/rest/v2/mentors", "/__gateway_error/404"):
        body = assert_gateway_error(httpx.get(f"{settings.gateway_url}{path}"), 404)
        assert "/rest/v1/" in body["hint"]


def test_404_rest_v1_without_its_slash_is_no_redirect(settings: Settings, stack: Stack) -> None:
    r = httpx.get(f"{settings.gateway_url}/rest/v1?select=id")
    assert_gateway_error(r, 404)
    assert "location" not in r.headers


def test_405_trace(settings: Settings, stack: Stack) -> None:
    r = httpx.request("TRACE", f"{settings.rest_url}/mentors")
    assert "OPTIONS" in assert_gateway_error(r, 405)["hint"]


def test_413_a_body_over_the_limit(settings: Settings, stack: Stack) -> None:
    r = httpx.post(
        f"{settings.rest_url}/mentors",
        headers={"apikey": jwt.anon_key(settings), "Content-Type": "application/json"},
        content=b"[" + b" " * (GATEWAY_MAX_BODY_MB * 1024 * 1024) + b"]",
        timeout=30,
    )
    body = assert_gateway_error(r, 413)
    assert body["message"] == "the request body is larger than the gateway accepts (10 MB)"


def test_414_a_uri_too_long(settings: Settings, stack: Stack) -> None:
    r = httpx.get(f"{settings.rest_url}/mentors?select={'id,' * 3000}id")
    assert "(8 KB)" in assert_gateway_error(r, 414)["message"]


def test_501_an_unknown_transfer_encoding(settings: Settings, stack: Stack) -> None:
    answer = raw_request(
        settings.gateway_port,
        b"POST /rest/v1/mentors HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    )
    assert_gateway_error(answer, 501)


def test_505_an_http_version_nginx_does_not_speak(settings: Settings, stack: Stack) -> None:
    answer = raw_request(settings.gateway_port, b"GET /rest/v1/ HTTP/2.0\r\nHost: x\r\n\r\n")
    assert_gateway_error(answer, 505)


# --- 502, 504: PostgREST down, silent, or sending what nginx cannot pass on ----------------------


def test_502_the_api_server_is_down(settings: Settings, unreachable_gateway: Gateway) -> None:
    r = httpx.get(
        f"{unreachable_gateway.s.rest_url}/mentors", headers={"apikey": jwt.anon_key(settings)}
    )
    body = assert_gateway_error(r, 502)
    assert body["message"] == "the API server is not reachable"
    assert "`mentorships status`" in body["hint"]


def test_502_an_upstream_header_too_big(settings: Settings, fake_api_gateway: Gateway) -> None:
    r = httpx.get(
        f"{fake_api_gateway.s.rest_url}/header?bytes={64 * 1024}",
        headers={"apikey": jwt.anon_key(settings)},
    )
    body = assert_gateway_error(r, 502)
    assert "cannot pass on" in body["message"]


def test_an_upstream_header_over_8_kb_passes(settings: Settings, fake_api_gateway: Gateway) -> None:
    # nginx's default proxy buffer (4 or 8 KB) turned a long quoted value into a 502.
    size = (GATEWAY_UPSTREAM_HEADER_KB - 4) * 1024
    r = httpx.get(
        f"{fake_api_gateway.s.rest_url}/header?bytes={size}",
        headers={"apikey": jwt.anon_key(settings)},
    )
    assert r.status_code == 200, r.text
    assert len(r.headers["x-big"]) == size


def test_504_the_api_server_does_not_answer(settings: Settings, fake_api_gateway: Gateway) -> None:
    r = httpx.get(
        f"{fake_api_gateway.s.rest_url}/silent",
        headers={"apikey": jwt.anon_key(settings)},
        timeout=15,
    )
    body = assert_gateway_error(r, 504)
    assert body["message"] == "the API server did not answer within 1 s"


# --- statuses nginx produces only under conditions not built yet: probes ----------------------


@pytest.mark.parametrize("status", [403, 429, 500, 503])
def test_a_probed_status(probe_gateway: Gateway, status: int) -> None:
    r = httpx.get(f"{probe_gateway.address}{PROBE_PREFIX}{status}")
    assert_gateway_error(r, status)


@pytest.mark.parametrize("status", sorted(set(ERROR_PAGE_FOR_STATUS) - {408}))
def test_every_mapped_status_answers_json(probe_gateway: Gateway, status: int) -> None:
    # 494 is nginx's code for request headers too large, answered 400.
    r = httpx.get(f"{probe_gateway.address}{PROBE_PREFIX}{status}")
    assert_gateway_error(r, 400 if status == 494 else status)


def test_408_nginx_closes_a_stalled_request_without_answering(
    settings: Settings, probe_gateway: Gateway
) -> None:
    # nginx never answers 408: on a client timeout it closes the connection (and logs 408), so
    # there is no page to be HTML. The error_page mapping for 408 is there all the same.
    for request in (
        f"POST /rest/v1/mentors HTTP/1.1\r\nHost: x\r\napikey: {jwt.anon_key(settings)}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[{",
        f"GET {PROBE_PREFIX}408 HTTP/1.1\r\nHost: x\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", probe_gateway.s.gateway_port), 10) as sock:
            sock.sendall(request.encode())
            assert sock.recv(65536) == b""


# --- no request data in any response header ---------------------------------------------------


MARKER = "zq7marker"


def test_no_request_data_reaches_a_response_header(settings: Settings, stack: Stack) -> None:
    anon = jwt.anon_key(settings)
    sent = {
        "Origin": f"http://{MARKER}.example",
        "Referer": f"http://{MARKER}.example/",
        "User-Agent": MARKER,
        "X-Client-Info": MARKER,
        "Cookie": f"{MARKER}={MARKER}",
        "Prefer": f"count={MARKER}",
        "Access-Control-Request-Headers": MARKER,
    }
    g, rest = settings.gateway_url, settings.rest_url
    answers = [
        httpx.get(f"{rest}/mentors?select=id&slug=neq.{MARKER}", headers={**sent, "apikey": anon}),
        httpx.get(f"{rest}/mentors?select=id&slug=neq.{MARKER}&apikey={anon}", headers=sent),
        httpx.get(f"{rest}/{MARKER}?{MARKER}=1", headers={**sent, "apikey": MARKER}),
        httpx.get(f"{rest}/{MARKER}?apikey={MARKER}", headers=sent),
        httpx.options(f"{rest}/{MARKER}?{MARKER}=1", headers=sent),
        httpx.get(f"{g}/{MARKER}?{MARKER}=1", headers=sent),
        httpx.get(f"{g}/rest/v1?{MARKER}=1", headers=sent),
        httpx.request("TRACE", f"{g}/{MARKER}", headers=sent),
        httpx.get(f"{rest}/{MARKER}?x={MARKER * 1000}", headers=sent),
        httpx.get(f"{rest}/{MARKER}", headers={**sent, "X-Big": MARKER * 1000}),
    ]
    statuses = {r.status_code for r in answers}
    assert {200, 204, 400, 401, 404, 405, 414} <= statuses
    for r in answers:
        for name, value in r.headers.items():
            assert MARKER not in f"{name}: {value}".lower(), (r.request.url, name, value)
