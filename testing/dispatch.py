"""The outbox dispatcher on the test stack (tests/sync/messaging/test_worker*.py, a benchmark, the
demo's checks): its settings pointed at the stack's gateway and Postgres, a world whose messages
are the only ones due (the clock frozen in March 2002, before anything another test queues), the
messages of every kind queued by the real rules, and worker processes to start and kill.

`python -m testing.dispatch` runs a dispatcher process from the environment (MENTORSHIPS_*) with
the transports `build_transports` picks: the file transport, or Resend and Discord's bot when
their keys are set (pointed at the fakes: `provider_overrides`). With MENTORSHIPS_TEST_STALL_AFTER=n
the transports of the channels in MENTORSHIPS_TEST_STALL_CHANNELS (default email) each deliver
n messages and then hang (a worker to `kill -9` mid-batch, after the provider took some messages
and before the worker reported any)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg.types.json import Jsonb

from mentorships import jwt
from mentorships.settings import PROJECT_DIR, Settings
from sync.messaging import worker
from sync.messaging.context import Channel
from sync.messaging.settings import WorkerSettings, load
from sync.messaging.transport import Outgoing, Transport
from testing.api import ok
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.discord import BOT_TOKEN, DiscordBotFake
from testing.fakes.resend import API_KEY, ResendFake

UTC = dt.UTC
# Monday 4 March 2002, 12:00 UTC (07:00 in New York): nothing another test queues is due then.
T = dt.datetime(2002, 3, 4, 12, 0, tzinfo=UTC)
SENDER = "Mentorships <messages@mentorships.test>"
DASHBOARD = "https://dashboard.example.test"
CALLS = "https://services.example.test"
# The unsubscribe links' secret (the services under test verify with the same one).
UNSUBSCRIBE_SECRET = "dispatch-tests-unsubscribe-secret-0123456789"


def worker_settings(settings: Settings, mail_dir: Path, **overrides: Any) -> WorkerSettings:
    """The dispatcher's settings on the test stack (no .env, no MENTORSHIPS_* of the caller)."""
    return load(
        _env_file=None,
        **{
            "supabase_url": settings.gateway_url,
            "supabase_service_role_key": jwt.service_role_key(settings),
            "messages_database_url": settings.dsn(),
            "mail_dir": mail_dir,
            "mail_from": SENDER,
            "dashboard_url": DASHBOARD,
            "call_page_url": CALLS,
            "unsubscribe_secret": UNSUBSCRIBE_SECRET,
            "messages_poll_seconds": 0.5,
            **overrides,
        },
    )


def provider_overrides(resend: ResendFake | None, discord: DiscordBotFake | None) -> dict[str, Any]:
    """worker_settings overrides that send email through Resend to `resend` (its rate limit
    high) and DMs through Discord's bot API to `discord` (the fakes' keys; a fake made with
    sender=SENDER)."""
    overrides: dict[str, Any] = {}
    if resend is not None:
        overrides |= {
            "resend_api_key": API_KEY,
            "resend_api_base": resend.url,
            "resend_rate_per_second": 1000,
        }
    if discord is not None:
        overrides |= {"discord_bot_token": BOT_TOKEN, "discord_api_base": discord.url}
    return overrides


def worker_env(ws: WorkerSettings) -> dict[str, str]:
    """The environment a worker process runs with these settings in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    env.update({k: v for k, v in ws.to_env().items() if v})
    return env


@dataclass
class World:
    """A mentor in New York and a student in Berlin (both with Discord linked), the student's
    4-session pack, the clock frozen at T."""

    scenario: Scenario
    clock: Clock
    mentor: uuid.UUID
    student: uuid.UUID
    pack: uuid.UUID

    @property
    def conn(self) -> psycopg.Connection:
        return self.scenario.conn

    def book(self, starts: dt.datetime) -> uuid.UUID:
        row = ok(
            self.scenario.api(self.student).rpc(
                "book_session", pack_id=self.pack, starts_at=starts.isoformat()
            )
        )
        return uuid.UUID(row["id"])

    def reschedule(self, session: uuid.UUID, starts: dt.datetime) -> None:
        ok(
            self.scenario.api(self.student).rpc(
                "reschedule_session", session_id=session, starts_at=starts.isoformat()
            )
        )

    def cancel(self, session: uuid.UUID, by: uuid.UUID | None = None) -> None:
        ok(self.scenario.api(by or self.student).rpc("cancel_session", session_id=session))

    def notify(
        self, recipients: list[uuid.UUID], kind: str, payload: dict[str, Any], **ids: Any
    ) -> None:
        """Queues a message as the rules do (private.notify), with their payload's shape."""
        self.conn.execute(
            "select private.notify(%s, %s, %s, %s, null, %s, %s)",
            (
                recipients,
                kind,
                f"test-dispatch:{kind}:{uuid.uuid4()}",
                Jsonb(payload),
                ids.get("session_id"),
                ids.get("pack_id"),
            ),
        )

    def messages(self, *where: str) -> list[dict[str, Any]]:
        """This world's messages (to its mentor or student), oldest first."""
        with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            rows = cur.execute(
                "select * from public.notifications where recipient_id = any(%s)"
                + "".join(f" and {w}" for w in where)
                + " order by id",
                ([self.mentor, self.student],),
            ).fetchall()
        return rows


