"""POST /errors: a client's error report (no sign-in; the gateway limits the rate; at most
16 KiB, sync.handlers), stored by public.report_error as the service role, which checks every
field (required message, kinds, lengths) and scrubs tokens and keys before storing. Answers 202
`{"id": <report number>}`; the RPC's refusals (422 naming the field, 413) come back unchanged.

The services' own unhandled errors go the same way (source "server": forward_server_error, from
sync.handlers.Guard), with the request's id; what they store is scrubbed by the same SQL."""

from __future__ import annotations

import logging
import traceback
from typing import Any, ClassVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict
from starlette.types import Scope

from sync import bodies
from sync.errors import ApiError, ErrorBody, printable, report_stack

log = logging.getLogger(__name__)

PATH = "/errors"
# The body's limit (sync.handlers.body_limit); report_error checks the stored report's size too.
BODY_LIMIT = 16 * 1024
# How long forwarding a server error may take (the 500 waits for it).
FORWARD_TIMEOUT_SECONDS = 3.0


class ErrorReport(bodies.JsonBody):
    """Any JSON object: its keys, kinds and lengths are report_error's to check (in SQL)."""

    model_config = ConfigDict(extra="allow")
    example: ClassVar[str] = (
        '{"message": "TypeError: x is undefined", "stack": "...", "url": "https://...",'
        ' "user_agent": "...", "release": "1.4.2", "context": {}}'
    )


def routes() -> APIRouter:
    router = APIRouter(tags=["errors"])

    @router.post(
        PATH,
        status_code=202,
        openapi_extra=bodies.openapi(ErrorReport),
        responses={
            "4XX": {
                "model": ErrorBody,
                "description": "Refused: SV413, SV415, SV422, PT413, PT422",
            },
            "5XX": {"model": ErrorBody, "description": "Failed: SV502"},
        },
    )
    async def report(request: Request) -> JSONResponse:
        """A client-side error report: `{message, stack?, url?, user_agent?, release?, context?}`
        (JSON, at most 16 KiB). Answers 202 `{"id": ...}`; tokens and keys are removed before
        it is stored."""
        body = await bodies.read(request, ErrorReport)
        rest = request.app.state.services.rest
        stored = await rest.rpc(
            "report_error", {"report": body.model_dump(), "source": "client"}, service=True
        )
        return JSONResponse(stored, status_code=202)

    return router


async def forward_server_error(scope: Scope, error: BaseException) -> None:
    """An unhandled error as a report of source "server" (message, traceback, method and path,
    the request id): never raises, logs when it cannot."""
    services = getattr(getattr(scope.get("app"), "state", None), "services", None)
    if services is None:
        return
    text = "".join(traceback.format_exception(error))
    report: dict[str, Any] = {
        "message": printable(f"{type(error).__name__}: {error}", 1000) or type(error).__name__,
        "stack": report_stack(text),
        "url": printable(scope.get("path", ""), 2000),
        "context": {"method": printable(scope.get("method", ""), 20)},
    }
    try:
        await services.rest.rpc(
            "report_error",
            {"report": report, "source": "server"},
            service=True,
            timeout=FORWARD_TIMEOUT_SECONDS,
        )
    except ApiError as e:
        log.warning("server error not reported", extra={"status": e.status})
    except Exception:  # never let reporting hide the answer
        log.warning("server error not reported", exc_info=True)
