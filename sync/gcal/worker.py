"""The calendar sync: `python -m sync.gcal`.

A loop: claim the mentors whose sync is due (claim_calendar_syncs, under a lease), list their busy
calendars at Google (sync/gcal/busy.py, a few mentors at once in threads: Google's client is
synchronous), and report each one, synced (calendar_synced: their busy intervals replaced in one
transaction) or failed (calendar_sync_failed: back-off, or the grant marked revoked on
invalid_grant). In the same loop it drains the session events (claim_calendar_jobs, then
sync/gcal/events.py, then calendar_job_done or calendar_job_failed). Every rule is SQL
(sql/rules/google/busy.sql, events.sql); the worker keeps nothing a restart would lose. SIGTERM or SIGINT: it finishes the mentors in flight, reports them and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from sync import logs
from sync.gcal import events
from sync.gcal.busy import Failed, Synced, sync_mentor
from sync.gcal.channels import Channels
from sync.gcal.listen import Listener
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings, load
from sync.observability import worker_errors
from sync.settings import ConfigError
from sync.worker_health import refuse_to_start, write_health

log = logging.getLogger("sync.gcal")


class ApiFailed(Exception):
    """The database API answered an error (its status and body) or not at all."""


@dataclass
class Totals:
    synced: int = 0
    failed: int = 0
    revoked: int = 0
    events_done: int = 0
    events_failed: int = 0


class Syncer:
    """Syncs due mentors as `worker_name` through the database API with the service-role key."""

    def __init__(self, settings: GcalSettings, worker_name: str | None = None) -> None:
        assert settings.supabase_service_role_key is not None
        self.settings = settings
        self.worker_name = worker_name or settings.gcal_worker_name or default_worker_name()
        self.keys = TokenKeys.from_settings(settings)
        key = settings.supabase_service_role_key.get_secret_value()
        self.http = httpx.Client(
            base_url=settings.rest_url,
            headers={"apikey": key, "Authorization": f"Bearer {key}"},
            timeout=30,
        )
        self.totals = Totals()
        self.started_at = datetime.now(UTC).isoformat()

    def close(self) -> None:
        self.http.close()

    def rpc(self, name: str, **args: Any) -> Any:
        try:
            response = self.http.post(f"/rpc/{name}", json=args)
        except httpx.HTTPError as e:
            raise ApiFailed(f"{name}: {type(e).__name__}") from e
        if response.status_code >= 400:
            raise ApiFailed(f"{name}: {response.status_code} {response.text[:500]}")
        return response.json()

    def claim(self) -> list[dict[str, Any]]:
        claims: list[dict[str, Any]] = self.rpc(
            "claim_calendar_syncs",
            worker=self.worker_name,
            max_mentors=str(self.settings.gcal_batch_size),
            lease_seconds=str(self.settings.gcal_lease_seconds),
        )
        return claims

    def sync_one(self, claim: dict[str, Any]) -> Synced | Failed:
        """One claimed mentor: listed at Google, then reported."""
        mentor_id = claim["mentor_id"]
        result = sync_mentor(self.settings, self.keys, claim)
        if isinstance(result, Synced):
            self.rpc(
                "calendar_synced",
                for_mentor_id=mentor_id,
                worker=self.worker_name,
                calendars=result.calendars,
            )
            self.totals.synced += 1
        else:
            log.warning(
                "calendar sync failed",
                extra={
                    "mentor_id": mentor_id,
                    "error": result.error,
                    "invalid_grant": result.invalid_grant,
                },
            )
            self.rpc(
                "calendar_sync_failed",
                for_mentor_id=mentor_id,
                worker=self.worker_name,
                error=result.error,
                invalid_grant=str(result.invalid_grant).lower(),
            )
            self.totals.failed += 1
            self.totals.revoked += result.invalid_grant
        return result

    def drain(self, stop: threading.Event | None = None) -> int:
        """Claims and syncs batches until none is due (or `stop` is set): how many mentors."""
        return self._drain(self.claim, self.sync_one, self.settings.gcal_batch_size, stop)

    def _drain(
        self,
        claim: Callable[[], list[dict[str, Any]]],
        apply: Callable[[dict[str, Any]], object],
        batch_size: int,
        stop: threading.Event | None,
    ) -> int:
        """Claims batches and applies each claim, a few at once, until a batch comes back short
        (or `stop` is set): how many claims were reported. A lost report is logged: the lease runs
        out and the claim comes back."""

        def safe(one: dict[str, Any]) -> int:
            try:
                apply(one)
                return 1
            except ApiFailed as e:
                log.error("a report to the database API failed", extra={"error": str(e)})
                return 0

        done = 0
        with ThreadPoolExecutor(self.settings.gcal_concurrency) as pool:
            while stop is None or not stop.is_set():
                claims = claim()
                done += sum(pool.map(safe, claims))
                if len(claims) < batch_size:
                    break
        return done

    # --- session events out

    def claim_jobs(self) -> list[dict[str, Any]]:
        claims: list[dict[str, Any]] = self.rpc(
            "claim_calendar_jobs",
            worker=self.worker_name,
            max_jobs=str(self.settings.gcal_jobs_batch_size),
            lease_seconds=str(self.settings.gcal_jobs_lease_seconds),
        )
        return claims

    def apply_one(self, claim: dict[str, Any]) -> events.Applied | events.Failed:
        """One claimed session: applied at Google, then reported."""
        session_id = claim["session_id"]
        # The request that queued the newest of its jobs joins these lines to that request's logs.
        about = {"session_id": session_id, "request_id": claim.get("request_id")}
        result = events.apply_claim(self.settings, self.keys, claim)
        if isinstance(result, events.Applied):
            log.info("session event applied", extra={**about, "action": claim.get("action")})
            self.rpc(
                "calendar_job_done",
                for_session_id=session_id,
                worker=self.worker_name,
                written=result.written,
            )
            self.totals.events_done += 1
        else:
            log.warning(
                "session event failed",
                extra={**about, "error": result.error},
            )
            self.rpc(
                "calendar_job_failed",
                for_session_id=session_id,
                worker=self.worker_name,
                error=result.error,
                invalid_grant=str(result.invalid_grant).lower(),
            )
            self.totals.events_failed += 1
        return result

    def drain_events(self, stop: threading.Event | None = None) -> int:
        """Claims and applies session events until none is due (or `stop` is set): how many
        sessions were reported."""
        return self._drain(
            self.claim_jobs, self.apply_one, self.settings.gcal_jobs_batch_size, stop
        )

    def run(self, stop: threading.Event) -> None:
        """Drains (syncs, then push channels when a webhook address is set), then waits for a
        wake-up (LISTEN calendar_sync_due, sync/gcal/listen.py) or the poll interval."""
        wake = threading.Event()
        if self.settings.gcal_database_url is not None:
            Listener(self.settings.gcal_database_url.get_secret_value(), wake, stop).start()
        channels = None
        if self.settings.google_webhook_url is not None:
            channels = Channels(self.settings, self.keys, self.rpc, self.worker_name)
        while not stop.is_set():
            wake.clear()
            try:
                self.drain(stop)
                if channels is not None:
                    channels.drain()
                self.drain_events(stop)
            except ApiFailed as e:
                log.error("the database API failed", extra={"error": str(e)})
            self.write_status()
            deadline = time.monotonic() + self.settings.gcal_poll_seconds
            while not (stop.is_set() or wake.is_set()) and time.monotonic() < deadline:
                wake.wait(min(0.25, max(deadline - time.monotonic(), 0)))
        self.write_status(stopped=True)

    def write_status(self, *, stopped: bool = False) -> None:
        """Rewrites the health file (atomically), when one is set: {pid, worker, started_at,
        last_loop_at, poll_seconds, stopped, synced, failed, revoked}; counts since start."""
        write_health(
            self.settings.gcal_status_file,
            {
                "pid": os.getpid(),
                "worker": self.worker_name,
                "started_at": self.started_at,
                "last_loop_at": datetime.now(UTC).isoformat(),
                "poll_seconds": self.settings.gcal_poll_seconds,
                "stopped": stopped,
                **asdict(self.totals),
            },
        )


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:gcal"


def main() -> None:
    """The calendar sync from the environment (and .env) alone; exit 78 naming each variable
    missing or malformed."""
    logs.configure("gcal-worker")
    try:
        settings = load()
    except ConfigError as e:
        refuse_to_start(e)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    syncer = Syncer(settings)
    log.info(
        "calendar sync started",
        extra={
            "worker": syncer.worker_name,
            "rest_url": settings.rest_url,
            "push": settings.google_webhook_url is not None,
            "listen": settings.gcal_database_url is not None,
        },
    )
    if settings.google_webhook_url is None:
        log.warning(
            "no MENTORSHIPS_GOOGLE_WEBHOOK_URL: no push channels, mentors are polled every "
            "platform_settings.calendar_sync_interval_seconds"
        )
    key = settings.supabase_service_role_key
    assert key is not None  # load() refuses settings without it
    errors = worker_errors.install("gcal-worker", settings.rest_url, key.get_secret_value())
    try:
        syncer.run(stop)
    finally:
        syncer.close()
        errors.close()
    log.info("calendar sync stopped", extra={"worker": syncer.worker_name, **vars(syncer.totals)})
