"""The messaging fakes are strict: a request the transports must never send is recorded as a
failure (so `verify()` fails the test that sent it), and the providers' own refusals come back
in their shapes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testing.fakes.discord import BOT_TOKEN, DiscordBotFake
from testing.fakes.resend import API_KEY, SENDER, ResendFake

EMAIL: dict[str, Any] = {
    "from": SENDER,
    "to": ["Ben Ito <ben@example.org>"],
    "subject": "Hello",
    "text": "Hello",
    "html": "<p>Hello</p>",
}
RESEND_HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "User-Agent": "resend-python:2.52.0",
    "Idempotency-Key": "k-1",
}
DISCORD_HEADERS = {"Authorization": f"Bot {BOT_TOKEN}", "User-Agent": "DiscordBot (x, 2.7.1)"}


@pytest.fixture
def resend_fake() -> Iterator[ResendFake]:
    fake = ResendFake(api_key=API_KEY, sender=SENDER)
    yield fake
    fake.close()


@pytest.fixture
def discord_fake() -> Iterator[DiscordBotFake]:
    fake = DiscordBotFake(bot_token=BOT_TOKEN)
    yield fake
    fake.close()


def post_email(fake: ResendFake, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(f"{fake.url}/emails", json=body, headers=RESEND_HEADERS | headers)


def test_resend_fake_delivers_a_well_formed_email_once_per_key(resend_fake: ResendFake) -> None:
    first = post_email(resend_fake, EMAIL)
    again = post_email(resend_fake, EMAIL)
    assert first.status_code == 200 and again.json() == first.json()
    assert resend_fake.delivered("k-1") == 1
    other = post_email(resend_fake, EMAIL | {"subject": "Changed"})
    assert other.status_code == 409
    assert other.json()["name"] == "invalid_idempotent_request"
    resend_fake.verify()


@pytest.mark.parametrize(
    ("body", "headers", "problem"),
    [
        (EMAIL | {"cc": ["x@example.org"]}, {}, "unexpected ['cc']"),
        ({k: v for k, v in EMAIL.items() if k != "html"}, {}, "missing ['html']"),
        (EMAIL | {"from": "someone@example.org"}, {}, "from 'someone@example.org'"),
        (EMAIL | {"to": ["a@example.org", "b@example.org"]}, {}, "is not one address"),
        (EMAIL | {"headers": {}}, {}, "non-empty object"),
        (EMAIL | {"attachments": [{"filename": "a", "content": "!!"}]}, {}, "has not exactly"),
        (EMAIL, {"User-Agent": "curl/8"}, "is not Resend's library"),
    ],
)
def test_resend_fake_records_what_the_transport_must_never_send(
    resend_fake: ResendFake, body: Any, headers: dict[str, str], problem: str
) -> None:
    assert post_email(resend_fake, body, **headers).status_code == 400
    with pytest.raises(AssertionError, match=re.escape(problem)):
        resend_fake.verify()
    assert resend_fake.deliveries == []


def test_resend_fake_answers_a_wrong_key_as_resend_does(resend_fake: ResendFake) -> None:
    answer = post_email(resend_fake, EMAIL, Authorization="Bearer re_other")
    assert (answer.status_code, answer.json()["name"]) == (403, "invalid_api_key")
    resend_fake.verify()


def test_discord_fake_posts_once_per_nonce(discord_fake: DiscordBotFake) -> None:
    channel = httpx.post(
        f"{discord_fake.url}/api/v10/users/@me/channels",
        json={"recipient_id": "80351110224678912"},
        headers=DISCORD_HEADERS,
    ).json()
    message = {
        "content": "hi",
        "nonce": "n-1",
        "enforce_nonce": True,
        "tts": False,
        "allowed_mentions": {"parse": []},
    }
    url = f"{discord_fake.url}/api/v10/channels/{channel['id']}/messages"
    first = httpx.post(url, json=message, headers=DISCORD_HEADERS)
    again = httpx.post(url, json=message, headers=DISCORD_HEADERS)
    assert first.json()["id"] == again.json()["id"]
    assert discord_fake.delivered("n-1") == 1
    assert first.headers["X-RateLimit-Limit"] == "50"
    wrong = httpx.post(
        url, json=message | {"allowed_mentions": {"parse": ["users"]}}, headers=DISCORD_HEADERS
    )
    assert wrong.status_code == 400
    with pytest.raises(AssertionError, match="allowed_mentions"):
        discord_fake.verify()


def test_discord_fake_refuses_another_token_and_records_a_stranger(
    discord_fake: DiscordBotFake,
) -> None:
    me = f"{discord_fake.url}/api/v10/users/@me"
    assert (
        httpx.get(me, headers=DISCORD_HEADERS | {"Authorization": "Bot other"}).status_code == 401
    )
    discord_fake.verify()
    assert httpx.get(me, headers=DISCORD_HEADERS | {"User-Agent": "curl/8"}).status_code == 400
    with pytest.raises(AssertionError, match=re.escape("is not discord.py's")):
        discord_fake.verify()
