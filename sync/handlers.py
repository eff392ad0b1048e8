"""What makes every answer that is not a success one of sync.errors' shape: handlers for our
ApiError, FastAPI's validation errors and Starlette's HTTP errors (404, 405, ...), and the Guard
middleware (body limits, and a 500 for anything unhandled, reported as a server error).

    handlers.install(app)
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync import bodies
from sync.errors import ApiError, error_response, printable, quoted
from sync.observability import client_errors
from sync.observability.requests import logged_path

log = logging.getLogger(__name__)

# Bodies: a checkout call is a few hundred bytes; a provider's event can be large (a Stripe
# invoice with many lines), so webhooks get more room.
BODY_LIMIT = 1024 * 1024
WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024
WEBHOOK_PREFIX = "/webhooks/"

# The only headers an error answer carries besides Content-Type and Content-Length; their values
# are ours (Allow lists our methods, WWW-Authenticate names the scheme).
_PASSED_HEADERS = {"allow", "www-authenticate"}


class BodyTooLarge(HTTPException):
    """A request body over the limit of its endpoint: 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {_size(limit)}")
        self.limit = limit


def _size(limit: int) -> str:
    if limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    return f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"


def body_limit(path: str) -> int:
    if path == client_errors.PATH:
        return client_errors.BODY_LIMIT
    return WEBHOOK_BODY_LIMIT if path.startswith(WEBHOOK_PREFIX) else BODY_LIMIT


def _too_large(limit: int) -> Response:
    return error_response(
        413,
        f"the body is larger than {_size(limit)}",
        details="body",
        hint=f"Send at most {_size(limit)}.",
    )


class Guard:
    """The outermost of our middleware: a body over its endpoint's limit is a 413 (at once when
    Content-Length says so, else as soon as the bytes read pass it), and an exception nothing
    handled is a 500 in the error shape, logged with its traceback, never sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        length = _content_length(scope)
        if length is not None and length > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit)(scope, receive, send)
        except Exception as e:
            log.exception(
                "unhandled error",
                extra={"method": scope["method"], "path": logged_path(scope)},
            )
            # Stored like a client's report (scrubbed in SQL), with the request's id.
            await client_errors.forward_server_error(scope, e)
            if started:
                raise
            await error_response(
                500,
                "the services failed unexpectedly; the error is logged",
                hint="Try again later; if it keeps failing, tell us when it happened.",
            )(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _endpoints(app: FastAPI) -> list[str]:
    """What the app serves, e.g. "POST /checkout/stripe": its documented API (FastAPI keeps the
    OpenAPI document once built)."""
    paths: dict[str, dict[str, object]] = app.openapi().get("paths", {})
    return [
        f"{method.upper()} {path}" for path, operations in paths.items() for method in operations
    ]


def install(app: FastAPI) -> None:
    """The error shape for everything the app answers that is not a success."""
    app.add_middleware(Guard)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return bodies.refusal(list(exc.errors())).response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() in _PASSED_HEADERS}
        method, path = printable(request.method, 20), quoted(request.url.path)
        if exc.status_code == 404:
            return error_response(
                404,
                f"there is no endpoint {method} {path}",
                hint="The services answer " + ", ".join(_endpoints(app)) + ".",
                headers=headers,
            )
        if exc.status_code == 405:
            allowed = headers.get("Allow") or headers.get("allow") or ""
            return error_response(
                405,
                f"{path} does not take {method}",
                hint=f"Use {allowed.replace(', ', ' or ')}." if allowed else None,
                headers=headers,
            )
        if isinstance(exc, BodyTooLarge):
            return _too_large(exc.limit)
        return error_response(exc.status_code, str(exc.detail), headers=headers)
