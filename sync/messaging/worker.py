"""The outbox dispatcher: `python -m sync.messaging`.

A loop of batches: claim due messages with what their templates need (claim_messages, one call),
render each one, hand it to its channel's transport (concurrently, bounded; one failure stops
no other), report the outcomes (report_notifications, one call). The rules decide everything
else (sql/rules/outbox.sql): what is due, leases, retries with backoff, giving up, voiding the
messages of a session that was canceled or moved. The worker keeps nothing a restart would lose.

It wakes on `LISTEN notifications_due` (a trigger notifies when a message due now commits) when
it has a direct database URL, and polls every few seconds anyway (reminders falling due,
retries, a missed notify). SIGTERM or SIGINT: it finishes the sends in flight, reports them and
exits. Each loop it rewrites a small JSON health file (MENTORSHIPS_MESSAGES_STATUS_FILE, see
write_status), which `mentorships status` reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from sync import logs
from sync.messaging.context import CHANNELS, Channel, MessageError
from sync.messaging.files import FileTransport
from sync.messaging.outbox import Batch, Claimed, Outbox, OutboxError
from sync.messaging.settings import WorkerSettings, load
from sync.messaging.templates import render
from sync.messaging.transport import DeliveryFailed, Outgoing, Transport
from sync.messaging.unsubscribe import unsubscribe_headers
from sync.observability import worker_errors
from sync.settings import ConfigError
from sync.worker_health import refuse_to_start, write_health

log = logging.getLogger("sync.messaging")

# sysexits.h EX_CONFIG, as the services.
# How long to wait before calling the database API again after it failed.
OUTBOX_RETRY_SECONDS = 2.0


@dataclass
class DrainResult:
    """What a drain did: messages sent, failed for good, back to pending for a retry, and voided
    by the claim (their session was canceled or moved)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    voided: int = 0

    def add(self, other: DrainResult) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried
        self.voided += other.voided

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.retried + self.voided


def describe(transport: Transport) -> str:
    """What a transport is, for logs and the health file: its name, and a file transport's folder."""
    folder = getattr(transport, "folder", None)
    return f"{transport.name} ({folder})" if folder is not None else transport.name


def build_transports(settings: WorkerSettings) -> dict[Channel, Transport]:
    """Resend for email when MENTORSHIPS_RESEND_API_KEY is set, Discord's bot for DMs when
    MENTORSHIPS_DISCORD_BOT_TOKEN is; otherwise the file transport in the mail folder. Logs which
    each channel uses."""
    transports: dict[Channel, Transport] = {}
    if settings.resend_api_key is not None:
        resend: Any = importlib.import_module("sync.resend.transport")
        transports["email"] = resend.ResendTransport(
            api_key=settings.resend_api_key.get_secret_value(),
            api_base=settings.resend_api_base,
            sender=settings.mail_from,
            rate_per_second=settings.resend_rate_per_second,
            # A send that outlived the lease could be claimed and sent a second time meanwhile.
            timeout_seconds=min(
                resend.REQUEST_TIMEOUT_SECONDS, settings.messages_lease_seconds / 2
            ),
        )
    else:
        transports["email"] = FileTransport("email", settings.mail_dir, sender=settings.mail_from)
    if settings.discord_bot_token is not None:
        discord: Any = importlib.import_module("sync.discord.dm")
        transports["discord"] = discord.DiscordTransport(
            bot_token=settings.discord_bot_token.get_secret_value(),
            api_base=settings.discord_api_base + discord.API_PATH,
            # A send that outlived the lease could be claimed and sent a second time meanwhile.
            timeout_seconds=min(discord.SEND_TIMEOUT_SECONDS, settings.messages_lease_seconds / 2),
        )
    else:
        transports["discord"] = FileTransport(
            "discord", settings.mail_dir, sender=settings.mail_from
        )
    for channel, transport in transports.items():
        local = isinstance(transport, FileTransport)
        log.info(
            f"{channel} goes to {describe(transport)}"
            + (" (local mode: no provider key is set)" if local else ""),
            extra={"channel": channel, "transport": describe(transport)},
        )
    return transports


