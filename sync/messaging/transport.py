"""What the dispatcher hands a provider, and what a provider answers.

The dispatcher (sync/messaging/worker.py) claims messages, renders them and gives each one, as
an ``Outgoing``, to the transport of its channel: Resend or the file transport for email,
Discord or the file transport for Discord. A transport answers the provider's message id, or
raises ``DeliveryFailed``; the dispatcher reports either to the rules (notification_sent,
notification_failed), which decide what happens next. A transport decides nothing but whether a
failure is permanent and how long the provider asked it to wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sync.messaging.context import Channel
from sync.messaging.templates import Rendered


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """One message ready to go.

    - ``dedupe_key``: the outbox row's dedupe_key, the provider's idempotency key (Resend's
      Idempotency-Key; Discord's nonce is derived from it), so a message claimed again after a
      crash is not delivered twice;
    - ``to``: an email address, or a Discord user id (a snowflake, as text);
    - ``headers``: extra email headers (List-Unsubscribe, List-Unsubscribe-Post); none for Discord;
    - ``queued_at``: when the message was queued (the file transport's Date, so a message
      delivered again is the same file).
    """

    notification_id: int
    dedupe_key: str
    kind: str
    channel: Channel
    to: str
    to_name: str
    rendered: Rendered
    headers: Mapping[str, str] = field(default_factory=dict)
    queued_at: datetime | None = None


class DeliveryFailed(Exception):
    """The provider did not take the message. ``permanent``: trying again cannot help (an
    unknown or refused address, a bot the user blocked, a message the provider refuses as it
    is). ``retry_after``: seconds the provider asked to wait (a 429), if it said."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class Transport(Protocol):
    """Delivers the messages of one channel. ``name`` says where they go (resend, discord,
    file), for logs and for `mentorships status`."""

    name: str
    channel: Channel

    async def send(self, message: Outgoing) -> str:
        """Delivers one message; answers the provider's message id. Raises DeliveryFailed."""
        ...

    async def aclose(self) -> None:
        """Releases connections; called once when the dispatcher stops."""
        ...
