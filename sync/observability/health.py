"""The platform's health figures as Prometheus gauges, read at scrape time: public.ops_health()
as the service role (sql/rules/ops_health.sql). When the read fails (the database or the gateway
down, a refusal) the scrape still answers, with `mentorships_health_up 0` and no figures."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sync.errors import ApiError
from sync.rest import Rest

log = logging.getLogger(__name__)

# How long a scrape waits for the database (Prometheus's own scrape timeout is 10 s by default).
HEALTH_TIMEOUT_SECONDS = 5.0


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _gauge(name: str, doc: str, value: Any) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    if isinstance(value, int | float) and not isinstance(value, bool):
        family.add_metric([], float(value))
    return family


def _labelled(
    name: str, doc: str, labels: list[str], rows: Iterable[tuple[list[str], Any]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in rows:
        if isinstance(value, int | float) and not isinstance(value, bool):
            family.add_metric(values, float(value))
    return family


def families(health: dict[str, Any]) -> list[Metric]:
    """ops_health()'s figures as gauges (an age that is null is left out)."""
    outbox = health.get("outbox") or {}
    jobs = health.get("calendar_jobs") or {}
    reports = health.get("reports") or {}
    calendar = health.get("calendar") or []
    return [
        _gauge(
            "mentorships_outbox_pending", "Messages waiting in the outbox.", outbox.get("pending")
        ),
        _gauge("mentorships_outbox_due", "Outbox messages due now.", outbox.get("due")),
        _gauge(
            "mentorships_outbox_oldest_due_age_seconds",
            "How long the oldest due outbox message has waited.",
            outbox.get("oldest_due_age_seconds"),
        ),
        _gauge("mentorships_outbox_failed", "Outbox messages given up.", outbox.get("failed")),
        _labelled(
            "mentorships_messages",
            "Messages by channel and status (sent, failed, pending, ...).",
            ["channel", "status"],
            (
                ([str(m.get("channel")), str(m.get("status"))], m.get("count"))
                for m in health.get("messages") or []
            ),
        ),
        _labelled(
            "mentorships_calendar_sync_lag_seconds",
            "Time since each connected mentor's last successful calendar sync (never synced:"
            " left out, counted in mentorships_calendar_never_synced).",
            ["mentor_id"],
            (([str(c.get("mentor_id"))], c.get("lag_seconds")) for c in calendar),
        ),
        _gauge(
            "mentorships_calendar_never_synced",
            "Connected mentors whose calendar was never synced.",
            sum(1 for c in calendar if c.get("lag_seconds") is None),
        ),
        _gauge("mentorships_calendar_jobs_pending", "Calendar jobs not done.", jobs.get("pending")),
        _gauge("mentorships_calendar_jobs_due", "Calendar jobs due now.", jobs.get("due")),
        _gauge(
            "mentorships_calendar_jobs_oldest_due_age_seconds",
            "How long the oldest due calendar job has waited.",
            jobs.get("oldest_due_age_seconds"),
        ),
        _gauge("mentorships_calendar_jobs_failed", "Calendar jobs given up.", jobs.get("failed")),
        _gauge(
            "mentorships_report_build_age_seconds",
            "Time since the last successful build of the reports.",
            reports.get("age_seconds"),
        ),
        _gauge(
            "mentorships_report_build_running",
            "1 while a build of the reports runs.",
            1 if reports.get("running") else 0,
        ),
        _labelled(
            "mentorships_webhook_events",
            "Webhook events stored, by provider and status (the database's outcome).",
            ["provider", "status"],
            (
                ([str(w.get("provider")), str(w.get("status"))], w.get("count"))
                for w in health.get("webhooks") or []
            ),
        ),
    ]


async def read(rest: Rest) -> dict[str, Any] | None:
    """ops_health() as the service role; None (logged) when it cannot be read."""
    try:
        health = await rest.rpc("ops_health", {}, service=True, timeout=HEALTH_TIMEOUT_SECONDS)
    except ApiError as e:
        log.warning("health figures not read", extra={"status": e.status})
        return None
    if not isinstance(health, dict):
        log.warning("health figures not read: ops_health answered no object")
        return None
    return health


async def text(rest: Rest) -> bytes:
    """The health gauges in the text format, with mentorships_health_up and the read's time."""
    started = time.perf_counter()
    health = await read(rest)
    found = families(health) if health is not None else []
    found += [
        _gauge(
            "mentorships_health_up",
            "1 when ops_health() was read for this scrape, 0 when it failed.",
            0 if health is None else 1,
        ),
        _gauge(
            "mentorships_health_read_seconds",
            "How long reading ops_health() took.",
            time.perf_counter() - started,
        ),
    ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(found))
    return generate_latest(registry)
