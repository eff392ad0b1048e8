"""The services under test: the app (sync.app.create_app) with its settings pointed at strict
local fakes of Stripe's and PayPal's APIs, talking to the real test stack (gateway, PostgREST,
Postgres) with the URL and keys it is given, as on hosted Supabase. Every fake fails the test on
a call it did not expect."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from sync.app import create_app
from sync.server import config
from sync.settings import ServiceSettings
from sync.signing import PayPalSigner
from testing.factories import Scenario
from testing.fakes import paypal as paypal_fake
from testing.fakes.http import StrictFake

STRIPE_SECRET_KEY = "sk_test_fake_51TestKeyForTheStrictFake"
STRIPE_WEBHOOK_SECRET = "whsec_test_5f1c0dd3b7a04d4fa0c2e1a7f0d9c3b2"
PAYPAL_CLIENT_ID = "test-client-id"
PAYPAL_CLIENT_SECRET = "test-client-secret"
PAYPAL_WEBHOOK_ID = "1TEST23WEBHOOK45"


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[StrictFake]:
    fake = StrictFake("stripe")
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def paypal_server() -> Iterator[StrictFake]:
    fake = StrictFake("paypal")
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def paypal_signer() -> PayPalSigner:
    return PayPalSigner.generate()


@pytest.fixture
def stripe_api(stripe_server: StrictFake) -> Iterator[StrictFake]:
    """Stripe's API, expecting nothing until the test says what."""
    stripe_server.reset()
    yield stripe_server
    stripe_server.verify()


@pytest.fixture
def paypal_api(paypal_server: StrictFake, paypal_signer: PayPalSigner) -> Iterator[StrictFake]:
    """PayPal's API: serves the webhook signing certificate, expects nothing else until the
    test says what."""
    paypal_server.reset()
    paypal_server.serve(
        "GET",
        paypal_fake.CERT_PATH,
        response=paypal_signer.cert_pem,
        content_type="application/x-pem-file",
    )
    yield paypal_server
    paypal_server.verify()


def changed(settings: ServiceSettings, **values: Any) -> ServiceSettings:
    """The settings with some values replaced, validated as when read."""
    return ServiceSettings.model_validate({**settings.model_dump(), **values})


@pytest.fixture(scope="session")
def service_settings(
    settings: Settings, stripe_server: StrictFake, paypal_server: StrictFake
) -> ServiceSettings:
    """The services' own settings: the test stack's gateway and keys as given values."""
    return ServiceSettings.model_validate(
        {
            "supabase_url": settings.gateway_url,
            "supabase_anon_key": jwt.anon_key(settings),
            "supabase_service_role_key": jwt.service_role_key(settings),
            "payment_providers": ("stripe", "paypal"),
            "stripe_api_base": stripe_server.url,
            "stripe_secret_key": STRIPE_SECRET_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "paypal_api_base": paypal_server.url,
            "paypal_client_id": PAYPAL_CLIENT_ID,
            "paypal_client_secret": PAYPAL_CLIENT_SECRET,
            "paypal_webhook_id": PAYPAL_WEBHOOK_ID,
            "checkout_success_url": "https://app.example/checkout/done?order={order_id}",
            "checkout_cancel_url": "https://app.example/checkout/canceled?order={order_id}",
        }
    )


@pytest.fixture
def service(
    service_settings: ServiceSettings, stack: Stack, stripe_api: StrictFake, paypal_api: StrictFake
) -> Iterator[TestClient]:
    """A fresh app per test (no token or certificate cached from another test)."""
    with TestClient(create_app(service_settings)) as client:
        yield client


@pytest.fixture
def served(
    service_settings: ServiceSettings, stack: Stack, stripe_api: StrictFake, paypal_api: StrictFake
) -> Iterator[str]:
    """The services app on 127.0.0.1 with an ephemeral port, served as `mentorships up` serves
    it (sync.server.config), its providers the strict fakes: its base URL."""
    server = uvicorn.Server(config(create_app(service_settings), "127.0.0.1", 0))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def inbox(conn: psycopg.Connection) -> Callable[[], int]:
    """How many webhook events are stored (private.webhook_events)."""

    def count() -> int:
        row = conn.execute("select count(*) from private.webhook_events").fetchone()
        assert row is not None
        return int(row[0])

    return count


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


@pytest.fixture
def shop(scenario: Scenario, settings: Settings) -> Callable[..., Shop]:
    def make(*, price_cents: int = 24000, currency: str = "usd", capacity: int = 5) -> Shop:
        mentor = scenario.mentor(capacity=capacity)
        product = uuid.uuid4()
        title = f"Portfolio review pack {product.hex[:6]}"
        scenario.conn.execute(
            "insert into public.mentorship_products (id, mentor_id, title, sessions_count,"
            " validity_days, price_cents, currency) values (%s, %s, %s, 4, 90, %s, %s)",
            (product, mentor, title, price_cents, currency),
        )
        student = scenario.person("student")
        token = jwt.user_token(settings, student, f"{student}@scenario.test")
        return Shop(mentor, product, title, price_cents, currency, student, token)

    return make


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
