"""Discord messages as direct messages from the bot, over Discord's REST API only (no gateway
connection), through discord.py's HTTP client, so discord.py's own rate limiting does the
waiting: per-route buckets from the X-RateLimit-* headers, 429s with their retry_after, the
global limit.

    transport = DiscordTransport(bot_token=..., api_base="https://discord.com/api/v10")
    # api_base: MENTORSHIPS_DISCORD_API_BASE + API_PATH
    message_id = await transport.send(outgoing)    # or DeliveryFailed
    await transport.aclose()

A send logs in once (``static_login``: ``GET /users/@me``), opens the person's DM channel once
(``POST /users/@me/channels``, cached per user) and posts the message
(``POST /channels/{id}/messages``) with ``nonce`` (the first 25 hex digits of the SHA-256 of the
dedupe key: Discord takes at most 25 characters) and ``enforce_nonce: true``, so Discord answers
a message sent again with the same nonce with the first one instead of posting it twice (Discord
checks "the past few minutes", not days), and ``allowed_mentions: {"parse": []}`` so no text in
it pings anyone.

**The API base.** discord.py builds every URL from the class attribute ``discord.http.Route.BASE``
(``https://discord.com/api/v10``), shared by everything in the process that uses discord.py.
This transport leaves it alone: its HTTP client (a subclass of ``discord.http.HTTPClient``)
moves each route it sends from ``Route.BASE`` onto its own ``api_base``, so a transport pointed
at a local fake and any other discord.py user in the same process do not disturb each other.

**A time limit.** discord.py tries a 500, 502, 504 or 524 again by itself, up to five times
over 25 s, and its session has no time limit of its own, so a Discord that is down or hangs
could hold a send (and the dispatcher's batch) for minutes, past the claim's lease. Each send
has ``timeout_seconds`` in all (default SEND_TIMEOUT_SECONDS; the dispatcher passes at most
half its lease): then it is cancelled and reported temporary, and the outbox's rules retry it
with their backoff. A post Discord took before it was cancelled is answered with the first
one when sent again (the nonce).

**Verdicts.** 50007 (the user blocked the bot), 50278 (cannot send messages to this user: DMs
closed, no mutual server), 10013 (unknown user), 50035 (Discord refuses the message as it is) and
any other 400, and a recipient that is not a Discord user id: permanent. A 429 discord.py stopped waiting for
(after five tries, or a wait over MAX_WAIT_SECONDS), 5xx, network errors, 10003 (the cached DM
channel is gone: opened again next time): temporary. A refused bot token (401) or a bot
without access (403 other than those above) is a configuration error: logged as one, reported
temporary, and the next send logs in again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import aiohttp
from discord import AllowedMentions
from discord.errors import HTTPException, LoginFailure, RateLimited
from discord.http import HTTPClient, Route, handle_message_parameters

from sync.messaging.context import Channel
from sync.messaging.transport import DeliveryFailed, Outgoing

log = logging.getLogger("sync.discord")

# The REST API's path under Discord's base URL (MENTORSHIPS_DISCORD_API_BASE).
API_PATH = "/api/v10"
NONCE_LENGTH = 25
# discord.py waits out rate limits up to this long (its smallest allowed max_ratelimit_timeout);
# a longer one is reported (DeliveryFailed(retry_after=...)) and the rules retry it later.
MAX_WAIT_SECONDS = 30.0
# A send's time in all: logging in, opening the DM channel, posting, discord.py's own tries.
SEND_TIMEOUT_SECONDS = 30.0
# Discord's JSON error codes that refuse this message for good.
PERMANENT_CODES = {
    50007: "the user blocked the bot",
    50278: "the user cannot be sent messages (DMs closed or no mutual server)",
    10013: "unknown user",
    50035: "Discord refuses the message as it is",
}
UNKNOWN_CHANNEL = 10003
# Connections to Discord at once (discord.py's default is no limit).
CONNECTIONS = 64


def nonce(dedupe_key: str) -> str:
    """The message's nonce: stable for a dedupe key, within Discord's 25 characters."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:NONCE_LENGTH]


class _RebasedHTTPClient(HTTPClient):
    """discord.py's HTTP client, sending every route to ``api_base`` instead of Route.BASE."""

    def __init__(self, loop: asyncio.AbstractEventLoop, api_base: str) -> None:
        super().__init__(
            loop,
            aiohttp.TCPConnector(limit=CONNECTIONS),
            max_ratelimit_timeout=MAX_WAIT_SECONDS,
        )
        self.api_base = api_base

    async def request(self, route: Route, **kwargs: Any) -> Any:
        if not route.url.startswith(Route.BASE):
            raise RuntimeError(f"route {route.url} is not under {Route.BASE}")
        route.url = self.api_base + route.url[len(Route.BASE) :]
        return await super().request(route, **kwargs)


