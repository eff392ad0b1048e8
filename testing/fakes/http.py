"""A strict fake HTTP API on 127.0.0.1 (a real server in a thread): a test declares the calls it
expects and their canned answers; anything else fails the test.

    fake.expect("POST", "/v1/checkout/sessions",
                headers={"Idempotency-Key": f"order-{order_id}"},
                form={"mode": "payment", ...},        # every field, exactly
                response={"id": "cs_test_1", ...})
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Body = dict[str, Any] | list[Any] | bytes | None
# The longest body the fake reads; a test never needs more.
MAX_BODY = 16 * 1024 * 1024
CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")


class UnreadableBody(Exception):
    """The request's body could not be read as its headers frame it."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lowercased
    body: bytes
    query_string: str = ""  # as sent, after the "?"

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Expected:
    method: str
    path: str
    # Required headers, exact values (names case-insensitive); other headers may be present.
    # A callable value is evaluated when the request arrives.
    headers: dict[str, str | Callable[[], str]] = field(default_factory=dict)
    # The exact body: every form field / the whole JSON document. A callable is evaluated when
    # the request arrives (for values the test learns only then, such as a new order's id).
    form: dict[str, str] | Callable[[], dict[str, str]] | None = None
    json: Any = None
    # The exact query string's fields (each once); None: the call carries no query string.
    query: dict[str, str] | Callable[[], dict[str, str]] | None = None
    status: int = 200
    response: Body | Callable[[Request], Body] = None
    content_type: str = "application/json"
    at_least: int = 1
    at_most: int | None = 1
    calls: list[Request] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.method} {self.path}"

    def mismatch(self, request: Request) -> str | None:
        for name, expected_value in self.headers.items():
            value = expected_value() if callable(expected_value) else expected_value
            got = request.headers.get(name.lower())
            if got != value:
                return f"header {name}: expected {value!r}, got {got!r}"
        if self.query is None:
            if request.query_string:
                return f"unexpected query string {request.query_string[:200]!r}"
        else:
            expected_query = self.query() if callable(self.query) else self.query
            pairs = parse_qsl(request.query_string, keep_blank_values=True)
            if len(dict(pairs)) != len(pairs):
                return f"query has a repeated field: {pairs!r}"
            if dict(pairs) != expected_query:
                return f"query: expected {expected_query!r}, got {request.query_string[:200]!r}"
        if self.form is not None:
            expected = self.form() if callable(self.form) else self.form
            pairs = parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True)
            got_form = dict(pairs)
            if len(got_form) != len(pairs):
                return f"form has a repeated field: {pairs!r}"
            if got_form != expected:
                missing = {k: v for k, v in expected.items() if got_form.get(k) != v}
                extra = {k: v for k, v in got_form.items() if k not in expected}
                return f"form differs: expected (missing or different) {missing!r}, unexpected {extra!r}"
        if self.json is not None:
            expected_json = self.json() if callable(self.json) else self.json
            try:
                got_json = json.loads(request.body)
            except ValueError:
                return f"body is not JSON: {request.body[:200]!r}"
            if got_json != expected_json:
                return f"JSON body differs: expected {expected_json!r}, got {got_json!r}"
        if self.form is None and self.json is None and request.body:
            return f"unexpected body {request.body[:200]!r}"
        return None


