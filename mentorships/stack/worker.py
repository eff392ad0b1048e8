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
from dataclasses import dataclass
from pathlib import Path

import psycopg

from mentorships import jwt
from mentorships.settings import PROJECT_DIR
from mentorships.stack.services import Services
from mentorships.stack.worker_process import WorkerProcess
from sync.messaging.settings import DEFAULT_MAIL_DIR, DeliverySettings, WorkerSettings

# The health file is stale (the loop hangs) after this many poll intervals, plus a margin.


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


class Worker(WorkerProcess):
    NAME = "worker"
    MODULE = "sync.messaging"
    WHAT = "the outbox dispatcher"
    DEFAULT_POLL_SECONDS = 5

    @property
    def enabled(self) -> bool:
        return self.s.messages_worker

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
