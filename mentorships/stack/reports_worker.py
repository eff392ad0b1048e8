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
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from pydantic import SecretStr

from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack.common import _await_started, _pid_alive, _stop_recorded, paths
from sync.messaging.worker import status_of
from sync.reports import dbt, runs
from sync.reports.settings import ReportsSettings
from sync.settings import env_name

STALE_POLLS = 3
STALE_MARGIN_SECONDS = 10


def describe_runs(last: runs.Run | None, ok: runs.Run | None, zone: ZoneInfo) -> str:
    """The last run's outcome and the reports' "as of", in `zone` (named)."""

    def at(t: dt.datetime | None) -> str:
        return "-" if t is None else t.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    if last is None:
        return "no build yet"
    last_text = f"last run #{last.id} ({last.trigger}) {last.outcome.upper() if last.outcome == 'failed' else last.outcome}"
    if last.outcome != "running":
        last_text += f" {at(last.finished_at)}"
    as_of = f"as of {at(ok.finished_at)} {zone.key}" if ok else "no succeeded build yet"
    return f"{last_text}; reports {as_of}"


class ReportsWorker:
    NEEDLE = "-m sync.reports"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def enabled(self) -> bool:
        return self.s.reports_worker

    @property
    def pid_file(self) -> Path:
        return self.p.state / "reports.pid"

    @property
    def env_file(self) -> Path:
        return self.p.state / "reports.env"

    @property
    def log(self) -> Path:
        return self.p.logs / "reports.log"

    @property
    def status_file(self) -> Path:
        return self.p.state / "reports-status.json"

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

    def config(self) -> str:
        return "".join(f"{k}={v}\n" for k, v in sorted(self.environment().items()))

    def pid(self) -> int | None:
        return _pid_alive(self.pid_file, self.NEEDLE)

    def healthy(self) -> bool:
        pid = self.pid()
        status = status_of(self.status_file)
        if not pid or status is None or status.get("pid") != pid or status.get("stopped"):
            return False
        try:
            last = dt.datetime.fromisoformat(str(status["last_loop_at"]))
            poll = float(status.get("poll_seconds") or 60)
        except (KeyError, ValueError):
            return False
        # A build in progress holds the loop: the lease is how long one may take.
        lease = self.reports_settings().reports_lease_seconds
        age = (dt.datetime.now(dt.UTC) - last).total_seconds()
        return age < STALE_POLLS * poll + STALE_MARGIN_SECONDS or (
            runs_live(self.s.dsn()) and age < lease
        )

    def runs(self) -> tuple[runs.Run | None, runs.Run | None] | None:
        """The last run and the last succeeded one (None when the database does not answer)."""
        with contextlib.suppress(psycopg.Error):
            return runs.latest(self.s.dsn())
        return None

    def start(self) -> bool:
        config = self.config()
        if self.pid():
            if self.env_file.exists() and self.env_file.read_text() == config:
                return False
            self.stop()  # running with other settings
        self.p.logs.mkdir(parents=True, exist_ok=True)
        self.env_file.touch(mode=0o600)
        self.env_file.chmod(0o600)
        self.env_file.write_text(config)
        self.status_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
        env.update(self.environment())
        with self.log.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sync.reports"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=PROJECT_DIR,
                env=env,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        _await_started(
            proc,
            self.healthy,
            self.pid_file,
            "the reports schedule did not report healthy",
            self.log,
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)


def runs_live(database_url: str) -> bool:
    with contextlib.suppress(psycopg.Error):
        return runs.live(database_url) is not None
    return False
