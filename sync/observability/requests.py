"""The outermost middleware: one request id per request, one access line, the request metrics
and (when on) the request's span.

- The id: a well-formed X-Request-Id (8 to 128 of A-Z a-z 0-9 . _ -; the gateway in front
  overwrites untrusted ones) is kept, anything else replaced by a new one. It is the contextvar
  sync.logs.request_id while the request is served (every log line carries it, sync.rest passes
  it to PostgREST) and the answer's X-Request-Id.
- The access line (logger sync.access, "request"): method, path (never the query string: it can
  carry tokens), route (the template, e.g. /video/{session_id}), status, duration_ms, client.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.errors import printable
from sync.logs import request_id
from sync.observability.metrics import Metrics
from sync.observability.tracing import Tracing

access = logging.getLogger("sync.access")

HEADER = "X-Request-Id"
WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
# The route of a request no endpoint matched (a label, so never the path itself).
UNMATCHED = "<unmatched>"
# The methods a metric label names; any other (a caller may send any token) is "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def new_id() -> str:
    return uuid.uuid4().hex


def given_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if WELL_FORMED.match(text) else None
    return None


def logged_path(scope: Scope) -> str:
    """The path as logged: printable, at most 200 characters, a JWT-shaped part (a token pasted
    into a URL) replaced."""
    return JWT_SHAPED.sub("[redacted]", printable(scope["path"], 200))


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, tracing: Tracing | None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = given_id(scope) or new_id()
        token = request_id.set(rid)
        method = printable(scope["method"], 20)
        started = time.perf_counter()
        status = 500
        span = None
        if self.tracing is not None:
            span = self.tracing.tracer.start_span(
                method,
                kind=SpanKind.SERVER,
                attributes={
                    "request_id": rid,
                    "http.request.method": method,
                    "url.path": logged_path(scope),
                },
            )

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(n, v) for n, v in message.get("headers", []) if n != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if span is not None:
                with trace.use_span(span, end_on_exit=False):
                    await self.app(scope, receive, with_id)
            else:
                await self.app(scope, receive, with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            label = method if method in METHODS else "other"
            self.metrics.request(label, route, status, seconds)
            if self.tracing is not None and span is not None:
                self.tracing.request(label, route, status, seconds)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                span.end()
            access.info("request", extra=_access_fields(scope, method, route, status, seconds))
            request_id.reset(token)


def _access_fields(
    scope: Scope, method: str, route: str, status: int, seconds: float
) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "method": method,
        "path": logged_path(scope),
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "client": client[0] if client else None,
    }
