"""The outbox dispatcher (sync/messaging/), a component of its own: `python -m sync.messaging`
started with the environment the stack renders for it, as the services are.

It gets the stack's gateway and service-role key, a direct Postgres URL to LISTEN on, the call
page on the stack's services, and the delivery settings of the environment (.env): Resend and
Discord's bot when their keys are set, otherwise the file transport in `.local/<stack>/mail/`
(unless MENTORSHIPS_MAIL_DIR says otherwise). It rewrites `.local/<stack>/worker-status.json`
each loop; healthy means that file is fresh and names the running process.
MENTORSHIPS_MESSAGES_WORKER=false leaves it out (the test stack: tests run their own)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg

from mentorships import jwt
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack.common import _await_started, _pid_alive, _stop_recorded, paths
from mentorships.stack.services import Services
from sync.messaging.settings import DEFAULT_MAIL_DIR, DeliverySettings, WorkerSettings
from sync.messaging.worker import status_of

# The health file is stale (the loop hangs) after this many poll intervals, plus a margin.
STALE_POLLS = 3
STALE_MARGIN_SECONDS = 10


@dataclass(frozen=True)
class Queue:
    """Messages due now (pending) and how long the oldest has waited, by the business clock."""

    due: int
    oldest_age: dt.timedelta | None

    def describe(self) -> str:
        if not self.due:
            return "queue: nothing due"
        age = int(self.oldest_age.total_seconds()) if self.oldest_age else 0
        return f"queue: {self.due} due, the oldest for {age} s"


class Worker:
    NEEDLE = "-m sync.messaging"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def enabled(self) -> bool:
        return self.s.messages_worker

    @property
    def pid_file(self) -> Path:
        return self.p.state / "worker.pid"

    @property
    def env_file(self) -> Path:
        return self.p.state / "worker.env"

    @property
    def log(self) -> Path:
        return self.p.logs / "worker.log"

    @property
    def status_file(self) -> Path:
        return self.p.state / "worker-status.json"

    def delivery(self) -> DeliverySettings:
        """The delivery settings of the environment (and the project's .env)."""
        return DeliverySettings(_env_file=PROJECT_DIR / ".env")

    @property
    def mail_dir(self) -> Path:
        delivery = self.delivery()
        if delivery.mail_dir != DEFAULT_MAIL_DIR:
            return delivery.mail_dir
        return self.p.state / "mail"

    def worker_settings(self) -> WorkerSettings:
        delivery = self.delivery()
        values = {field: getattr(delivery, field) for field in DeliverySettings.model_fields}
        if "call_page_url" not in delivery.model_fields_set:  # the stack's own services
            values["call_page_url"] = self.s.services_url
        return WorkerSettings.model_validate(
            {
                **values,
                "mail_dir": self.mail_dir,
                "supabase_url": self.s.gateway_url,
                "supabase_service_role_key": jwt.service_role_key(self.s),
                "messages_database_url": self.s.dsn(),
                "messages_worker_name": f"{self.s.stack}-worker",
                "messages_status_file": self.status_file,
                # The services' own (the local one from provider-secrets.json when unset).
                "unsubscribe_secret": Services(self.s).effective_settings().unsubscribe_secret,
            }
        )

    def transports(self) -> dict[str, str]:
        """Where each channel's messages go (without starting anything)."""
        d = self.delivery()
        return {
            "email": "Resend" if d.resend_api_key else f"file ({self.mail_dir})",
            "discord": "Discord" if d.discord_bot_token else f"file ({self.mail_dir})",
        }

    def environment(self) -> dict[str, str]:
        return {k: v for k, v in self.worker_settings().to_env().items() if v}

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
            poll = float(status.get("poll_seconds") or 5)
        except (KeyError, ValueError):
            return False
        age = (dt.datetime.now(dt.UTC) - last).total_seconds()
        return age < STALE_POLLS * poll + STALE_MARGIN_SECONDS

    def queue(self) -> Queue | None:
        """The queue by the business clock (None when the database does not answer)."""
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self.s.dsn(), autocommit=True, connect_timeout=3) as conn,
        ):
            row = conn.execute(
                "select count(*), private.clock_now() - min(greatest(send_after, next_attempt_at))"
                " from public.notifications where status = 'pending'"
                " and greatest(send_after, next_attempt_at) <= private.clock_now()"
            ).fetchone()
            if row is not None:
                return Queue(int(row[0]), row[1])
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
                [sys.executable, "-m", "sync.messaging"],
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
            "the outbox dispatcher did not report healthy",
            self.log,
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)
