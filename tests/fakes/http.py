"""A strict fake HTTP API on 127.0.0.1 (a real server in a thread): a test declares the calls it
expects (method, path, required headers, the exact form or JSON body) and their canned answers.
Anything else is answered 400 and recorded as a failure; `verify()` (run by the fixtures at
teardown) fails the test on any failure or on an expected call that never came.

    fake.expect("POST", "/v1/checkout/sessions",
                headers={"Idempotency-Key": f"order-{order_id}"},
                form={"mode": "payment", ...},        # every field, exactly
                response={"id": "cs_test_1", ...})
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Body = dict[str, Any] | list[Any] | bytes | None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lowercased
    body: bytes

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
    query: dict[str, str] | None = None
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
        if self.query is not None and request.query != self.query:
            return f"query: expected {self.query!r}, got {request.query!r}"
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
    def __init__(self, name: str) -> None:
        self.name = name
        self.expected: list[Expected] = []
        self.failures: list[str] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                status, payload, content_type = fake.answer(request)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
            problem = expected.mismatch(request)
            if problem:
                return self._fail(f"{expected.describe()}: {problem}")
            expected.calls.append(request)
        response = expected.response(request) if callable(expected.response) else expected.response
        if response is None:
            payload = b""
        elif isinstance(response, bytes):
            payload = response
        else:
            payload = json.dumps(response).encode()
        return expected.status, payload, expected.content_type

    def _fail(self, message: str) -> tuple[int, bytes, str]:
        self.failures.append(message)
        error = {
            # Stripe's error shape and PayPal's, so either client raises on it.
            "error": {"type": "invalid_request_error", "message": f"{self.name} fake: {message}"},
            "name": "FAKE_UNEXPECTED_REQUEST",
            "message": f"{self.name} fake: {message}",
        }
        return 400, json.dumps(error).encode(), "application/json"

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
        problems = self.problems()
        assert not problems, f"{self.name} fake:\n  " + "\n  ".join(problems)

    def reset(self) -> None:
        with self._lock:
            self.expected.clear()
            self.failures.clear()
            self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
