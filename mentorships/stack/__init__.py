"""The local Supabase-compatible stack: a Postgres cluster of the project's own, PostgREST behind
nginx at /rest/v1/ (as hosted Supabase serves it), and the Python services (sync/). Each
component starts, stops and reports health (the outbox dispatcher too, mentorships.stack.worker); a second `up` is a no-op for what already runs.

With placeholder PayPal keys the stack also plays PayPal's certificate host (nginx serves a local
signer's certificate, see Services.local_paypal_signer), so PayPal webhooks signed locally
verify."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx

from mentorships.mail import local_zone
from mentorships.settings import Settings
from mentorships.stack.common import _require_free, paths
from mentorships.stack.dashboards import Dashboards
from mentorships.stack.gateway import Gateway
from mentorships.stack.gcal_worker import GcalWorker, MentorSync
from mentorships.stack.google_local import LocalGoogle
from mentorships.stack.health import Health, read_health
from mentorships.stack.paypal_local import PayPalCert, PayPalSigner
from mentorships.stack.postgres import Postgres
from mentorships.stack.postgrest import PostgREST
from mentorships.stack.reports_worker import ReportsWorker, describe_runs
from mentorships.stack.services import LOCAL_PAYPAL_CERT_PATH, Services, call_sdk_missing
from mentorships.stack.worker import Worker

# What other modules import from here (each component lives in a module of its own).
__all__ = [
    "LOCAL_PAYPAL_CERT_PATH",
    "ComponentStatus",
    "Dashboards",
    "Gateway",
    "GcalWorker",
    "Health",
    "LocalGoogle",
    "MentorSync",
    "PayPalCert",
    "PayPalSigner",
    "PostgREST",
    "Postgres",
    "ReportsWorker",
    "Services",
    "Stack",
    "Worker",
    "_require_free",
    "call_sdk_missing",
    "paths",
]


MENTORS_SHOWN = 20  # connected mentors `status` lists under the calendar sync


@dataclass
class ComponentStatus:
    name: str
    address: str
    running: bool
    healthy: bool
    detail: str = ""
    lines: tuple[str, ...] = ()  # shown under the component's line


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = Postgres(settings)
        self.postgrest = PostgREST(settings)
        self.gateway = Gateway(settings)
        self.services = Services(settings)
        self.worker = Worker(settings)
        self.gcal = GcalWorker(settings)
        self.reports = ReportsWorker(settings)
        self.google = LocalGoogle(settings)
        self.dashboards = Dashboards(settings)

    def status(self) -> list[ComponentStatus]:
        pg_running = self.postgres.running()
        pgrst_pid = self.postgrest.pid()
        gw_pid = self.gateway.pid()
        svc_pid = self.services.pid()
        svc_healthy = bool(svc_pid) and self.services.healthy()
        svc_detail = f"pid {svc_pid}" if svc_pid else ""
        if svc_healthy and call_sdk_missing(self.services.address):
            svc_detail += "; the call page's SDK is not installed (run `make setup`)"
        return [
            ComponentStatus(
                "postgres",
                self.postgres.address,
                pg_running,
                pg_running and self.postgres.healthy(),
                str(self.postgres.p.pgdata),
            ),
            ComponentStatus(
                "postgrest",
                self.postgrest.address + " (internal)",
                bool(pgrst_pid),
                bool(pgrst_pid) and self.postgrest.ready(),
                f"pid {pgrst_pid}" if pgrst_pid else "",
            ),
            ComponentStatus(
                "gateway",
                self.settings.rest_url + "/",
                bool(gw_pid),
                bool(gw_pid) and self.gateway.healthy(),
                f"pid {gw_pid}" if gw_pid else "",
            ),
            ComponentStatus(
                "services",
                self.services.address + "/",
                bool(svc_pid),
                svc_healthy,
                svc_detail,
            ),
            *self._dashboards_status(),
            *self._worker_status(),
            *self._gcal_status(),
            *self._reports_status(),
            *self._paypal_status(bool(gw_pid)),
            *self._google_status(),
        ]

    def health(self, rows: list[ComponentStatus]) -> Health:
        """The platform's health figures (public.ops_health through the gateway, as the service
        role), or why they cannot be read: `rows` is what status() found running."""
        by_name = {r.name: r for r in rows}
        if not by_name["postgres"].healthy:
            return Health(None, error="the database is down")
        if not by_name["gateway"].healthy:
            return Health(None, error="the gateway is down")
        return read_health(self.settings)

    def _dashboards_status(self) -> list[ComponentStatus]:
        """The dashboards, when this stack serves them: healthy when Streamlit answers."""
        if not self.dashboards.enabled:
            return []
        pid = self.dashboards.pid()
        return [
            ComponentStatus(
                "dashboards",
                self.dashboards.address + "/",
                bool(pid),
                bool(pid) and self.dashboards.healthy(),
                f"pid {pid}; local sign-in" if pid else "",
            )
        ]

    def _gcal_status(self, zone: ZoneInfo | None = None) -> list[ComponentStatus]:
        """The calendar sync, when this stack runs one: healthy when its health file is fresh;
        under it each connected mentor's last successful sync, in the reader's zone."""
        if not self.gcal.enabled:
            return []
        zone = zone or ZoneInfo(local_zone())
        pid = self.gcal.pid()
        mentors = self.gcal.mentors()
        lines: tuple[str, ...] = ()
        if mentors is None:
            summary = "mentors: unknown (database down)"
        else:
            shown = [m.describe(zone) for m in mentors[:MENTORS_SHOWN]]
            more = len(mentors) - len(shown)
            lines = (*shown, *([f"and {more} more"] if more > 0 else []))
            summary = f"{len(mentors)} connected mentor(s), times in {zone.key}"
        return [
            ComponentStatus(
                "gcal",
                "calendar sync",
                bool(pid),
                bool(pid) and self.gcal.healthy(),
                "; ".join(part for part in (f"pid {pid}" if pid else "", summary) if part),
                lines,
            )
        ]

    def _reports_status(self, zone: ZoneInfo | None = None) -> list[ComponentStatus]:
        """The reports' schedule, when this stack runs one: healthy when its health file is fresh
        (or a build is running); the last run's outcome and the reports' "as of", in the
        reader's zone, named."""
        if not self.reports.enabled:
            return []
        zone = zone or ZoneInfo(local_zone())
        pid = self.reports.pid()
        found = self.reports.runs()
        summary = "runs: unknown (database down)" if found is None else describe_runs(*found, zone)
        return [
            ComponentStatus(
                "reports",
                "reports schedule",
                bool(pid),
                bool(pid) and self.reports.healthy(),
                "; ".join(part for part in (f"pid {pid}" if pid else "", summary) if part),
            )
        ]

    def _google_status(self) -> list[ComponentStatus]:
        """Local Google, in local Google mode: healthy when it answers."""
        if not self.google.enabled:
            return []
        pid = self.google.pid()
        return [
            ComponentStatus(
                "google",
                self.google.address,
                bool(pid),
                bool(pid) and self.google.healthy(),
                "local" + (f"; pid {pid}" if pid else "") + " (no Google client set)",
            )
        ]

    def _worker_status(self) -> list[ComponentStatus]:
        """The outbox dispatcher, when this stack runs one: healthy when its health file is fresh;
        the queue (messages due now, the oldest's wait) and where each channel goes."""
        if not self.worker.enabled:
            return []
        pid = self.worker.pid()
        queue = self.worker.queue()
        routes = ", ".join(f"{c} to {t}" for c, t in self.worker.transports().items())
        detail = "; ".join(
            part
            for part in (
                f"pid {pid}" if pid else "",
                queue.describe() if queue else "queue: unknown (database down)",
                routes,
            )
            if part
        )
        return [
            ComponentStatus(
                "worker",
                "outbox dispatcher",
                bool(pid),
                bool(pid) and self.worker.healthy(),
                detail,
            )
        ]

    def _paypal_status(self, gateway_running: bool) -> list[ComponentStatus]:
        """The local PayPal certificate host, in local PayPal mode: healthy when it serves the
        local signer's certificate."""
        local = self.services.local_paypal_signer()
        if local is None:
            return []
        healthy = False
        if gateway_running:
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(local.cert_url, timeout=2)
                healthy = r.status_code == 200 and r.content == local.signer.cert_pem
        return [
            ComponentStatus(
                "paypal",
                local.cert_url,
                gateway_running,
                healthy,
                "local certificate host (gateway; placeholder PayPal keys)",
            )
        ]

    def stop(self) -> Iterator[tuple[str, bool]]:
        yield "worker", self.worker.stop()
        yield "gcal", self.gcal.stop()
        yield "reports", self.reports.stop()
        yield "dashboards", self.dashboards.stop()
        yield "services", self.services.stop()
        yield "gateway", self.gateway.stop()
        yield "google", self.google.stop()
        yield "postgrest", self.postgrest.stop()
        yield "postgres", self.postgres.stop()
