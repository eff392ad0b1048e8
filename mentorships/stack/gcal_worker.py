"""The calendar sync (sync/gcal/), a component of its own: `python -m sync.gcal` started with the
environment the stack renders for it, as the outbox dispatcher is (mentorships/stack/worker.py).

It gets the stack's gateway and service-role key, the services' Google client and token keys (in
local Google mode the local Google's address and client), its MENTORSHIPS_GCAL_* settings from the
environment (.env), and rewrites `.local/<stack>/gcal-status.json` each loop; healthy means that
file is fresh and names the running process. `mentors()` reads every connected mentor's sync for
`status` (private.calendar_sync_status, the admins' view). MENTORSHIPS_GCAL_WORKER=false leaves
it out (the test stack: tests run their own)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from pydantic import SecretStr

from mentorships import jwt
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack.common import _await_started, _pid_alive, _stop_recorded, paths
from mentorships.stack.services import Services
from sync.gcal.settings import GcalSettings
from sync.messaging.worker import status_of
from sync.settings import ProviderSettings, env_name

STALE_POLLS = 3
STALE_MARGIN_SECONDS = 10


@dataclass(frozen=True)
class MentorSync:
    """One connected mentor's sync, as admins see it (calendar_sync_status)."""

    name: str
    last_synced_at: dt.datetime | None
    revoked_at: dt.datetime | None
    failures: int
    closed_because: str | None

    def describe(self, zone: ZoneInfo) -> str:
        def at(t: dt.datetime) -> str:
            return t.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        last = f"last synced {at(self.last_synced_at)}" if self.last_synced_at else "never synced"
        if self.revoked_at:
            mark = f"REVOKED {at(self.revoked_at)} (invalid_grant: must reconnect)"
        elif self.closed_because:
            mark = "STALE (slots closed)"
        else:
            mark = "fresh"
        failures = f", {self.failures} failure(s) in a row" if self.failures else ""
        return f"{self.name}: {last}, {mark}{failures}"


class GcalWorker:
    NEEDLE = "-m sync.gcal"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def enabled(self) -> bool:
        return self.s.gcal_worker

    @property
    def pid_file(self) -> Path:
        return self.p.state / "gcal.pid"

    @property
    def env_file(self) -> Path:
        return self.p.state / "gcal.env"

    @property
    def log(self) -> Path:
        return self.p.logs / "gcal.log"

    @property
    def status_file(self) -> Path:
        return self.p.state / "gcal-status.json"

    def gcal_settings(self, **overrides: Any) -> GcalSettings:
        """What the calendar sync runs with (the demo's syncs too): the MENTORSHIPS_GCAL_* of
        the environment, the stack's gateway and key, the services' Google settings."""
        effective = Services(self.s).effective_settings()
        own = GcalSettings(_env_file=PROJECT_DIR / ".env")
        values = {f: getattr(own, f) for f in GcalSettings.model_fields if f.startswith("gcal_")}
        return GcalSettings.model_validate(
            {
                **{f: getattr(effective, f) for f in ProviderSettings.model_fields},
                **values,
                "supabase_url": self.s.gateway_url,
                "supabase_service_role_key": jwt.service_role_key(self.s),
                "gcal_worker_name": own.gcal_worker_name or f"{self.s.stack}-gcal",
                "gcal_status_file": self.status_file,
                # LISTEN calendar_sync_due on the stack's own database (a push wakes the worker).
                "gcal_database_url": own.gcal_database_url or self.s.dsn(),
                "google_webhook_url": own.google_webhook_url,
                **overrides,
            }
        )

    def environment(self) -> dict[str, str]:
        settings = self.gcal_settings()
        env = {}
        for field in GcalSettings.model_fields:
            value = getattr(settings, field)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, tuple):
                value = ",".join(value)
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
            poll = float(status.get("poll_seconds") or 15)
        except (KeyError, ValueError):
            return False
        age = (dt.datetime.now(dt.UTC) - last).total_seconds()
        return age < STALE_POLLS * poll + STALE_MARGIN_SECONDS

    def mentors(self) -> list[MentorSync] | None:
        """Every connected mentor's sync, revoked first, then the stalest (None when the
        database does not answer)."""
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self.s.dsn(), autocommit=True, connect_timeout=3) as conn,
        ):
            rows = conn.execute(
                "select coalesce(public_name, mentor_id::text), last_synced_at, revoked_at,"
                " failures, closed_because from private.calendar_sync_status()"
            ).fetchall()
            return [MentorSync(r[0], r[1], r[2], int(r[3] or 0), r[4]) for r in rows]
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
                [sys.executable, "-m", "sync.gcal"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=PROJECT_DIR,
                env=env,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        _await_started(
            proc, self.healthy, self.pid_file, "the calendar sync did not report healthy", self.log
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)
