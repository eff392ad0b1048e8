"""The services under test (sync/): the providers' test credentials they are given, their
settings against a fake database API, a shop to buy from, and the orders and packs a purchase
leaves."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI
from psycopg.rows import dict_row

from mentorships import jwt
from mentorships.settings import Settings
from sync.server import config
from sync.settings import ServiceSettings
from testing.fakes.http import StrictFake

STRIPE_SECRET_KEY = "sk_test_fake_51TestKeyForTheStrictFake"
STRIPE_WEBHOOK_SECRET = "whsec_test_5f1c0dd3b7a04d4fa0c2e1a7f0d9c3b2"
PAYPAL_CLIENT_ID = "test-client-id"
PAYPAL_CLIENT_SECRET = "test-client-secret"
PAYPAL_WEBHOOK_ID = "1TEST23WEBHOOK45"
# Agora's App ID and App Certificate take this form (32 hex digits); tokens minted with them are
# read back offline (tests/sync/test_video.py).
AGORA_APP_ID = "a6f1c0de5b2e4c1f9d3a7b8c0e1f2a3b"
AGORA_APP_CERTIFICATE = "5c2e9f0a1b3d4e6f8a0b2c4d6e8f0a1c"
# Discord's OAuth2 application, as the strict fake of Discord knows it.
DISCORD_CLIENT_ID = "1234567890123456789"
DISCORD_CLIENT_SECRET = "discord-client-secret-for-the-fake"
DISCORD_REDIRECT_URI = "https://services.example/oauth/discord/callback"
DISCORD_STATE_SECRET = "state-secret-of-the-tests-0123456789abcdef"
# Google's OAuth client, as the strict fake of Google knows it, and the services' Google secrets.
GOOGLE_CLIENT_ID = "123456789012-fake0client0of0the0tests.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "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-fake"
GOOGLE_REDIRECT_URI = "https://services.example/oauth/google/callback"
GOOGLE_STATE_SECRET = "google-state-secret-of-the-tests-0123456789abcdef"
# Token keys (version 1 and 2); the tests' services seal with version 1 unless told otherwise.
GOOGLE_TOKEN_KEY_1 = "1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
GOOGLE_TOKEN_KEY_2 = "2:" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
# Signs the emails' unsubscribe links (the services verify them; the dispatcher makes them).
UNSUBSCRIBE_SECRET = "unsubscribe-secret-of-the-tests-0123456789abcdef"
# Keys given to services whose database API is a fake: not the stack's, so a request that
# carries them shows they are sent as given, never minted.
ANON_KEY_AS_GIVEN = "anon-key-as-given"
SERVICE_ROLE_KEY_AS_GIVEN = "service-role-key-as-given"


def changed(settings: ServiceSettings, **values: Any) -> ServiceSettings:
    """The settings with some values replaced, validated as when read."""
    return ServiceSettings.model_validate({**settings.model_dump(), **values})


@contextmanager
def serving(app: FastAPI, port: int = 0) -> Iterator[str]:
    """The app on 127.0.0.1 with `port` (0: an ephemeral one), served as `mentorships up` serves
    it (sync.server.config): its base URL, until the block ends."""
    server = uvicorn.Server(config(app, "127.0.0.1", port))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def with_fake_gateway(settings: ServiceSettings) -> tuple[ServiceSettings, StrictFake]:
    """The settings with their database API replaced by a strict fake gateway (the caller closes
    it), and the keys as given above."""
    gateway = StrictFake("gateway")
    return (
        changed(
            settings,
            supabase_url=gateway.url,
            supabase_anon_key=ANON_KEY_AS_GIVEN,
            supabase_service_role_key=SERVICE_ROLE_KEY_AS_GIVEN,
        ),
        gateway,
    )


@dataclass(frozen=True)
class Shop:
    """A mentor selling one product, and a student about to buy it."""

    mentor: uuid.UUID
    product: uuid.UUID
    title: str
    price_cents: int
    currency: str
    student: uuid.UUID
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def place_order(
    settings: Settings, shop: Shop, provider: str, promo_code: str | None = None
) -> dict[str, Any]:
    """public.create_order as the shop's student, straight through the gateway."""
    response = httpx.post(
        f"{settings.rest_url}/rpc/create_order",
        json={"product_id": str(shop.product), "provider": provider, "promo_code": promo_code},
        headers={"apikey": jwt.anon_key(settings), **shop.auth},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def order_row(conn: psycopg.Connection, order_id: str) -> dict[str, Any]:
    cur = conn.cursor(row_factory=dict_row)
    row = cur.execute(
        "select id::text, status::text, provider::text, provider_checkout_id, amount_cents,"
        " currency, expires_at, paid_at, flagged_reason from public.orders where id = %s",
        (order_id,),
    ).fetchone()
    assert row is not None, order_id
    return row


def packs_of(conn: psycopg.Connection, order_id: str) -> list[tuple[str, int]]:
    """(status, remaining_sessions) of the packs an order created."""
    return [
        (str(status), int(remaining))
        for status, remaining in conn.execute(
            "select status::text, remaining_sessions from public.session_packs where order_id = %s",
            (order_id,),
        ).fetchall()
    ]
