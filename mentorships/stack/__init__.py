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

import httpx

from mentorships.settings import Settings
from mentorships.stack.common import _require_free, paths
from mentorships.stack.gateway import Gateway
from mentorships.stack.paypal_local import PayPalCert, PayPalSigner
from mentorships.stack.postgres import Postgres
from mentorships.stack.postgrest import PostgREST
from mentorships.stack.services import LOCAL_PAYPAL_CERT_PATH, Services, call_sdk_missing
from mentorships.stack.worker import Worker

# What other modules import from here (each component lives in a module of its own).
__all__ = [
    "LOCAL_PAYPAL_CERT_PATH",
    "ComponentStatus",
    "Gateway",
    "PayPalCert",
    "PayPalSigner",
    "PostgREST",
    "Postgres",
    "Services",
    "Stack",
    "Worker",
    "_require_free",
    "call_sdk_missing",
    "paths",
]


@dataclass
class ComponentStatus:
    name: str
    address: str
    running: bool
    healthy: bool
    detail: str = ""


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = Postgres(settings)
        self.postgrest = PostgREST(settings)
        self.gateway = Gateway(settings)
        self.services = Services(settings)
        self.worker = Worker(settings)

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
            *self._worker_status(),
            *self._paypal_status(bool(gw_pid)),
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
        yield "services", self.services.stop()
        yield "gateway", self.gateway.stop()
        yield "postgrest", self.postgrest.stop()
        yield "postgres", self.postgres.stop()
