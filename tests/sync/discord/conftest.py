"""Discord's bot REST API as a strict stateful fake (testing.fakes.discord.DiscordBotFake), fresh
for each test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.fakes.discord import BOT_TOKEN, DiscordBotFake


@pytest.fixture(scope="module")
def discord_bot_server() -> Iterator[DiscordBotFake]:
    fake = DiscordBotFake(bot_token=BOT_TOKEN)
    yield fake
    fake.close()


@pytest.fixture
def discord_bot(discord_bot_server: DiscordBotFake) -> Iterator[DiscordBotFake]:
    discord_bot_server.reset()
    discord_bot_server.limit, discord_bot_server.window = 50, 1.0
    yield discord_bot_server
    discord_bot_server.verify()