@dataclass
class WorldFactory:
    scenario: Scenario
    clock: Clock

    def __call__(self) -> World:
        self.clock.freeze(T)
        mentor = self.scenario.mentor("America/New_York")
        self.scenario.conn.execute(
            "update public.profiles set display_name = 'Ana Ruiz', discord_user_id = %s where id = %s",
            (str(10**17 + mentor.int % 10**17), mentor),
        )
        self.scenario.conn.execute(
            "update public.mentors set public_name = 'Ana Ruiz' where id = %s", (mentor,)
        )
        student = self.scenario.person("student", "Europe/Berlin", discord=True)
        self.scenario.conn.execute(
            "update public.profiles set display_name = 'Ben Ito' where id = %s", (student,)
        )
        pack = self.scenario.pack(mentor, student, purchased_at=T - dt.timedelta(days=1))
        return World(self.scenario, self.clock, mentor, student, pack)


def forget_messages(conn: psycopg.Connection) -> None:
    """Deletes every message queued while the clock was in 2002 (this module's), so that no
    later test finds them due."""
    conn.execute(
        "delete from public.notifications where created_at >= '2002-01-01' and created_at < '2003-01-01'"
    )


def files(folder: Path) -> list[Path]:
    return (
        sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    )


# --- worker processes ---------------------------------------------------------------------------


class WorkerProcess:
    """`python -m testing.dispatch` with the given settings; stop() sends SIGTERM, kill() SIGKILL."""

    def __init__(
        self,
        ws: WorkerSettings,
        name: str,
        log: Path,
        *,
        stall_after: int | None = None,
        stall_channels: tuple[str, ...] = ("email",),
    ):
        env = worker_env(ws)
        env["MENTORSHIPS_MESSAGES_WORKER_NAME"] = name
        if stall_after is not None:
            env["MENTORSHIPS_TEST_STALL_AFTER"] = str(stall_after)
            env["MENTORSHIPS_TEST_STALL_CHANNELS"] = ",".join(stall_channels)
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "testing.dispatch"],
                cwd=PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_status(self, path: Path, check: Any, timeout: float = 30) -> dict[str, Any]:
        """Waits until the health file satisfies check(status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = worker.status_of(path)
            if status is not None and status.get("pid") == self.proc.pid and check(status):
                return status
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the worker exited ({self.proc.returncode}):\n{self.output()}"
                )
            time.sleep(0.02)
        raise AssertionError(f"the worker's status never matched:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


class Stalling:
    """A transport that delivers `after` messages through `inner`, then hangs on every further
    one (until killed)."""

    def __init__(self, inner: Transport, after: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.channel = inner.channel
        self.folder = getattr(inner, "folder", None)
        self.left = after

    async def send(self, message: Outgoing) -> str:
        if self.left <= 0:
            await asyncio.Event().wait()
        self.left -= 1
        return await self.inner.send(message)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _main() -> None:
    from sync import logs

    logs.configure("dispatcher")
    settings = load()
    stall = os.environ.get("MENTORSHIPS_TEST_STALL_AFTER")
    transports = worker.build_transports(settings)
    if stall is not None:
        for channel in os.environ.get("MENTORSHIPS_TEST_STALL_CHANNELS", "email").split(","):
            c = cast(Channel, channel)
            transports[c] = Stalling(transports[c], int(stall))
    asyncio.run(worker.serve(settings, transports))


if __name__ == "__main__":
    _main()
