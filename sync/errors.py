"""One shape for every answer of the services that is not a success: PostgREST's
({"code", "message", "details", "hint"}, all four always, null where empty). PostgREST's own
refusals pass through unchanged; the services' own codes are SV<status> (the README lists them).
Nothing a caller sent reaches a status line or a header; a message quotes at most 60 characters
of it, control characters removed (`quoted`, as private.quoted does in sql/rules/errors.sql)."""

from __future__ import annotations

import json
import logging
import re

from fastapi.responses import Response
from pydantic import BaseModel

log = logging.getLogger(__name__)

# What a message may carry of a caller's text (private.printable / private.quoted). A lone
# surrogate (JSON's "\ud800") is no character UTF-8 can carry: replaced as a control character.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
QUOTE_LIMIT = 60
# What public.report_error refuses in a report's stack: control characters but line breaks and tabs.
_STACK_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
STACK_LIMIT = 8000


def printable(text: str, max_length: int = 500) -> str:
    """text with control characters (and lone surrogates) replaced by spaces, cut to max_length characters (… marks a
    cut)."""
    text = CONTROL_CHARACTERS.sub(" ", text)
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def report_stack(text: str) -> str:
    """A traceback for an error report (sync.observability): its last STACK_LIMIT characters,
    line breaks and tabs kept, other control characters replaced by spaces."""
    return _STACK_CONTROL.sub(" ", text[-STACK_LIMIT:])


def quoted(text: str) -> str:
    """A caller's text in a message: "text", at most 60 characters, no control characters."""
    return f'"{printable(text, QUOTE_LIMIT)}"'


class ErrorBody(BaseModel):
    """Every answer that is not a success (the OpenAPI schema of the shape)."""

    code: str
    message: str
    details: str | None
    hint: str | None


def error_body(
    code: str, message: str, details: str | None = None, hint: str | None = None
) -> dict[str, str | None]:
    return {
        "code": code,
        "message": printable(message),
        "details": None if details is None else printable(details),
        "hint": None if hint is None else printable(hint),
    }


class ApiError(Exception):
    """An answer to give our caller: a status and a body in the error shape."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        super().__init__(f"{status} {body[:200]!r}")

    @classmethod
    def message(
        cls,
        status: int,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiError:
        """One of our own errors: code SV<status>."""
        body = error_body(f"SV{status}", message, details, hint)
        return cls(status, json.dumps(body, ensure_ascii=False).encode(), headers)

    @classmethod
    def passthrough(cls, status: int, content: bytes, *, source: str) -> ApiError:
        """A 4xx of PostgREST, with its status and body as they came (a 401 with
        `WWW-Authenticate: Bearer`, as ours). A body that is not PostgREST's error shape (a
        proxy's HTML page, say) is no answer to pass on: 502."""
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if (
            isinstance(body, dict)
            and isinstance(body.get("code"), str)
            and isinstance(body.get("message"), str)
        ):
            if all(key in body for key in ("details", "hint")):
                return cls(status, content, headers)
            filled = {"details": None, "hint": None, **body}
            return cls(status, json.dumps(filled, ensure_ascii=False).encode(), headers)
        log.error(
            f"{source} answered an error without PostgREST's shape",
            extra={"status": status, "body": content[:500].decode(errors="replace")},
        )
        return cls.message(502, f"{source} failed: it answered {status} without an error body")

    def response(self) -> Response:
        return Response(self.body, self.status, headers=self.headers, media_type="application/json")


def error_response(
    status: int,
    message: str,
    *,
    details: str | None = None,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return ApiError.message(status, message, details=details, hint=hint, headers=headers).response()