class StrictFake:
    """Declared calls match on method, path, required headers, the exact query string and the
    exact form or JSON body. Anything else is answered 400 and recorded as a failure: a call no
    one declared, a query string on a call declared without one, a body it cannot read
    (Content-Length or chunked, nothing else). A callable answer that raises is answered 500 and
    its exception recorded. `verify()` (run by the fixtures at teardown) re-raises the first such
    exception, and otherwise fails the test on any failure or on an expected call that never
    came."""

    def __init__(self, name: str, port: int = 0) -> None:
        """`port` 0: an ephemeral one."""
        self.name = name
        self.expected: list[Expected] = []
        self.failures: list[str] = []
        self.requests: list[Request] = []
        # Exceptions raised while answering (a callable response, say), with where.
        self.errors: list[tuple[str, Exception]] = []
        self._lock = threading.RLock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # A body that stops coming fails the request instead of holding the thread.
            timeout = 20

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                try:
                    body = self._body()
                except UnreadableBody as e:
                    self.close_connection = True
                    status, payload, content_type = fake._fail(
                        f"{self.command} {parts.path}: cannot read the body: {e}"
                    )
                else:
                    request = Request(
                        method=self.command,
                        path=parts.path,
                        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        query_string=parts.query,
                    )
                    status, payload, content_type = fake.answer(request)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)

            def _body(self) -> bytes:
                encodings = self.headers.get_all("Transfer-Encoding") or []
                lengths = self.headers.get_all("Content-Length") or []
                try:
                    if encodings:
                        if lengths:
                            raise UnreadableBody("both Transfer-Encoding and Content-Length")
                        if [e.strip().lower() for e in encodings] != ["chunked"]:
                            raise UnreadableBody(f"Transfer-Encoding {', '.join(encodings)!r}")
                        return self._chunked()
                    if not lengths:
                        return b""
                    if len(lengths) > 1 or not re.fullmatch(r"[0-9]{1,9}", lengths[0]):
                        raise UnreadableBody(f"Content-Length {', '.join(lengths)!r}")
                    return self._exactly(int(lengths[0]))
                except OSError as e:  # a read timed out or the connection broke
                    raise UnreadableBody(f"{type(e).__name__}: {e}") from e

            def _exactly(self, size: int) -> bytes:
                if size > MAX_BODY:
                    raise UnreadableBody(f"{size} bytes, more than {MAX_BODY}")
                data = self.rfile.read(size)
                if len(data) != size:
                    raise UnreadableBody(f"{size} bytes announced, {len(data)} came")
                return data

            def _line(self, what: str) -> bytes:
                line = self.rfile.readline(1024)
                if not line.endswith(b"\r\n"):
                    raise UnreadableBody(f"{what}: {line[:80]!r} is not a CRLF-ended line")
                return line[:-2]

            def _chunked(self) -> bytes:
                body = bytearray()
                while True:
                    size_text = self._line("chunk size").split(b";", 1)[0].strip()
                    if not CHUNK_SIZE.fullmatch(size_text):
                        raise UnreadableBody(f"chunk size {size_text[:80]!r}")
                    size = int(size_text, 16)
                    if size == 0:
                        break
                    if len(body) + size > MAX_BODY:
                        raise UnreadableBody(f"chunks of more than {MAX_BODY} bytes")
                    body += self._exactly(size)
                    if self._line("chunk end"):
                        raise UnreadableBody("a chunk longer than its size")
                while self._line("trailer"):
                    pass
                return bytes(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def expect(self, method: str, path: str, **kw: Any) -> Expected:
        expected = Expected(method, path, **kw)
        with self._lock:
            self.expected.append(expected)
        return expected

    def serve(self, method: str, path: str, **kw: Any) -> Expected:
        """A call that may come any number of times (a certificate download, say)."""
        return self.expect(method, path, at_least=0, at_most=None, **kw)

    def answer(self, request: Request) -> tuple[int, bytes, str]:
        with self._lock:
            self.requests.append(request)
            candidates = [
                e
                for e in self.expected
                if e.method == request.method
                and e.path == request.path
                and (e.at_most is None or len(e.calls) < e.at_most)
            ]
            if not candidates:
                return self._fail(f"unexpected call {request.method} {request.path}")
            expected = candidates[0]
            try:
                problem = expected.mismatch(request)
            except Exception as e:
                return self._raised(f"checking {expected.describe()}", e)
            if problem:
                return self._fail(f"{expected.describe()}: {problem}")
            expected.calls.append(request)
        try:
            response = (
                expected.response(request) if callable(expected.response) else expected.response
            )
            if response is None:
                payload = b""
            elif isinstance(response, bytes):
                payload = response
            else:
                payload = json.dumps(response).encode()
        except Exception as e:
            return self._raised(f"the response of {expected.describe()}", e)
        return expected.status, payload, expected.content_type

    def _fail(
        self, message: str, status: int = 400, name: str = "FAKE_UNEXPECTED_REQUEST"
    ) -> tuple[int, bytes, str]:
        with self._lock:
            self.failures.append(message)
        error = {
            # Stripe's error shape and PayPal's, so either client raises on it.
            "error": {
                "type": "invalid_request_error" if status < 500 else "api_error",
                "message": f"{self.name} fake: {message}",
            },
            "name": name,
            "message": f"{self.name} fake: {message}",
        }
        return status, json.dumps(error).encode(), "application/json"

    def _raised(self, where: str, error: Exception) -> tuple[int, bytes, str]:
        with self._lock:
            self.errors.append((where, error))
        return self._fail(f"{where} raised {error!r}", 500, "FAKE_RAISED")

    def problems(self) -> list[str]:
        with self._lock:
            problems = list(self.failures)
            for e in self.expected:
                if len(e.calls) < e.at_least:
                    problems.append(
                        f"expected {e.describe()} at least {e.at_least} time(s), got {len(e.calls)}"
                    )
        return problems

    def verify(self) -> None:
        """Fails the test: with the first exception raised while answering, if any (the other
        problems as its notes), else on any problem."""
        problems = self.problems()
        with self._lock:
            errors = list(self.errors)
        if errors:
            where, error = errors[0]
            error.add_note(f"{self.name} fake: raised by {where}")
            for problem in problems:
                error.add_note(f"{self.name} fake: {problem}")
            raise error
        assert not problems, f"{self.name} fake:\n  " + "\n  ".join(problems)

    def reset(self) -> None:
        with self._lock:
            self.expected.clear()
            self.failures.clear()
            self.requests.clear()
            self.errors.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
