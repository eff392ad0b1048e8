"""The reports' schedule (sync/reports/), a component of its own: `python -m sync.reports` started
with the environment the stack renders for it, as the calendar sync is (gcal_worker.py).

It gets the stack's database URL (dbt builds there), its MENTORSHIPS_REPORTS_* settings from the
environment (.env), dbt's target/ and logs/ under .local/<stack>/dbt/, and rewrites
`.local/<stack>/reports-status.json` each loop; healthy means that file is fresh and names the
running process. `runs()` reads the last run and the last succeeded one for `status`.
MENTORSHIPS_REPORTS_WORKER=false leaves it out (the test stack: tests run their own)."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from pydantic import SecretStr

from mentorships.settings import PROJECT_DIR
from mentorships.stack.worker_process import WorkerProcess
from sync.reports import dbt, runs
from sync.reports.settings import ReportsSettings
from sync.settings import env_name


def describe_runs(last: runs.Run | None, ok: runs.Run | None, zone: ZoneInfo) -> str:
    """The last run's outcome and the reports' "as of", in `zone` (named)."""

    def at(t: dt.datetime | None) -> str:
        return "-" if t is None else t.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    if last is None:
        return "no build yet"
    outcome = last.outcome.upper() if last.outcome == "failed" else last.outcome
    last_text = f"last run #{last.id} ({last.trigger}, {last.kind}) {outcome}"
    if last.outcome != "running":
        last_text += f" {at(last.finished_at)}"
    as_of = f"as of {at(ok.finished_at)} {zone.key}" if ok else "no succeeded build yet"
    return f"{last_text}; reports {as_of}"


class ReportsWorker(WorkerProcess):
    NAME = "reports"
    MODULE = "sync.reports"
    WHAT = "the reports schedule"
    DEFAULT_POLL_SECONDS = 60

    @property
    def enabled(self) -> bool:
        return self.s.reports_worker

    @property
    def place(self) -> dbt.Place:
        """dbt's target/ and logs/ for this stack (`reports build` and `reports docs` too)."""
        return dbt.Place(
            target_dir=self.p.state / "dbt" / "target", log_dir=self.p.state / "dbt" / "logs"
        )

    def reports_settings(self, **overrides: Any) -> ReportsSettings:
        """What the schedule runs with: the MENTORSHIPS_REPORTS_* of the environment, the
        stack's database, this stack's dbt folders."""
        own = ReportsSettings(_env_file=PROJECT_DIR / ".env")
        values = {f: getattr(own, f) for f in ReportsSettings.model_fields}
        return ReportsSettings.model_validate(
            {
                **values,
                "reports_database_url": self.s.dsn(),
                "reports_worker_name": own.reports_worker_name or f"{self.s.stack}-reports",
                "reports_status_file": self.status_file,
                "reports_target_dir": self.place.target_dir,
                "reports_log_dir": self.place.log_dir,
                **overrides,
            }
        )

    def environment(self) -> dict[str, str]:
        settings = self.reports_settings()
        env = {}
        for field in ReportsSettings.model_fields:
            value = getattr(settings, field)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None and value != "":
                env[env_name(field)] = str(value)
        return env

    def healthy(self) -> bool:
        """Fresh, or holding its loop for a build still in progress: the lease is how long one may
        take."""
        if super().healthy():
            return True
        age = self.loop_age()
        lease = self.reports_settings().reports_lease_seconds
        return age is not None and age[0] < lease and runs_live(self.s.dsn())

    def runs(self) -> tuple[runs.Run | None, runs.Run | None] | None:
        """The last run and the last succeeded one (None when the database does not answer)."""
        with contextlib.suppress(psycopg.Error):
            return runs.latest(self.s.dsn())
        return None


def runs_live(database_url: str) -> bool:
    with contextlib.suppress(psycopg.Error):
        return runs.live(database_url) is not None
    return False
