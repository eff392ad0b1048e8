"""The faults stack: Postgres (pg_cron running on the real clock), PostgREST, the gateway, the
services, the outbox dispatcher and the calendar sync, on ports of its own; Resend, Discord's bot
API and Google played by the strict fakes (testing/fakes/), which `outage()` takes down a while.

MENTORSHIPS_TEST_PORTS moves it (default 28320: gateway 28321, Postgres 28322, ...; the fakes on
base+40..42). The workers' leases are short (10 s), so a job a killed worker held is taken again
soon after; everything else is the stack's own start and stop (mentorships/stack/)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from mentorships import db
from mentorships.settings import Settings
from mentorships.stack import GcalWorker, Stack, Worker
from sync.gcal.settings import GcalSettings
from sync.messaging.settings import DeliverySettings, WorkerSettings
from testing.dispatch import SENDER
from testing.fakes.discord import BOT_TOKEN, DiscordBotFake
from testing.fakes.google import GoogleFake
from testing.fakes.resend import API_KEY, ResendFake
from testing.services import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_REDIRECT_URI,
    GOOGLE_TOKEN_KEY_1,
)
from testing.stacks import _FixedSettings, generous_rate_limits

FAULTS_PORT_BASE = 28320
LEASE_SECONDS = 10  # the workers' claims: a killed worker's jobs are taken again after this


def port_base() -> int:
    base = int(os.environ.get("MENTORSHIPS_TEST_PORTS") or FAULTS_PORT_BASE)
    if not 1024 <= base <= 32700:
        raise ValueError(f"MENTORSHIPS_TEST_PORTS must be between 1024 and 32700, not {base}")
    return base


def faults_settings(google: GoogleFake, base: int | None = None, **overrides: Any) -> Settings:
    """The faults stack's settings: its own cluster (`faults-<base>`) and ports, every worker on
    but the reports', Google's client pointed at the fake."""
    base = base or port_base()
    return _FixedSettings(
        **{
            "stack": f"faults-{base}",
            "gateway_port": base + 1,
            "db_port": base + 2,
            "postgrest_port": base + 5,
            "postgrest_admin_port": base + 6,
            "paypal_local_port": base + 7,
            "google_local_port": base + 8,
            "services_port": base + 10,
            "dashboards_port": base + 11,
            "ephemeral": True,
            "messages_worker": True,
            "gcal_worker": True,
            "reports_worker": False,
            "dashboards": False,
            "google_local": False,
            "google_client_id": GOOGLE_CLIENT_ID,
            "google_client_secret": SecretStr(GOOGLE_CLIENT_SECRET),
            "google_redirect_uri": GOOGLE_REDIRECT_URI,
            "google_token_keys": SecretStr(GOOGLE_TOKEN_KEY_1),
            "google_oauth_base": google.url,
            "google_api_base": google.url,
            # The load comes from one address for many users: limits on (every request passes
            # the real limit_req zones) that it never reaches; a 429 counts as a failed request.
            **generous_rate_limits(),
            **overrides,
        }
    )


class FaultsWorker(Worker):
    """The stack's dispatcher with Resend and Discord's bot at the fakes, a short lease."""

    def __init__(self, settings: Settings, resend: ResendFake, discord: DiscordBotFake) -> None:
        super().__init__(settings)
        self.resend = resend
        self.discord = discord

    def delivery(self) -> DeliverySettings:
        return DeliverySettings(
            _env_file=None,
            resend_api_key=API_KEY,
            resend_api_base=self.resend.url,
            resend_rate_per_second=1000,
            discord_bot_token=BOT_TOKEN,
            discord_api_base=self.discord.url,
            mail_from=SENDER,
        )

    def worker_settings(self) -> WorkerSettings:
        return (
            super()
            .worker_settings()
            .model_copy(
                update={"messages_lease_seconds": LEASE_SECONDS, "messages_poll_seconds": 1.0}
            )
        )


class FileWorker(Worker):
    """The stack's dispatcher in local mode: every message a file in `folder`, a short lease."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        super().__init__(settings)
        self.folder = folder

    def delivery(self) -> DeliverySettings:
        return DeliverySettings(_env_file=None, mail_from=SENDER, mail_dir=self.folder)

    def worker_settings(self) -> WorkerSettings:
        return (
            super()
            .worker_settings()
            .model_copy(
                update={"messages_lease_seconds": LEASE_SECONDS, "messages_poll_seconds": 1.0}
            )
        )


class FaultsGcal(GcalWorker):
    """The stack's calendar sync with short leases and a short HTTP timeout."""

    def gcal_settings(self, **overrides: Any) -> GcalSettings:
        return super().gcal_settings(
            gcal_jobs_lease_seconds=LEASE_SECONDS,
            gcal_lease_seconds=LEASE_SECONDS,
            gcal_poll_seconds=2.0,
            gcal_http_timeout_seconds=5.0,
            **overrides,
        )


@dataclass
class Faults:
    """The running faults stack and its fakes."""

    stack: Stack
    resend: ResendFake
    discord: DiscordBotFake
    google: GoogleFake

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    def fakes(self) -> tuple[ResendFake, DiscordBotFake, GoogleFake]:
        return self.resend, self.discord, self.google


def start_components(stack: Stack) -> None:
    """Everything after Postgres, in the order `up` starts it."""
    stack.postgrest.start()
    stack.gateway.start()
    stack.services.start()
    stack.worker.start()
    stack.gcal.start()


@contextlib.contextmanager
def running_faults_stack(base: int | None = None) -> Iterator[Faults]:
    """The faults stack on an empty database with the rules applied (pg_cron running), its fakes
    started; all stopped afterwards, also on failure."""
    base = base or port_base()
    google = GoogleFake(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        redirect_uri=GOOGLE_REDIRECT_URI,
        port=base + 40,
    )
    resend = ResendFake(api_key=API_KEY, sender=SENDER, port=base + 41)
    discord = DiscordBotFake(bot_token=BOT_TOKEN, port=base + 42, limit=10_000)
    settings = faults_settings(google, base)
    stack = Stack(settings)
    stack.worker = FaultsWorker(settings, resend, discord)
    stack.gcal = FaultsGcal(settings)
    try:
        for _ in stack.stop():  # leftovers of an interrupted run
            pass
        stack.postgres.start()
        db.reset(settings)
        db.apply(settings)
        start_components(stack)
        yield Faults(stack, resend, discord, google)
    finally:
        for _ in stack.stop():
            pass
        for fake in (resend, discord, google):
            fake.close()
