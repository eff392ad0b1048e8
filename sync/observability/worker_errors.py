"""A worker's errors stored as error reports, as the services' unhandled errors are (source
"server", public.report_error, whose SQL checks and scrubs every report): every log record of
level ERROR or above (a transport's unexpected exception, the database API out of reach, a
provider refusing the configuration) becomes a report with the message, the traceback when there
is one, the component and logger in its context, and the request id the record names (sent as
X-Request-Id with the service-role key, which the gateway keeps).

    forwarder = worker_errors.install("dispatcher", settings.rest_url, service_key)
    ...
    forwarder.close()    # sends what is queued (a second at most)

Reports go from a thread of their own through a bounded queue: logging never waits on the
network, and when the queue is full (the database out of reach while errors keep coming) a
report is dropped and counted. A report that cannot be stored is logged at WARNING, below the
forwarder's level, so it is not forwarded in turn."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from typing import Any

import httpx

from sync.errors import printable, report_stack

log = logging.getLogger(__name__)

QUEUE_SIZE = 100
TIMEOUT_SECONDS = 3.0
CLOSE_SECONDS = 1.0


class ErrorReports(logging.Handler):
    """Forwards ERROR records of `component` to `rest_url`/rpc/report_error."""

    def __init__(self, component: str, rest_url: str, service_key: str) -> None:
        super().__init__(level=logging.ERROR)
        self.component = component
        self.url = rest_url.rstrip("/") + "/rpc/report_error"
        self._key = service_key
        self._queue: queue.Queue[tuple[dict[str, Any], str | None] | None] = queue.Queue(QUEUE_SIZE)
        self.stored = 0
        self.dropped = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="error-reports", daemon=True)
        self._thread.start()

    def report(self, record: logging.LogRecord) -> dict[str, Any]:
        """The report of a record (report_error's keys: message, stack, url, context)."""
        out: dict[str, Any] = {
            "message": printable(record.getMessage(), 2000) or record.levelname,
            "url": f"worker:{self.component}",
            "context": {
                "component": self.component,
                "logger": printable(record.name, 200),
                "level": record.levelname,
            },
        }
        if record.exc_info:
            out["stack"] = report_stack(logging.Formatter().formatException(record.exc_info))
        return out

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == __name__ or record.name.startswith("httpx"):
            return
        # Its form is the gateway's to check (it makes its own for a malformed one) and the SQL's;
        # only what a header can carry is sent.
        request_id = getattr(record, "request_id", None)
        if not (isinstance(request_id, str) and request_id.isascii() and request_id.isprintable()):
            request_id = None
        try:
            self._queue.put_nowait((self.report(record), request_id))
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        """Sends what is queued (CLOSE_SECONDS at most), then stops the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=CLOSE_SECONDS)
        self._thread.join(CLOSE_SECONDS)
        super().close()

    def _run(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as http:
            while (item := self._queue.get()) is not None:
                report, request_id = item
                headers = {"apikey": self._key, "Authorization": f"Bearer {self._key}"}
                if request_id:
                    headers["X-Request-Id"] = request_id
                try:
                    r = http.post(
                        self.url, json={"report": report, "source": "server"}, headers=headers
                    )
                except httpx.HTTPError as e:
                    self.failed += 1
                    log.warning("error not reported", extra={"error": type(e).__name__})
                    continue
                if r.status_code >= 300:
                    self.failed += 1
                    log.warning("error not reported", extra={"status": r.status_code})
                else:
                    self.stored += 1


def install(component: str, rest_url: str, service_key: str) -> ErrorReports:
    """Adds the forwarder to the root logger (after logs.configure): answers it, to close."""
    handler = ErrorReports(component, rest_url, service_key)
    logging.getLogger().addHandler(handler)
    return handler
