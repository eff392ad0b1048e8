"""The services as a whole: what the app serves, its refusal to start without a provider's
secrets, and the stack component `mentorships up` runs with the environment it renders (the
process on its own, from its environment alone: test_server.py)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Services, Stack
from sync.app import create_app
from sync.placeholders import is_placeholder
from sync.settings import ConfigError, ServiceSettings
from testing import agora
from testing.api import ok
from testing.booking import booked_world, ny
from testing.clock import Clock
from testing.events import encode, sign_stripe, stripe_event
from testing.factories import Scenario
from testing.services import changed


def test_health_and_ping(service: TestClient) -> None:
    assert service.get("/health").json() == {"status": "ok"}
    ping = service.get("/ping")
    assert ping.status_code == 200
    assert ping.json() == {"pong": True}


@pytest.mark.parametrize(
    ("providers", "unset", "variable"),
    [
        ("stripe", "stripe_secret_key", "MENTORSHIPS_STRIPE_SECRET_KEY"),
        ("stripe", "stripe_webhook_secret", "MENTORSHIPS_STRIPE_WEBHOOK_SECRET"),
        ("paypal", "paypal_client_id", "MENTORSHIPS_PAYPAL_CLIENT_ID"),
        ("paypal", "paypal_client_secret", "MENTORSHIPS_PAYPAL_CLIENT_SECRET"),
        ("stripe,paypal", "paypal_webhook_id", "MENTORSHIPS_PAYPAL_WEBHOOK_ID"),
    ],
)
def test_the_app_refuses_an_enabled_provider_without_its_secret(
    service_settings: ServiceSettings, providers: str, unset: str, variable: str
) -> None:
    settings = changed(service_settings, payment_providers=providers, **{unset: None})
    with pytest.raises(ConfigError) as refused:
        create_app(settings)
    provider = "stripe" if unset.startswith("stripe") else "paypal"
    assert refused.value.problems == [
        f"{variable} is not set ({provider} is enabled; set it or drop {provider} from "
        "MENTORSHIPS_PAYMENT_PROVIDERS)"
    ]


def test_a_disabled_provider_needs_no_secrets_and_serves_nothing(
    service_settings: ServiceSettings,
) -> None:
    settings = changed(
        service_settings,
        payment_providers="stripe",
        paypal_client_id=None,
        paypal_client_secret=None,
        paypal_webhook_id=None,
    )
    with TestClient(create_app(settings)) as client:
        assert client.post("/webhooks/paypal", content=b"{}").status_code == 404
        assert client.post("/checkout/paypal", json={}).status_code == 404
        assert client.post("/webhooks/stripe", content=b"{}").status_code == 400


# --- the stack component ---------------------------------------------------------------------------


@pytest.fixture
def services(stack: Stack) -> Iterator[Services]:
    """The test stack's services, as `mentorships up` starts them (left running afterwards, as
    `up` would: the stack's teardown stops them)."""
    stack.services.start()
    yield stack.services


