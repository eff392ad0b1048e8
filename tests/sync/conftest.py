"""The services under test: the app (sync.app.create_app) with its settings pointed at strict
local fakes of Stripe's and PayPal's APIs, talking to the real test stack (gateway, PostgREST,
Postgres) with the URL and keys it is given, as on hosted Supabase. Every fake fails the test on
a call it did not expect."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import PayPalSigner, Stack
from sync.app import create_app
from sync.settings import ServiceSettings
from testing.factories import Scenario
from testing.fakes import paypal as paypal_fake
from testing.fakes.google import GoogleFake
from testing.fakes.http import StrictFake
from testing.services import (
    AGORA_APP_CERTIFICATE,
    AGORA_APP_ID,
    DISCORD_CLIENT_ID,
    DISCORD_CLIENT_SECRET,
    DISCORD_REDIRECT_URI,
    DISCORD_STATE_SECRET,
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_REDIRECT_URI,
    GOOGLE_STATE_SECRET,
    GOOGLE_TOKEN_KEY_1,
    PAYPAL_CLIENT_ID,
    PAYPAL_CLIENT_SECRET,
    PAYPAL_WEBHOOK_ID,
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
    UNSUBSCRIBE_SECRET,
    Shop,
    serving,
)


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
def discord_server() -> Iterator[StrictFake]:
    fake = StrictFake("discord")
    yield fake
    fake.close()


@pytest.fixture
def discord_api(discord_server: StrictFake) -> Iterator[StrictFake]:
    """Discord's OAuth2 endpoints, expecting nothing until the test says what."""
    discord_server.reset()
    yield discord_server
    discord_server.verify()


@pytest.fixture(scope="session")
def google_server() -> Iterator[GoogleFake]:
    fake = GoogleFake(
        client_id=GOOGLE_CLIENT_ID,
        client_secret=GOOGLE_CLIENT_SECRET,
        redirect_uri=GOOGLE_REDIRECT_URI,
    )
    yield fake
    fake.close()


@pytest.fixture
def google_api(google_server: GoogleFake) -> Iterator[GoogleFake]:
    """Google's OAuth2 endpoints and Calendar API, no account and no grant yet."""
    google_server.reset()
    yield google_server
    google_server.verify()


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


@pytest.fixture(scope="session")
def service_settings(
    settings: Settings,
    stripe_server: StrictFake,
    paypal_server: StrictFake,
    discord_server: StrictFake,
    google_server: GoogleFake,
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
            "agora_app_id": AGORA_APP_ID,
            "agora_app_certificate": AGORA_APP_CERTIFICATE,
            "discord_api_base": discord_server.url,
            "discord_client_id": DISCORD_CLIENT_ID,
            "discord_client_secret": DISCORD_CLIENT_SECRET,
            "discord_redirect_uri": DISCORD_REDIRECT_URI,
            "discord_state_secret": DISCORD_STATE_SECRET,
            "google_client_id": GOOGLE_CLIENT_ID,
            "google_client_secret": GOOGLE_CLIENT_SECRET,
            "google_redirect_uri": GOOGLE_REDIRECT_URI,
            "google_state_secret": GOOGLE_STATE_SECRET,
            "google_token_keys": GOOGLE_TOKEN_KEY_1,
            "google_accounts_base": google_server.url,
            "google_oauth_base": google_server.url,
            "google_api_base": google_server.url,
            "unsubscribe_secret": UNSUBSCRIBE_SECRET,
        }
    )


@pytest.fixture
def service(
    service_settings: ServiceSettings,
    stack: Stack,
    stripe_api: StrictFake,
    paypal_api: StrictFake,
    discord_api: StrictFake,
    google_api: GoogleFake,
) -> Iterator[TestClient]:
    """A fresh app per test (no token or certificate cached from another test)."""
    with TestClient(create_app(service_settings)) as client:
        yield client


@pytest.fixture
def served(
    service_settings: ServiceSettings,
    stack: Stack,
    stripe_api: StrictFake,
    paypal_api: StrictFake,
    discord_api: StrictFake,
) -> Iterator[str]:
    """The services app on 127.0.0.1 with an ephemeral port, served as `mentorships up` serves
    it (sync.server.config), its providers the strict fakes: its base URL."""
    with serving(create_app(service_settings)) as url:
        yield url


@pytest.fixture
def inbox(conn: psycopg.Connection) -> Callable[[], int]:
    """How many webhook events are stored (private.webhook_events)."""

    def count() -> int:
        row = conn.execute("select count(*) from private.webhook_events").fetchone()
        assert row is not None
        return int(row[0])

    return count


@pytest.fixture
def shop(scenario: Scenario) -> Callable[..., Shop]:
    """Scenario.shop: a mentor selling one product, and a student about to buy it."""
    return scenario.shop
