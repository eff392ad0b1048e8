"""Gateways of the tests' own next to the test stack's (tight rate limits, a fake upstream), an
upstream that echoes what it received, and clients from other loopback addresses."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from mentorships.settings import Settings
from mentorships.stack import Gateway


@contextlib.contextmanager
def own_gateway(
    settings: Settings, name: str, port_offset: int, **updates: Any
) -> Iterator[Gateway]:
    """A gateway with a state folder and port of its own (`port_offset` from the test stack's
    base port, 40..99: MENTORSHIPS_TEST_PORTS's range for extra servers), in front of the same
    PostgREST and services unless `updates` say otherwise; stopped and removed afterwards."""
    assert 40 <= port_offset <= 99
    s = settings.model_copy(
        update={
            "stack": f"{settings.stack}-{name}",
            "gateway_port": settings.gateway_port - 1 + port_offset,
            "payment_providers": (),
            **updates,
        }
    )
    gw = Gateway(s)
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()
        shutil.rmtree(gw.p.state, ignore_errors=True)


def client_from(address: str) -> httpx.Client:
    """A client whose requests leave from `address` (127.0.0.0/8: every one is this machine)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def access_log_lines(gw: Gateway, *request_ids: str, timeout: float = 5) -> dict[str, Any]:
    """The gateway's access log lines by request id, parsed, once the lines of `request_ids`
    are there (nginx writes the log out every second)."""
    deadline = time.monotonic() + timeout
    while True:
        text = gw.access_log.read_text() if gw.access_log.exists() else ""
        lines = [json.loads(line) for line in text.splitlines() if line]
        by_id = {line["request_id"]: line for line in lines}
        if set(request_ids) <= set(by_id) or time.monotonic() > deadline:
            return by_id
        time.sleep(0.2)


class _Echo(BaseHTTPRequestHandler):
    server: EchoServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        seen = {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        self.server.seen.append(seen)
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        # What an upstream might say: the gateway's id is the one answered.
        self.send_header("X-Request-Id", "upstream-own-id")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class EchoServer(ThreadingHTTPServer):
    """Plays PostgREST and the services: answers every request 200 with what it received
    (method, path, headers) and keeps it in `seen`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.seen: list[dict[str, Any]] = []

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


@contextlib.contextmanager
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