class Dispatcher:
    """Delivers the outbox with the given transports (one per channel) as `worker_name`."""

    def __init__(
        self,
        settings: WorkerSettings,
        transports: Mapping[Channel, Transport],
        worker_name: str,
    ) -> None:
        self.settings = settings
        self.transports = dict(transports)
        self.worker_name = worker_name
        self.totals = DrainResult()
        self.listening = False
        self._http: aiohttp.ClientSession | None = None
        self._outbox: Outbox | None = None
        self._sending = asyncio.Semaphore(settings.messages_concurrency)
        self._started = datetime.now(UTC)

    async def __aenter__(self) -> Dispatcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _api(self) -> Outbox:
        if self._outbox is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=8),
                timeout=aiohttp.ClientTimeout(total=30),
            )
            self._outbox = Outbox(self.settings, self._http)
        return self._outbox

    async def aclose(self) -> None:
        """Closes the database API's connections and every transport (once)."""
        if self._http is not None:
            await self._http.close()
            self._http = self._outbox = None
        transports, self.transports = self.transports, {}
        for transport in transports.values():
            with contextlib.suppress(Exception):
                await transport.aclose()

    # --- one batch ------------------------------------------------------------------------------

    async def drain(self, stop: asyncio.Event | None = None) -> DrainResult:
        """Claims and delivers batches until nothing is due (or `stop` is set between batches):
        a batch smaller than the claim's size took all that was due, unless it voided or failed
        some (a failure queues the admins' message). Answers what it did. A batch in flight is always finished and reported."""
        result = DrainResult()
        while stop is None or not stop.is_set():
            batch = await self._api().claim(
                self.worker_name,
                self.settings.messages_batch_size,
                self.settings.messages_lease_seconds,
            )
            result.voided += batch.voided
            if not batch.messages:
                if batch.voided:
                    continue  # the claim voided a whole batch; more may be due
                break
            done = await self._deliver(batch)
            result.add(done)
            if len(batch.messages) < self.settings.messages_batch_size and not (
                batch.voided or done.failed
            ):
                break  # the claim took all that was due (a failure may have queued the admins')
        self.totals.add(result)
        return result

    async def _deliver(self, batch: Batch) -> DrainResult:
        outcomes = list(await asyncio.gather(*(self._one(m) for m in batch.messages)))
        answers = await self._report(outcomes)
        done = DrainResult()
        for answer in answers:
            status = answer.get("status")
            if status == "sent":
                done.sent += 1
            elif status == "failed":
                done.failed += 1
            elif status == "pending":
                done.retried += 1
        return done

    async def _report(self, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Reports a batch's outcomes, trying again while the database API is out of reach (the
        messages were sent: losing the report would send them again when their lease runs out)."""
        deadline = time.monotonic() + self.settings.messages_lease_seconds / 2
        while True:
            try:
                return await self._api().report(outcomes)
            except OutboxError as e:
                if time.monotonic() > deadline:
                    raise
                log.warning("reporting failed; trying again", extra={"error": str(e)})
                await asyncio.sleep(OUTBOX_RETRY_SECONDS)

    async def _one(self, message: Claimed) -> dict[str, Any]:
        """Renders and sends one message; answers its outcome for report_notifications."""
        base = {"id": message.id}
        # What each line about it says: the request that queued it joins it to that request's logs.
        about = {
            "notification_id": message.id,
            "kind": message.kind,
            "channel": message.channel,
            "request_id": message.request_id,
        }
        transport = self.transports.get(message.channel)  # type: ignore[call-overload]
        if transport is None:
            return {**base, "error": f"no transport for the {message.channel} channel"}
        address = message.address
        if address is None:
            what = "email address" if message.channel == "email" else "linked Discord account"
            return {**base, "error": f"the recipient has no {what}", "permanent": True}
        try:
            ctx = message.context(
                dashboard_url=self.settings.dashboard_url,
                services_url=self.settings.call_page_url,
                sender=self.settings.sender_address,
            )
            outgoing = Outgoing(
                notification_id=message.id,
                dedupe_key=message.dedupe_key,
                kind=message.kind,
                channel=ctx.channel,
                to=address,
                to_name=ctx.recipient_name,
                rendered=render(ctx),
                headers=self._headers(message),
                queued_at=ctx.queued_at,
            )
        except MessageError as e:
            return {**base, "error": f"cannot render: {e}", "permanent": True}
        try:
            async with self._sending:
                provider_id = await transport.send(outgoing)
        except DeliveryFailed as e:
            log.info(
                "delivery failed",
                extra={**about, "error": e.reason, "permanent": e.permanent},
            )
            return {**base, "error": e.reason or "delivery failed", "permanent": e.permanent}
        except Exception as e:  # a transport's bug or an unexpected answer: retried, logged
            log.exception("transport error", extra=about)
            return {**base, "error": f"{type(e).__name__}: {e}"[:2000]}
        log.info("message sent", extra=about)
        return {**base, "sent": True, "provider_message_id": provider_id[:500] or None}

    def _headers(self, message: Claimed) -> dict[str, str]:
        """An email's List-Unsubscribe headers when its kind may be turned off ({} otherwise)."""
        if message.channel != "email":
            return {}
        return unsubscribe_headers(
            recipient_id=message.recipient_id,
            kind=message.kind,
            channel=message.channel,
            services_url=self.settings.call_page_url,
            secret=self.settings.unsubscribe_key,
        )

    # --- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Drains, then waits for a wake-up (LISTEN) or the poll interval, until `stop` is set;
        then closes the transports. Database API failures are logged and retried."""
        wake = asyncio.Event()
        listener = None
        if self.settings.messages_database_url is not None:
            listener = asyncio.create_task(self._listen(wake, stop))
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    result = await self.drain(stop)
                    if result.total:
                        log.info("drained", extra=asdict(result))
                except OutboxError as e:
                    log.error("the database API failed", extra={"error": str(e)})
                    await _wait_any(stop, None, OUTBOX_RETRY_SECONDS)
                self.write_status()
                await _wait_any(stop, wake, self.settings.messages_poll_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            self.write_status(stopped=True)
            await self.aclose()

    async def _listen(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        """LISTEN notifications_due on a direct connection; each notify sets `wake`. Reconnects
        after a lost connection (the poll covers the gap)."""
        import psycopg

        assert self.settings.messages_database_url is not None
        dsn = self.settings.messages_database_url.get_secret_value()
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute("listen notifications_due")
                    self.listening = True
                    wake.set()  # anything that committed before the LISTEN
                    async for _ in conn.notifies():
                        wake.set()
            except psycopg.Error as e:
                log.warning("LISTEN connection lost", extra={"error": str(e)})
            finally:
                self.listening = False
            await _wait_any(stop, None, OUTBOX_RETRY_SECONDS)

    def status(self, *, stopped: bool = False) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "worker": self.worker_name,
            "started_at": self._started.isoformat(),
            "last_loop_at": datetime.now(UTC).isoformat(),
            "poll_seconds": self.settings.messages_poll_seconds,
            "listening": self.listening,
            "stopped": stopped,
            "transports": {c: describe(t) for c, t in self.transports.items()},
            **asdict(self.totals),
        }

    def write_status(self, *, stopped: bool = False) -> None:
        """Rewrites the health file (atomically), when one is set: {pid, worker, started_at,
        last_loop_at, poll_seconds, listening, stopped, transports, sent, failed, retried,
        voided}; the counts are since start."""
        write_health(self.settings.messages_status_file, self.status(stopped=stopped))


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event | None, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def serve(
    settings: WorkerSettings, transports: Mapping[Channel, Transport] | None = None
) -> None:
    """Runs a dispatcher until SIGTERM or SIGINT (then finishes the sends in flight)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    name = settings.messages_worker_name or default_worker_name()
    dispatcher = Dispatcher(settings, transports or build_transports(settings), name)
    log.info(
        "dispatcher started",
        extra={
            "worker": name,
            "rest_url": settings.rest_url,
            "listen": settings.messages_database_url is not None,
            "channels": list(CHANNELS),
        },
    )
    await dispatcher.run(stop)
    log.info("dispatcher stopped", extra={"worker": name, **asdict(dispatcher.totals)})


def main() -> None:
    """The dispatcher from the environment (and .env) alone; exit 78 naming each variable
    missing or malformed."""
    logs.configure("dispatcher")
    try:
        settings = load()
    except ConfigError as e:
        refuse_to_start(e)
    key = settings.supabase_service_role_key
    assert key is not None  # load() refuses settings without it
    errors = worker_errors.install("dispatcher", settings.rest_url, key.get_secret_value())
    try:
        asyncio.run(serve(settings))
    finally:
        errors.close()


def status_of(path: Path) -> dict[str, Any] | None:
    """A worker's health file, read (None when absent or unreadable)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data
