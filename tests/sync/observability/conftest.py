"""The services' observability under test: the app served on real sockets (ports of this suite's
range: the test port base + 40 and up), talking to the test stack; a log capture in the services'
JSON form; a strict fake OTLP collector."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from sync import logs
from sync.app import create_app
from sync.settings import ServiceSettings
from testing.fakes.otlp import OtlpCollector
from testing.observability import (
    APP_PORT_OFFSET,
    CLOSED_OFFSET,
    COLLECTOR_OFFSET,
    LogLines,
    Serve,
    port_base,
)
from testing.services import (
    AGORA_APP_CERTIFICATE,
    AGORA_APP_ID,
    DISCORD_CLIENT_ID,
    DISCORD_CLIENT_SECRET,
    DISCORD_REDIRECT_URI,
    DISCORD_STATE_SECRET,
    STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET,
    UNSUBSCRIBE_SECRET,
    changed,
    serving,
)


@pytest.fixture(scope="session")
def obs_settings(settings: Settings, stack: Stack) -> ServiceSettings:
    """The services' settings: the test stack's gateway and keys, Stripe only (its webhooks need
    no Stripe API), the other providers' test values (never called here)."""
    return ServiceSettings.model_validate(
        {
            "supabase_url": settings.gateway_url,
            "supabase_anon_key": jwt.anon_key(settings),
            "supabase_service_role_key": jwt.service_role_key(settings),
            "payment_providers": ("stripe",),
            "stripe_api_base": f"http://127.0.0.1:{port_base() + CLOSED_OFFSET}",
            "stripe_secret_key": STRIPE_SECRET_KEY,
            "stripe_webhook_secret": STRIPE_WEBHOOK_SECRET,
            "agora_app_id": AGORA_APP_ID,
            "agora_app_certificate": AGORA_APP_CERTIFICATE,
            "discord_client_id": DISCORD_CLIENT_ID,
            "discord_client_secret": DISCORD_CLIENT_SECRET,
            "discord_redirect_uri": DISCORD_REDIRECT_URI,
            "discord_state_secret": DISCORD_STATE_SECRET,
            "unsubscribe_secret": UNSUBSCRIBE_SECRET,
        }
    )


@pytest.fixture
def serve(obs_settings: ServiceSettings) -> Serve:
    """serve(**setting_changes) -> a context manager serving such an app: its base URL."""

    def start(**values: Any) -> AbstractContextManager[str]:
        app = create_app(changed(obs_settings, **values) if values else obs_settings)
        return serving(app, port_base() + APP_PORT_OFFSET)

    return start


@pytest.fixture
def served(serve: Serve) -> Iterator[str]:
    with serve() as url:
        yield url


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """What the services log meanwhile, as the services write it (sync.logs), parsed."""
    captured = LogLines()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(logs.JsonFormatter("services"))
    handler.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # As logs.configure leaves it: the tests' own HTTP client logs its URLs at info.
    client = logging.getLogger("httpx")
    client_level = client.level
    client.setLevel(logging.WARNING)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        client.setLevel(client_level)


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    fake = OtlpCollector(port_base() + COLLECTOR_OFFSET)
    try:
        yield fake
    finally:
        fake.close()
