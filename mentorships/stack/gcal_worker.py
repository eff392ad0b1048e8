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
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from pydantic import SecretStr

from mentorships import jwt
from mentorships.settings import PROJECT_DIR
from mentorships.stack.services import Services
from mentorships.stack.worker_process import WorkerProcess
from sync.gcal.settings import GcalSettings
from sync.settings import ProviderSettings, env_name


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


class GcalWorker(WorkerProcess):
    NAME = "gcal"
    MODULE = "sync.gcal"
    WHAT = "the calendar sync"
    DEFAULT_POLL_SECONDS = 15

    @property
    def enabled(self) -> bool:
        return self.s.gcal_worker

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
