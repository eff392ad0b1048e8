"""Local PayPal mode: on placeholder PayPal keys the stack plays PayPal's certificate host (the
gateway serves the local signer's certificate, the services use it as their PayPal API base), so
PayPal webhooks signed with the local signer verify in the running services. Real keys from the
environment, or a PayPal API base of your own, switch it off."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack import LOCAL_PAYPAL_CERT_PATH, Gateway, PayPalSigner, Services, Stack, paths
from sync import money
from testing.events import encode, paypal_capture, paypal_event
from testing.services import Shop, order_row, packs_of, place_order

SANDBOX = "https://api-m.sandbox.paypal.com"


@pytest.fixture
def services(stack: Stack) -> Iterator[Services]:
    """The test stack's gateway and services, as `mentorships up` starts them."""
    stack.gateway.start()
    stack.services.start()
    yield stack.services


def test_the_gateway_serves_the_local_signers_certificate(
    services: Services, stack: Stack, settings: Settings
) -> None:
    local = services.local_paypal_signer()
    assert local is not None
    base = f"http://127.0.0.1:{settings.paypal_local_port}"
    assert settings.paypal_local_port == settings.postgrest_port + 2
    assert local.cert_url == f"{base}/v1/notifications/certs/CERT-local"
    assert services.effective_settings().paypal_api_base == base
    assert services.environment()["MENTORSHIPS_PAYPAL_API_BASE"] == base

    # kept next to provider-secrets.json: the key private, the certificate public
    assert services.p.paypal_key.parent == services.p.provider_secrets.parent
    assert stat.S_IMODE(services.p.paypal_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(services.p.paypal_cert.stat().st_mode) == 0o644
    assert b"PRIVATE KEY" in services.p.paypal_key.read_bytes()

    served = httpx.get(local.cert_url)
    assert served.status_code == 200
    assert served.content == local.signer.cert_pem
    assert served.headers["content-type"] == "application/x-pem-file"
    assert httpx.get(f"{base}/v1/notifications/certs/CERT-other").status_code == 404
    assert httpx.get(f"{base}/paypal-local-key.pem").status_code == 404

    row = next(r for r in stack.status() if r.name == "paypal")
    assert (row.running, row.healthy, row.address) == (True, True, local.cert_url)


def _capture_event(shop: Shop, order: dict[str, object], api_base: str) -> bytes:
    capture = paypal_capture(
        order_id=str(order["id"]),
        paypal_order_id="5O190127TN364715T",
        amount_cents=shop.price_cents,
        currency=shop.currency,
        api_base=api_base,
    )
    value = money.to_decimal_string(shop.price_cents, shop.currency)
    return encode(
        paypal_event(
            "PAYMENT.CAPTURE.COMPLETED",
            capture,
            resource_type="capture",
            summary=f"Payment completed for {value} {shop.currency.upper()}",
            api_base=api_base,
        )
    )


def test_a_paypal_webhook_signed_with_the_local_signer_verifies_in_the_running_services(
    services: Services,
    settings: Settings,
    shop: Callable[..., Shop],
    conn: psycopg.Connection,
) -> None:
    local = services.local_paypal_signer()
    effective = services.effective_settings()
    assert local is not None and effective.paypal_webhook_id is not None
    s = shop()
    order = place_order(settings, s, "paypal")
    url = f"{settings.services_url}/webhooks/paypal"

    # signed by another key, claiming the local certificate: refused, nothing stored
    body = _capture_event(s, order, effective.paypal_api_base)
    forged = PayPalSigner.generate().headers(
        body, webhook_id=effective.paypal_webhook_id, cert_url=local.cert_url
    )
    refused = httpx.post(url, content=body, headers=forged, timeout=30)
    assert refused.status_code == 400, refused.text
    assert conn.execute(
        "select count(*) from private.webhook_events where order_id = %s", (order["id"],)
    ).fetchone() == (0,)

    headers = local.signer.headers(
        body, webhook_id=effective.paypal_webhook_id, cert_url=local.cert_url
    )
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "fulfilled"
    event_id = json.loads(body)["id"]
    assert conn.execute(
        "select provider::text, event_type, outcome from private.webhook_events"
        " where event_id = %s",
        (event_id,),
    ).fetchall() == [("paypal", "PAYMENT.CAPTURE.COMPLETED", "fulfilled")]
    assert order_row(conn, str(order["id"]))["status"] == "paid"
    assert packs_of(conn, str(order["id"])) == [("active", 4)]

    log = services.p.services_log.read_text().splitlines()
    entries = [json.loads(line) for line in log if line.startswith("{")]
    assert any(
        e["msg"] == "paypal certificate cached" and e.get("url") == local.cert_url for e in entries
    )


def _real_paypal_env(settings: Settings) -> dict[str, str]:
    """The test stack's settings as environment variables, with real PayPal API keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    ports = {
        f: str(getattr(settings, f))
        for f in ("gateway_port", "db_port", "postgrest_port", "postgrest_admin_port")
    }
    return {
        **env,
        "MENTORSHIPS_STACK": settings.stack,
        **{f"MENTORSHIPS_{f.upper()}": v for f, v in ports.items()},
        "MENTORSHIPS_SERVICES_PORT": str(settings.services_port),
        "MENTORSHIPS_PAYPAL_CLIENT_ID": "AYSq3RDGsmBLJE-otTkBtM-jBRd1TCQwFf9RGfwddNXWz0uFU9ztymylOhRS",
        "MENTORSHIPS_PAYPAL_CLIENT_SECRET": "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL",
    }


def test_real_paypal_keys_from_the_environment_switch_local_mode_off(settings: Settings) -> None:
    env = _real_paypal_env(settings)
    # The test stack's settings take nothing from the environment (settings_for_tests); the
    # CLI below does.
    real = Settings.model_validate(
        {
            **settings.model_dump(),
            "paypal_client_id": env["MENTORSHIPS_PAYPAL_CLIENT_ID"],
            "paypal_client_secret": env["MENTORSHIPS_PAYPAL_CLIENT_SECRET"],
        }
    )

    services = Services(real)
    assert services.local_providers() == ["stripe"]
    assert services.local_paypal() is False
    assert services.local_paypal_signer() is None
    assert services.effective_settings().paypal_api_base == SANDBOX
    assert services.environment()["MENTORSHIPS_PAYPAL_API_BASE"] == SANDBOX
    assert "local PayPal" not in services.config()
    gateway = Gateway(real)
    assert gateway.local_paypal() is False
    assert f":{real.paypal_local_port};" not in gateway.config()
    assert LOCAL_PAYPAL_CERT_PATH not in gateway.config()
    # while the same stack on placeholder keys has it
    assert f"listen 127.0.0.1:{settings.paypal_local_port};" in Gateway(settings).config()

    # the CLI, as a process whose environment carries the real keys
    out = subprocess.run(
        [sys.executable, "-m", "mentorships.cli", "keys", "--json"],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    keys = json.loads(out.stdout)
    assert (keys["paypal_api_base"], keys["paypal_cert_url"], keys["paypal_signer_key"]) == (
        SANDBOX,
        "",
        "",
    )


def test_a_paypal_api_base_of_your_own_is_kept(settings: Settings) -> None:
    own = Settings.model_validate(
        {**settings.model_dump(), "paypal_api_base": "http://127.0.0.1:25399"}
    )
    services = Services(own)
    assert services.local_providers() == ["stripe", "paypal"]  # still placeholder keys
    assert services.local_paypal_signer() is None
    assert services.effective_settings().paypal_api_base == "http://127.0.0.1:25399"


def test_the_port_follows_the_stack_unless_set() -> None:
    assert Settings(stack="x").paypal_local_port == 24327
    assert Settings(stack="x", postgrest_port=26325).paypal_local_port == 26327
    assert Settings(stack="x", postgrest_port=26325, paypal_local_port=23999).paypal_local_port == (
        23999
    )
    with pytest.raises(ValueError, match="paypal_local_port"):
        Settings(stack="x", paypal_local_port=40000)  # in the ephemeral range


@pytest.fixture
def scratch(settings: Settings) -> Iterator[Services]:
    """A stack of its own (state folder only: nothing runs) for the signer's life cycle."""
    s = Settings.model_validate({**settings.model_dump(), "stack": "paypal-signer-test"})
    state = paths(s).state
    shutil.rmtree(state, ignore_errors=True)
    try:
        yield Services(s)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def _short_lived(signer: PayPalSigner, days: int) -> bytes:
    """The signer's key in a certificate that ends in `days` days."""
    now = dt.datetime.now(dt.UTC)
    name = x509.load_pem_x509_certificate(signer.cert_pem).subject
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(signer.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=300))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(signer.private_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_the_local_signer_is_made_once_and_renewed_before_it_ends(scratch: Services) -> None:
    first = scratch.local_paypal_signer()
    assert first is not None
    assert sorted(f.name for f in scratch.p.state.iterdir()) == [
        "paypal-local-cert.pem",
        "paypal-local-key.pem",
    ]
    again = Services(scratch.s).local_paypal_signer()
    assert again is not None and again.signer.cert_pem == first.signer.cert_pem
    config = scratch.config()

    # 40 days left: kept; 10 days left: a new signer, and the services' config changes (so
    # `up` restarts them and they drop the certificate they cached)
    scratch.p.paypal_cert.write_bytes(_short_lived(first.signer, 40))
    kept = scratch.local_paypal_signer()
    assert kept is not None and kept.signer.key_pem == first.signer.key_pem
    scratch.p.paypal_cert.write_bytes(_short_lived(first.signer, 10))
    renewed = scratch.local_paypal_signer()
    assert renewed is not None and renewed.signer.key_pem != first.signer.key_pem
    assert renewed.signer.not_valid_after > dt.datetime.now(dt.UTC) + dt.timedelta(days=300)
    assert renewed.cert_url == first.cert_url
    assert scratch.config() != config
    assert stat.S_IMODE(scratch.p.paypal_key.stat().st_mode) == 0o600

    # a key that does not match its certificate (or does not parse): a new signer
    scratch.p.paypal_key.write_bytes(PayPalSigner.generate().key_pem)
    replaced = scratch.local_paypal_signer()
    assert replaced is not None and replaced.signer.cert_pem != renewed.signer.cert_pem
    scratch.p.paypal_key.write_text("not a key")
    assert scratch.local_paypal_signer() is not None
