"""The reports' schedule: `python -m sync.reports`.

A loop: ask the rules for a build (private.claim_report_build, trigger 'schedule': due when the
last finished run started platform_settings.report_build_interval_minutes ago, and none is live),
run `dbt build`, finish the run (private.finish_report_build: outcome, error, rows per mart);
then wait the poll interval. It writes a health file each loop. Every rule is SQL
(sql/rules/reports.sql); the worker keeps nothing a restart would lose. SIGTERM or SIGINT: it
finishes the build in flight, records it and exits.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg

from sync import logs
from sync.reports import runs
from sync.reports.settings import ReportsSettings, load
from sync.settings import ConfigError
from sync.worker_health import refuse_to_start, write_health

log = logging.getLogger("sync.reports")


@dataclass
class Totals:
    succeeded: int = 0
    failed: int = 0
    last_run_id: int | None = None


class Scheduler:
    """Builds the reports whenever the rules say one is due, as `worker_name`."""

    def __init__(self, settings: ReportsSettings, worker_name: str | None = None) -> None:
        self.settings = settings
        self.worker_name = worker_name or settings.reports_worker_name or default_worker_name()
        self.totals = Totals()
        self.started_at = datetime.now(UTC).isoformat()

    def tick(self) -> runs.Run | None:
        """One claim, and the build when the rules gave a run: the finished run, or None."""
        done = runs.build_once(
            self.settings.database_url,
            worker=self.worker_name,
            trigger="schedule",
            lease_seconds=self.settings.reports_lease_seconds,
            place=self.settings.place(),
            on_line=lambda line: log.debug("dbt: %s", line),
        )
        if done is None:
            return None
        run, result = done
        self.totals.last_run_id = run.id
        if result.ok:
            self.totals.succeeded += 1
            log.info("reports built", extra={"run_id": run.id, "summary": result.summary()})
        else:
            self.totals.failed += 1
            log.error("reports build failed", extra={"run_id": run.id, "error": run.error})
        return run

    def run(self, stop: threading.Event) -> None:
        self.write_status()  # healthy from the start, before a first build that may take a while
        while not stop.is_set():
            try:
                self.tick()
            except (psycopg.Error, OSError) as e:
                log.error("the reports build could not run", extra={"error": str(e)})
            self.write_status()
            stop.wait(self.settings.reports_poll_seconds)
        self.write_status(stopped=True)

    def write_status(self, *, stopped: bool = False) -> None:
        """Rewrites the health file (atomically), when one is set: {pid, worker, started_at,
        last_loop_at, poll_seconds, stopped, succeeded, failed, last_run_id}."""
        write_health(
            self.settings.reports_status_file,
            {
                "pid": os.getpid(),
                "worker": self.worker_name,
                "started_at": self.started_at,
                "last_loop_at": datetime.now(UTC).isoformat(),
                "poll_seconds": self.settings.reports_poll_seconds,
                "stopped": stopped,
                **asdict(self.totals),
            },
        )


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:reports"


def main() -> None:
    """The schedule from the environment (and .env) alone; exit 78 naming each variable
    missing or malformed."""
    logs.configure("reports-worker")
    try:
        settings = load()
    except ConfigError as e:
        refuse_to_start(e)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = Scheduler(settings)
    log.info(
        "reports schedule started",
        extra={"worker": scheduler.worker_name, "poll_seconds": settings.reports_poll_seconds},
    )
    scheduler.run(stop)
    log.info(
        "reports schedule stopped",
        extra={"worker": scheduler.worker_name, **asdict(scheduler.totals)},
    )
