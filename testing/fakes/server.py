"""The HTTP server under the stateful fakes (Resend's email API, Discord's bot API): a real
server on 127.0.0.1 in a thread, HTTP/1.1 with keep-alive, fast enough for thousands of requests
a second. A fake subclasses it and answers each request in ``handle``; a request it cannot accept
is answered through ``fail``, which records why, and ``verify()`` (run by the fixtures at
teardown) fails the test on any such record or on an exception raised while answering.

``outage(seconds, status=500, delay=0)`` plays a provider that is down for a while: every request
arriving in that time is answered ``status`` (after ``delay`` seconds: a timeout, for a client
that waits less) without reaching ``handle``; ``outage_answers`` counts them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from testing.fakes.http import Request

MAX_BODY = 16 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    # Clients open many connections at once; the default backlog of 5 would reset some.
    request_queue_size = 1024


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-able, or bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a client's timeout, after the fact)


class FakeServer:
    def __init__(self, name: str, port: int = 0) -> None:
        self.name = name
        self.failures: list[str] = []
        self.errors: list[Exception] = []
        self.lock = threading.RLock()
        self.outage_answers = 0
        self._outage: tuple[float, Answer] | None = None  # until (time.time()), the answer
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 20
            # The status line and headers go out in one write, the body in another: with Nagle's
            # algorithm the body waits for the client's delayed ACK (~40 ms a request).
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = self.headers.get("Content-Length")
                if self.headers.get("Transfer-Encoding"):
                    answer = fake.fail(f"{self.command} {parts.path}: a chunked body")
                    self.close_connection = True
                else:
                    body = self.rfile.read(int(length)) if length and length.isdigit() else b""
                    request = Request(
                        method=self.command,
                        path=parts.path,
                        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        query_string=parts.query,
                    )
                    try:
                        answer = fake.down() or fake.handle(request)
                    except Exception as e:
                        with fake.lock:
                            fake.errors.append(e)
                        answer = Answer(500, {"message": f"{fake.name} fake raised {e!r}"})
                payload = (
                    answer.body
                    if isinstance(answer.body, bytes)
                    else b""
                    if answer.body is None
                    else json.dumps(answer.body).encode()
                )
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    headers = {"Content-Type": "application/json"} | answer.headers
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    if not answer.delay:
                        raise
                    self.close_connection = True  # the client gave up waiting, as meant

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, request: Request) -> Answer:
        raise NotImplementedError

    def outage(self, seconds: float, *, status: int = 500, delay: float = 0.0) -> None:
        """Down for `seconds` from now: every request answered `status` after `delay` seconds."""
        body = {"message": f"{self.name} fake: outage", "code": 0}
        with self.lock:
            self._outage = (time.time() + seconds, Answer(status, body, delay=delay))

    def end_outage(self) -> None:
        """Up again at once, its outage count back to 0 (each fake's reset calls it)."""
        with self.lock:
            self._outage = None
            self.outage_answers = 0

    def down(self) -> Answer | None:
        """The outage's answer while one lasts (counted), else None."""
        with self.lock:
            if self._outage is None or time.time() >= self._outage[0]:
                return None
            self.outage_answers += 1
            return self._outage[1]

    def fail(self, message: str, status: int = 400) -> Answer:
        """Records a request the fake cannot accept; answers it ``status``."""
        with self.lock:
            self.failures.append(message)
        return Answer(status, {"message": f"{self.name} fake: {message}", "code": 0})

    @staticmethod
    def now() -> float:
        return time.time()

    def verify(self) -> None:
        with self.lock:
            errors = list(self.errors)
            failures = list(self.failures)
        if errors:
            error = errors[0]
            for failure in failures:
                error.add_note(f"{self.name} fake: {failure}")
            raise error
        assert not failures, f"{self.name} fake:\n  " + "\n  ".join(failures)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