def test_the_stack_runs_the_services_with_local_provider_secrets(
    services: Services, stack: Stack, settings: Settings
) -> None:
    assert services.pid()
    assert httpx.get(f"{settings.services_url}/health").json() == {"status": "ok"}
    row = next(r for r in stack.status() if r.name == "services")
    assert (row.running, row.healthy, row.address) == (True, True, f"{settings.services_url}/")

    secrets_file = services.p.provider_secrets
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(services.p.services_env.stat().st_mode) == 0o600
    local = json.loads(secrets_file.read_text())
    effective = services.effective_settings()
    assert effective.stripe_webhook_secret is not None
    assert effective.stripe_webhook_secret.get_secret_value() == local["stripe_webhook_secret"]
    assert effective.paypal_webhook_id == local["paypal_webhook_id"]
    assert services.local_providers() == ["stripe", "paypal"]

    # A webhook signed with the stack's local secret verifies in the running process.
    event = stripe_event("customer.created", {"id": "cus_local", "object": "customer"})
    body = encode(event)
    response = httpx.post(
        f"{settings.services_url}/webhooks/stripe",
        content=body,
        headers={
            "Stripe-Signature": sign_stripe(body, local["stripe_webhook_secret"]),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"

    log = services.p.services_log.read_text().splitlines()
    entries = [json.loads(line) for line in log if line.startswith("{")]
    assert any(
        e["msg"].startswith("placeholder API keys") and e.get("provider") == "stripe"
        for e in entries
    )
    assert any(e["msg"] == "webhook recorded" and e.get("event_id") == event["id"] for e in entries)


def test_the_stack_runs_the_services_with_local_agora_keys_that_mint_tokens(
    services: Services, settings: Settings, scenario: Scenario, clock: Clock
) -> None:
    local = json.loads(services.p.provider_secrets.read_text())
    assert is_placeholder("agora_app_id", local["agora_app_id"])
    assert is_placeholder("agora_app_certificate", local["agora_app_certificate"])
    assert services.local_agora()
    log = services.p.services_log.read_text().splitlines()
    assert any(
        json.loads(line)["msg"].startswith("placeholder Agora keys")
        for line in log
        if line.startswith("{")
    )

    # The running process mints a token for a participant, signed with the local certificate.
    world = booked_world(scenario, clock)
    session = ok(
        scenario.api(world["student"]).rpc(
            "book_session", pack_id=world["pack"], starts_at=ny(3, 9)
        )
    )
    clock.freeze(ny(3, 9, 30))
    token = jwt.user_token(settings, world["mentor"], "mentor@video.test")
    response = httpx.post(
        f"{settings.services_url}/video/token",
        json={"session_id": session["id"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["app_id"] == local["agora_app_id"]
    assert agora.verifies(
        answer["token"],
        certificate=local["agora_app_certificate"],
        channel=session["video_channel"],
        uid=answer["uid"],
    )


def test_the_stack_renders_the_services_own_variables_and_none_of_its_own(
    services: Services, settings: Settings
) -> None:
    """The services get the gateway's URL and the keys the stack mints, as a hosted project's
    would be given; the stack's ports and JWT secret stay with the stack."""
    env = services.environment()
    assert env["MENTORSHIPS_SUPABASE_URL"] == f"http://127.0.0.1:{settings.gateway_port}"
    assert env["MENTORSHIPS_SUPABASE_ANON_KEY"] == jwt.anon_key(settings)
    assert env["MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY"] == jwt.service_role_key(settings)
    assert env["MENTORSHIPS_SERVICES_HOST"] == settings.host
    assert env["MENTORSHIPS_SERVICES_PORT"] == str(settings.services_port)
    assert set(env) == {f"MENTORSHIPS_{field.upper()}" for field in ServiceSettings.model_fields}
    secret = settings.jwt_secret.get_secret_value()
    assert not any(secret in value for value in env.values())
    assert "MENTORSHIPS_GATEWAY_PORT" not in env and "MENTORSHIPS_DB_PORT" not in env

    # what the running process was started with, and reads back as the same settings
    started = dict(
        line.split("=", 1)
        for line in services.p.services_env.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert started == env
    assert services.service_settings().rest_url == f"{settings.gateway_url}/rest/v1"


def test_the_local_secrets_are_generated_once(services: Services) -> None:
    first = services.local_secrets()
    assert services.local_secrets() == first
    assert Services(services.s).local_secrets() == first


def test_up_again_is_a_no_op_and_a_changed_setting_restarts(
    services: Services, settings: Settings
) -> None:
    pid = services.pid()
    assert services.start() is False
    assert services.pid() == pid

    changed = Services(
        Settings.model_validate(
            {**settings.model_dump(), "checkout_success_url": "https://changed.example/{order_id}"}
        )
    )
    try:
        assert changed.start() is True
        assert changed.pid() not in (None, pid)
        assert changed.healthy()
    finally:
        assert services.start() is True  # back to the stack's own settings
    assert services.healthy()


def test_real_keys_from_the_environment_win_over_local_ones(settings: Settings) -> None:
    real = Settings.model_validate(
        {
            **settings.model_dump(),
            "stripe_secret_key": "sk_test_real",
            "stripe_webhook_secret": "whsec_real",
        }
    )
    services = Services(real)
    effective = services.effective_settings()
    assert effective.stripe_secret_key is not None
    assert effective.stripe_secret_key.get_secret_value() == "sk_test_real"
    assert effective.stripe_webhook_secret is not None
    assert effective.stripe_webhook_secret.get_secret_value() == "whsec_real"
    assert services.local_providers() == ["paypal"]
    assert services.local_agora()
    with_agora = Services(
        Settings.model_validate(
            {
                **real.model_dump(),
                "agora_app_id": "0123456789abcdef0123456789abcdef",
                "agora_app_certificate": "fedcba9876543210fedcba9876543210",
            }
        )
    )
    assert not with_agora.local_agora()
    assert with_agora.environment()["MENTORSHIPS_AGORA_APP_ID"] == (
        "0123456789abcdef0123456789abcdef"
    )
    env = services.environment()
    assert env["MENTORSHIPS_STRIPE_SECRET_KEY"] == "sk_test_real"
    assert env["MENTORSHIPS_SERVICES_PORT"] == str(settings.services_port)


def test_down_stops_the_services(services: Services, stack: Stack) -> None:
    assert services.stop() is True
    assert services.pid() is None
    assert not services.healthy()
    row = next(r for r in stack.status() if r.name == "services")
    assert (row.running, row.healthy) == (False, False)
    services.start()  # as the rest of the session expects the stack


@pytest.mark.parametrize("provider", ["stripe", "paypal"])
def test_checkout_on_placeholder_keys_is_refused_before_any_order(
    services: Services, settings: Settings, scenario: Scenario, provider: str
) -> None:
    """The running test stack has placeholder keys: a checkout could only fail at the provider,
    so it is refused at once, naming what to set, and no order holds a seat for nothing."""
    mentor = scenario.mentor()
    product = scenario.product(mentor)
    student = scenario.person()
    token = jwt.user_token(settings, student, None)
    response = httpx.post(
        f"{settings.services_url}/checkout/{provider}",
        json={"product_id": str(product)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 503, response.text
    answer = response.json()
    assert answer["code"] == "SV503"
    assert answer["message"].startswith(
        f"{provider} checkout is not available: this stack runs on local placeholder API keys"
    )
    assert answer["details"].startswith("MENTORSHIPS_")
    assert answer["hint"].startswith(f"Set {answer['details']} ")
    assert scenario.one("select count(*) from public.orders where student_id = %s", student) == 0
