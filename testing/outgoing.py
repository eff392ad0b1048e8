"""Messages ready for a transport (sync.messaging.transport.Outgoing), rendered from the contexts
of testing/messages.py, as the dispatcher hands them over: for the transports' tests and the
delivery benchmarks."""

from __future__ import annotations

from typing import Any

from sync.messaging.context import Channel
from sync.messaging.templates import render
from sync.messaging.transport import Outgoing
from testing.messages import context

ADDRESS = "ben@example.org"
NAME = "Ben Ito"
DISCORD_USER = "80351110224678912"
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://services.example.org/unsubscribe/42>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def outgoing(
    kind: str,
    channel: Channel,
    *,
    notification_id: int = 42,
    dedupe_key: str | None = None,
    to: str | None = None,
    to_name: str = NAME,
    scenario: str = "Europe/Berlin",
    **context_overrides: Any,
) -> Outgoing:
    """One message of ``kind`` on ``channel``: an email to ADDRESS with the unsubscribe headers,
    or a Discord DM to DISCORD_USER; its dedupe key as the rules write them unless given."""
    rendered = render(
        context(kind, channel, scenario, notification_id=notification_id, **context_overrides)
    )
    return Outgoing(
        notification_id=notification_id,
        dedupe_key=dedupe_key or f"{kind}:{notification_id}:{channel}",
        kind=kind,
        channel=channel,
        to=to or (ADDRESS if channel == "email" else DISCORD_USER),
        to_name=to_name,
        rendered=rendered,
        headers=UNSUBSCRIBE if channel == "email" else {},
    )
