"""Structured logs: one JSON object per line on stderr, with the fields every component of the
platform writes (ts, level, component, logger, msg, and request_id during a request).

    logs.configure("services")    # or "dispatcher", "gcal-worker", "reports-worker"
    log.info("webhook recorded", extra={"provider": "stripe", "event_id": "evt_1"})

becomes {"ts": "...", "level": "info", "component": "services", "logger": "sync.stripe",
"msg": "webhook recorded", "request_id": "...", "provider": "stripe", "event_id": "evt_1"}.
The request id is the contextvar `request_id` (set by sync.observability.requests for the length
of a request). A JWT or a Bearer token in a line, whatever logged it, becomes [redacted].
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from contextvars import ContextVar
from typing import Any

# The id of the request being served (X-Request-Id), None outside a request.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else came in through `extra=`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_FIRST = ("ts", "level", "component", "logger", "msg")
# uvicorn's copy of msg with terminal colours.
_DROPPED = {"color_message"}
# Tokens a line must never carry, whatever logged them (an exception's text, say): JWTs and
# "Bearer <token>". (Their characters exclude quotes and backslashes: the line stays JSON.)
_TOKENS = re.compile(
    r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|(?<=[Bb]earer )[A-Za-z0-9._~+/=-]{8,}"
)


class RequestIdFilter(logging.Filter):
    """Gives every record made during a request its request_id (unless it names one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "component": self.component,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if (
                key not in _STANDARD
                and key not in _FIRST
                and key not in _DROPPED
                and key[:1] != "_"
            ):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _TOKENS.sub("[redacted]", json.dumps(entry, default=str))


def configure(component: str, level: int = logging.INFO) -> None:
    """Route every logger (ours and uvicorn's) to stderr as JSON lines of `component`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(component))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # uvicorn's access lines carry the query string (keys, tokens): ours do not
    # (sync.observability.requests), and uvicorn is also told not to write them.
    logging.getLogger("uvicorn.access").disabled = True
    # The Stripe library logs every request at info level; ours already say what matters.
    logging.getLogger("stripe").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