class DiscordTransport:
    """Delivers Discord messages as the bot's DMs (see the module's docstring)."""

    name = "discord"
    channel: Channel = "discord"

    def __init__(
        self, *, bot_token: str, api_base: str, timeout_seconds: float = SEND_TIMEOUT_SECONDS
    ) -> None:
        if not bot_token:
            raise ValueError("bot_token is empty")
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be above 0, not {timeout_seconds}")
        self.timeout_seconds = timeout_seconds
        self.api_base = api_base.rstrip("/")
        self._token = bot_token
        self._http: _RebasedHTTPClient | None = None
        self._login: asyncio.Lock | None = None
        # Discord user id -> DM channel id.
        self._channels: dict[str, str] = {}
        self._opening: dict[str, asyncio.Future[str]] = {}
        # The bot as Discord answered GET /users/@me at login (a user object).
        self.bot_user: Any = None
        self._closed = False

    async def send(self, message: Outgoing) -> str:
        if self._closed:
            raise RuntimeError("the transport is closed")
        content = message.rendered.content
        if message.channel != "discord" or not content:
            raise DeliveryFailed(
                f"message {message.notification_id} is not a rendered Discord message",
                permanent=True,
            )
        if not message.to.isdigit():
            raise DeliveryFailed(
                f"recipient {message.to[:40]!r} is not a Discord user id", permanent=True
            )
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return await self._post(message, content)
        except TimeoutError as e:
            raise DeliveryFailed(
                f"discord: no answer within {self.timeout_seconds:g} s (discord.py's own tries"
                " included)"
            ) from e
        except LoginFailure as e:
            raise self._configuration("Discord refused the bot token (401)", message) from e
        except RateLimited as e:
            raise DeliveryFailed(
                f"discord: rate limited for {e.retry_after:.1f} s, longer than "
                f"{MAX_WAIT_SECONDS:g} s",
                retry_after=e.retry_after,
            ) from e
        except HTTPException as e:
            raise await self._failure(e, message) from e
        except (aiohttp.ClientError, OSError) as e:
            raise DeliveryFailed(f"discord: {type(e).__name__}: {e}"[:500]) from e

    async def _post(self, message: Outgoing, content: str) -> str:
        http = await self._client()
        channel_id = await self._dm_channel(http, message.to)
        params = handle_message_parameters(
            content=content,
            nonce=nonce(message.dedupe_key),
            allowed_mentions=AllowedMentions.none(),
        )
        try:
            sent = await http.send_message(channel_id, params=params)
        except HTTPException as e:
            if e.code == UNKNOWN_CHANNEL:
                self._channels.pop(message.to, None)
            raise
        return str(sent["id"])

    async def _client(self) -> _RebasedHTTPClient:
        if self._http is not None:
            return self._http
        if self._login is None:
            self._login = asyncio.Lock()
        async with self._login:
            if self._http is None:
                http = _RebasedHTTPClient(asyncio.get_running_loop(), self.api_base)
                try:
                    self.bot_user = await http.static_login(self._token)
                except BaseException:
                    await http.close()
                    raise
                self._http = http
        return self._http

    async def _dm_channel(self, http: _RebasedHTTPClient, user_id: str) -> str:
        """The user's DM channel: cached, and opened once for concurrent sends to them."""
        channel_id = self._channels.get(user_id)
        if channel_id is not None:
            return channel_id
        opening = self._opening.get(user_id)
        if opening is None:
            opening = self._opening[user_id] = asyncio.ensure_future(self._open(http, user_id))
            opening.add_done_callback(lambda _: self._opening.pop(user_id, None))
        return await asyncio.shield(opening)

    async def _open(self, http: _RebasedHTTPClient, user_id: str) -> str:
        # Cached by the opening task itself, before its done callback forgets it: a send that
        # comes between finds one or the other, never neither (which opened the channel twice).
        channel = await http.start_private_message(int(user_id))
        channel_id = self._channels[user_id] = str(channel["id"])
        return channel_id

    async def _failure(self, error: HTTPException, message: Outgoing) -> DeliveryFailed:
        reason = f"discord {error.status} {error.code}: {error.text}"[:500]
        if error.code in PERMANENT_CODES:
            return DeliveryFailed(f"{reason} ({PERMANENT_CODES[error.code]})", permanent=True)
        if error.status == 400:
            return DeliveryFailed(
                f"{reason} (Discord refuses the message as it is)", permanent=True
            )
        if error.status == 401:
            await self._logout()
            return self._configuration(reason, message)
        if error.status == 403:
            return self._configuration(reason, message)
        if error.status == 429:
            after = error.response.headers.get("Retry-After")
            try:
                wait = float(after) if after is not None else None
            except ValueError:
                wait = None
            return DeliveryFailed(f"{reason} (still rate limited)", retry_after=wait)
        return DeliveryFailed(reason)

    def _configuration(self, reason: str, message: Outgoing) -> DeliveryFailed:
        log.error(
            "Discord refuses the bot: every Discord message waits until it is fixed "
            "(MENTORSHIPS_DISCORD_BOT_TOKEN, the bot's access)",
            extra={"notification_id": message.notification_id, "reason": reason},
        )
        return DeliveryFailed(reason)

    async def _logout(self) -> None:
        http, self._http = self._http, None
        self._channels.clear()
        if http is not None:
            await http.close()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._logout()
