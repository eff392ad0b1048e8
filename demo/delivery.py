"""The demo's messages, delivered by the real outbox dispatcher (sync/messaging/worker.py).

The seed drains the outbox itself whenever a message falls due on its frozen clock: the
dispatcher claims through the gateway as the service role (claim_messages), renders, writes each
message to the stack's mail folder with the file transports, and reports (report_notifications),
so the rules decide what is sent, retried, failed or voided. The stack's own dispatcher is
stopped meanwhile (demo/stage.py says why). One student has blocked the bot: Discord answers
their DMs 403 (code 50007), which BlockedBot plays."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack import Worker
from sync.messaging.context import Channel
from sync.messaging.files import EXTENSIONS, FileTransport, file_stem
from sync.messaging.outbox import OutboxError
from sync.messaging.transport import DeliveryFailed, Outgoing, Transport
from sync.messaging.worker import Dispatcher, DrainResult

# What Discord answers a bot the user blocked: HTTP 403, JSON error code 50007, a permanent
# failure (sync/discord/dm.py words it "discord 403 50007: ... (the user blocked the bot)").
BLOCKED = "Discord API 403 (50007): Cannot send messages to this user"


class BlockedBot:
    """The Discord file transport, except that the DMs of one Discord user who blocked the bot
    fail for good, as Discord's API answers them."""

    channel: Channel = "discord"

    def __init__(self, inner: FileTransport) -> None:
        self.inner = inner
        self.name = inner.name
        self.folder = inner.folder
        self.blocked: str | None = None  # that user's Discord id

    async def send(self, message: Outgoing) -> str:
        if self.blocked is not None and message.to == self.blocked:
            raise DeliveryFailed(BLOCKED, permanent=True)
        return await self.inner.send(message)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Delivery:
    """A dispatcher with the file transports on the stack's mail folder, named `<stack>-seed` in
    claimed_by, and an event loop of its own kept for the run (drain() is called from
    synchronous code, hundreds of times)."""

    def __init__(self, settings: Settings) -> None:
        worker = Worker(settings)
        ws = worker.worker_settings().model_copy(
            update={"messages_worker_name": f"{settings.stack}-seed", "messages_status_file": None}
        )
        self.folder = worker.mail_dir
        self.discord = BlockedBot(FileTransport("discord", self.folder, sender=ws.mail_from))
        transports: dict[Channel, Transport] = {
            "email": FileTransport("email", self.folder, sender=ws.mail_from),
            "discord": self.discord,
        }
        self.dispatcher = Dispatcher(ws, transports, str(ws.messages_worker_name))
        self._loop = asyncio.Runner()

    def drain(self) -> DrainResult:
        """Delivers every message due by the shared clock (what one wake-up of the dispatcher
        does)."""
        try:
            return self._loop.run(self.dispatcher.drain())
        except OutboxError as e:
            raise StackError(f"seed: delivering the messages failed: {e}") from e

    def close(self) -> None:
        try:
            self._loop.run(self.dispatcher.aclose())
        finally:
            self._loop.close()


def forget_files(folder: Path, messages: list[tuple[str, str]]) -> int:
    """Removes the files the file transport wrote for these (dedupe_key, channel) messages;
    answers how many there were."""
    removed = 0
    for key, channel in messages:
        extension = EXTENSIONS.get(channel)  # type: ignore[call-overload]
        if extension is None:
            continue
        path = folder / (file_stem(key) + extension)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
