"""DiscordTransport through discord.py's real HTTP client over real HTTP to the strict fake of
Discord's bot API: every kind of message as a DM, exactly once per dedupe key (the nonce), each
error's verdict, and discord.py's own rate limiting honouring per-route buckets, 429s and the
global limit."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import discord.http
import pytest

from sync.discord.dm import MAX_WAIT_SECONDS, SEND_TIMEOUT_SECONDS, DiscordTransport, nonce
from sync.messaging.transport import DeliveryFailed, Outgoing
from testing.fakes.discord import BOT_TOKEN, DiscordBotFake
from testing.messages import ALL_KINDS
from testing.outgoing import DISCORD_USER, outgoing

T = TypeVar("T")
OTHER_USERS = [str(90000000000000000 + n) for n in range(10)]


def using(
    fake: DiscordBotFake,
    work: Callable[[DiscordTransport], Awaitable[T]],
    *,
    bot_token: str = BOT_TOKEN,
    timeout_seconds: float = SEND_TIMEOUT_SECONDS,
) -> T:
    """Runs ``work`` with a transport pointed at the fake, closed afterwards."""

    async def main() -> T:
        transport = DiscordTransport(
            bot_token=bot_token, api_base=f"{fake.url}/api/v10", timeout_seconds=timeout_seconds
        )
        try:
            return await work(transport)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def failure(fake: DiscordBotFake, message: Outgoing, **kw: Any) -> DeliveryFailed:
    async def work(transport: DiscordTransport) -> DeliveryFailed:
        with pytest.raises(DeliveryFailed) as caught:
            await transport.send(message)
        return caught.value

    return using(fake, work, **kw)


def dm(kind: str = "session_booked", n: int = 42, to: str = DISCORD_USER) -> Outgoing:
    return outgoing(kind, "discord", notification_id=n, to=to)


def test_the_nonce_is_a_stable_digest_within_discords_25_characters() -> None:
    key = "session:5b0c3d52:booked:50de0000:discord"
    assert nonce(key) == hashlib.sha256(key.encode()).hexdigest()[:25]
    assert nonce("x" * 1000) != nonce("x" * 999)


def test_every_kind_goes_as_a_dm_with_its_content(discord_bot: DiscordBotFake) -> None:
    messages = [dm(kind, n) for n, kind in enumerate(ALL_KINDS)]

    async def work(transport: DiscordTransport) -> list[str]:
        return [await transport.send(m) for m in messages]

    ids = using(discord_bot, work)
    assert ids == [p.id for p in discord_bot.messages]
    for message, posted in zip(messages, discord_bot.messages, strict=True):
        assert posted.content == message.rendered.content
        assert posted.user_id == DISCORD_USER
        assert posted.nonce == nonce(message.dedupe_key)
    # One login, one DM channel for the one person.
    assert (discord_bot.logins, discord_bot.channel_opens) == (1, 1)
    # The module's base URL is untouched: the transport moved only its own routes.
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


def test_the_same_dedupe_key_posts_once_and_answers_the_same_id(
    discord_bot: DiscordBotFake,
) -> None:
    message = dm()

    async def work(transport: DiscordTransport) -> list[str]:
        first = await transport.send(message)
        return [first, *await asyncio.gather(*(transport.send(message) for _ in range(4)))]

    ids = using(discord_bot, work)
    assert len(set(ids)) == 1
    assert discord_bot.delivered(nonce(message.dedupe_key)) == 1
    # A transport restarted after a crash sends it again: still the one message.
    assert using(discord_bot, lambda t: t.send(message)) == ids[0]
    assert len(discord_bot.messages) == 1


def test_many_people_at_once_each_get_their_message_once(discord_bot: DiscordBotFake) -> None:
    messages = [dm("session_reminder_1h", n, OTHER_USERS[n % 10]) for n in range(60)]
    using(discord_bot, lambda t: asyncio.gather(*(t.send(m) for m in messages)))
    assert all(discord_bot.delivered(nonce(m.dedupe_key)) == 1 for m in messages)
    assert discord_bot.channel_opens == 10
    assert discord_bot.over_limit == 0


@pytest.mark.parametrize("code", [50007, 50278])
def test_a_user_the_bot_cannot_message_is_permanent(discord_bot: DiscordBotFake, code: int) -> None:
    discord_bot.block(DISCORD_USER, code)
    failed = failure(discord_bot, dm())
    assert failed.permanent
    assert f"403 {code}" in failed.reason
    assert discord_bot.messages == []


def test_an_unknown_user_is_permanent(discord_bot: DiscordBotFake) -> None:
    discord_bot.unknown(DISCORD_USER)
    failed = failure(discord_bot, dm())
    assert failed.permanent
    assert "10013" in failed.reason


def test_a_message_discord_refuses_as_it_is_is_permanent(discord_bot: DiscordBotFake) -> None:
    discord_bot.fail_messages(1, 400, {"message": "Invalid Form Body", "code": 50035, "errors": {}})
    assert failure(discord_bot, dm()).permanent


def test_a_recipient_that_is_not_a_user_id_is_refused_without_a_request(
    discord_bot: DiscordBotFake,
) -> None:
    failed = failure(discord_bot, dm(to="ben@example.org"))
    assert failed.permanent
    assert discord_bot.arrivals == []


def test_a_refused_bot_token_is_temporary_and_loud(
    discord_bot: DiscordBotFake, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sync.discord"):
        failed = failure(discord_bot, dm(), bot_token="not.the.token")
    assert not failed.permanent
    assert any(r.levelno == logging.ERROR and r.name == "sync.discord" for r in caplog.records)
    assert [(a.route, a.status) for a in discord_bot.arrivals] == [("me", 401)]


def test_a_token_revoked_later_is_temporary_and_logs_in_again(
    discord_bot: DiscordBotFake,
) -> None:
    async def work(transport: DiscordTransport) -> DeliveryFailed:
        await transport.send(dm(n=1))
        discord_bot.fail_messages(1, 401, {"message": "401: Unauthorized", "code": 0})
        with pytest.raises(DeliveryFailed) as caught:
            await transport.send(dm(n=2))
        await transport.send(dm(n=3))
        return caught.value

    failed = using(discord_bot, work)
    assert not failed.permanent
    assert discord_bot.logins == 2
    assert len(discord_bot.messages) == 2


def test_a_server_error_is_temporary(discord_bot: DiscordBotFake) -> None:
    # 503 (discord.py retries 500, 502, 504 and 524 itself for up to 25 s before giving up).
    discord_bot.fail_messages(1, 503, {"message": "Service Unavailable", "code": 0})
    assert not failure(discord_bot, dm()).permanent


@pytest.mark.parametrize(("status", "delay"), [(500, 0.0), (504, 10.0)], ids=["500s", "no answer"])
def test_a_discord_down_holds_a_send_no_longer_than_its_time_limit(
    discord_bot: DiscordBotFake, status: int, delay: float
) -> None:
    # discord.py would try a 500 five times over 25 s; an answer 10 s late would be waited for.
    async def work(transport: DiscordTransport) -> tuple[float, DeliveryFailed]:
        await transport.send(dm(n=1))  # logged in, the DM channel open
        discord_bot.outage(30, status=status, delay=delay)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as caught:
            await transport.send(dm(n=2))
        return time.monotonic() - started, caught.value

    took, failed = using(discord_bot, work, timeout_seconds=1.5)
    assert 1.5 <= took < 3, took
    assert not failed.permanent
    assert "no answer within 1.5 s" in failed.reason
    assert discord_bot.outage_answers >= 1
    assert len(discord_bot.messages) == 1


def test_a_send_time_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout_seconds must be above 0"):
        DiscordTransport(bot_token=BOT_TOKEN, api_base="http://127.0.0.1:9", timeout_seconds=0)


def test_a_dm_channel_that_is_gone_is_temporary_and_opened_again(
    discord_bot: DiscordBotFake,
) -> None:
    async def work(transport: DiscordTransport) -> DeliveryFailed:
        await transport.send(dm(n=1))
        discord_bot.fail_messages(1, 404, {"message": "Unknown Channel", "code": 10003})
        with pytest.raises(DeliveryFailed) as caught:
            await transport.send(dm(n=2))
        await transport.send(dm(n=2))
        return caught.value

    failed = using(discord_bot, work)
    assert not failed.permanent
    assert discord_bot.channel_opens == 2
    assert len(discord_bot.messages) == 2


def test_a_network_error_is_temporary(discord_bot: DiscordBotFake) -> None:
    async def work(transport: DiscordTransport) -> DeliveryFailed:
        transport.api_base = "http://127.0.0.1:9/api/v10"
        with pytest.raises(DeliveryFailed) as caught:
            await transport.send(dm())
        return caught.value

    assert not using(discord_bot, work).permanent


def test_a_429_storm_on_messages_delays_but_loses_nothing(discord_bot: DiscordBotFake) -> None:
    discord_bot.rate_limit(20, 0.2, route="messages")
    messages = [dm("session_booked", n, OTHER_USERS[n]) for n in range(10)]
    started = time.monotonic()
    ids = using(discord_bot, lambda t: asyncio.gather(*(t.send(m) for m in messages)))
    elapsed = time.monotonic() - started
    assert len(set(ids)) == 10
    assert all(discord_bot.delivered(nonce(m.dedupe_key)) == 1 for m in messages)
    refused = [a.at for a in discord_bot.arrivals if a.status == 429]
    assert len(refused) == 20
    posted = [a.at for a in discord_bot.arrivals if a.route == "messages" and a.status == 200]
    assert min(posted) >= min(refused) + 0.2
    assert elapsed >= 0.2


def test_a_global_429_holds_every_route(discord_bot: DiscordBotFake) -> None:
    """A global 429 on one message holds the bot's other requests, another person's DM channel
    and message included, for as long as Discord asked."""
    discord_bot.rate_limit(1, 0.5, route="messages", global_=True)

    async def work(transport: DiscordTransport) -> None:
        first = asyncio.ensure_future(transport.send(dm(n=1)))
        while not any(a.status == 429 for a in discord_bot.arrivals):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        await asyncio.gather(first, transport.send(dm(n=2, to=OTHER_USERS[0])))

    using(discord_bot, work)
    [refused] = [a.at for a in discord_bot.arrivals if a.status == 429]
    later = [a for a in discord_bot.arrivals if a.at > refused]
    assert {a.route for a in later} == {"channels", "messages"}
    assert all(a.at >= refused + 0.5 for a in later)
    assert len(discord_bot.messages) == 2


def test_the_route_buckets_discord_announces_are_kept(discord_bot: DiscordBotFake) -> None:
    """3 messages per 0.5 s per channel: 9 to one person take three windows, and none is sent
    into an exhausted window."""
    discord_bot.limit, discord_bot.window = 3, 0.5
    messages = [dm("session_reminder_24h", n) for n in range(9)]
    started = time.monotonic()
    using(discord_bot, lambda t: asyncio.gather(*(t.send(m) for m in messages)))
    assert time.monotonic() - started >= 1.0
    assert discord_bot.over_limit == 0
    assert len(discord_bot.messages) == 9


def test_a_429_that_does_not_end_is_temporary_with_its_wait(discord_bot: DiscordBotFake) -> None:
    discord_bot.rate_limit(5, 0.05, route="messages")
    failed = failure(discord_bot, dm())
    assert not failed.permanent
    assert failed.retry_after == 0.05
    assert discord_bot.messages == []


def test_a_429_asking_too_long_a_wait_is_reported_at_once(discord_bot: DiscordBotFake) -> None:
    discord_bot.rate_limit(1, MAX_WAIT_SECONDS * 2, route="messages")
    started = time.monotonic()
    failed = failure(discord_bot, dm())
    assert time.monotonic() - started < MAX_WAIT_SECONDS
    assert failed.retry_after == MAX_WAIT_SECONDS * 2
    assert not failed.permanent
