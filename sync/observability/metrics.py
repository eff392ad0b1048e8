"""The services' Prometheus metrics (GET /metrics, text format): the process's own, requests by
route template and status (a counter and a duration histogram), and webhook outcomes by provider
and outcome. One registry per app (a test process runs many apps). The health gauges are read at
scrape time (sync.observability.health)."""

from __future__ import annotations

import json

from fastapi.responses import Response
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)

# Webhook outcomes that are not the database's own (fulfilled, duplicate, ignored, ...).
REFUSED_SIGNATURE = "refused-signature"
REFUSED_BODY = "refused-body"
REFUSED = "refused"
FAILED = "failed"
# What the database's outcome may look like to become a label; anything else is "other".
_OUTCOME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_-")
# Google's refusals (google_push's statuses), by status.
_GOOGLE_REFUSALS = {
    400: "refused-headers",
    403: "refused-token",
    404: "refused-channel",
    410: "refused-stopped",
    422: "refused-headers",
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        self.registry.register(PLATFORM_COLLECTOR)
        self.registry.register(GC_COLLECTOR)
        self.requests = Counter(
            "mentorships_http_requests",
            "Requests the services answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "mentorships_http_request_duration_seconds",
            "Time to answer a request, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "mentorships_webhooks",
            "Webhooks received, by provider and outcome (the database's outcome when recorded:"
            " fulfilled, duplicate, ignored, ...; refused-signature, refused-body, refused,"
            " failed otherwise).",
            ["provider", "outcome"],
            registry=self.registry,
        )

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.durations.labels(method, route).observe(seconds)

    def webhook(self, provider: str, response: Response) -> None:
        """Counts a payment webhook's answer (sync.orders): its outcome by its status and body."""
        self.webhooks.labels(provider, payment_outcome(response)).inc()

    def google_push(self, status: int) -> None:
        if status < 300:
            outcome = "applied"
        elif status >= 500:
            outcome = FAILED
        else:
            outcome = _GOOGLE_REFUSALS.get(status, REFUSED)
        self.webhooks.labels("google", outcome).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


def payment_outcome(response: Response) -> str:
    """A payment webhook's outcome from its answer: 200 with the database's outcome, 400 refused
    for its signature headers or its body, another 4xx refused (by the database), 5xx failed."""
    status = response.status_code
    if status >= 500:
        return FAILED
    try:
        body = json.loads(bytes(response.body))
    except ValueError:
        body = None
    if status >= 400:
        where = body.get("details") if isinstance(body, dict) else None
        if status == 400:
            return REFUSED_BODY if where == "body" else REFUSED_SIGNATURE
        return REFUSED
    outcome = body.get("outcome") if isinstance(body, dict) else None
    if isinstance(outcome, str) and 0 < len(outcome) <= 40 and set(outcome) <= _OUTCOME_CHARS:
        return outcome
    return "other"
