"""The dispatcher's tests: a World at the frozen 2002 clock (its messages forgotten afterwards),
and the strict stateful fakes of Resend's and Discord's APIs the provider transports talk to,
reset for each test and verified after it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from testing.clock import Clock
from testing.dispatch import SENDER, World, WorldFactory, forget_messages
from testing.factories import Scenario
from testing.fakes.discord import BOT_TOKEN, DiscordBotFake
from testing.fakes.resend import API_KEY, ResendFake


@pytest.fixture
def world(scenario: Scenario, clock: Clock, conn: psycopg.Connection) -> Iterator[World]:
    try:
        yield WorldFactory(scenario, clock)()
    finally:
        forget_messages(conn)


@pytest.fixture(scope="module")
def resend_server() -> Iterator[ResendFake]:
    fake = ResendFake(api_key=API_KEY, sender=SENDER)
    yield fake
    fake.close()


@pytest.fixture
def resend_api(resend_server: ResendFake) -> Iterator[ResendFake]:
    resend_server.reset()
    yield resend_server
    resend_server.verify()


@pytest.fixture(scope="module")
def discord_bot_server() -> Iterator[DiscordBotFake]:
    fake = DiscordBotFake(bot_token=BOT_TOKEN)
    yield fake
    fake.close()


@pytest.fixture
def discord_bot(discord_bot_server: DiscordBotFake) -> Iterator[DiscordBotFake]:
    discord_bot_server.reset()
    yield discord_bot_server
    discord_bot_server.verify()
