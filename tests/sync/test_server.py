"""The services as a process (`python -m sync`, `mentorships serve`), from its environment alone:
it runs against any Supabase URL it is given (here the test stack's gateway reached another way,
as a hosted project would be), and refuses to start (exit 78) naming each variable that is
missing or malformed. Each process runs in a folder of its own: no `.env` reaches it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.events import encode, sign_stripe, stripe_event
from testing.services import (
    AGORA_APP_CERTIFICATE,
    AGORA_APP_ID,
    DISCORD_CLIENT_ID,
    DISCORD_CLIENT_SECRET,
    DISCORD_REDIRECT_URI,
    DISCORD_STATE_SECRET,
    STRIPE_WEBHOOK_SECRET,
    UNSUBSCRIBE_SECRET,
)

DISCORD = {
    "MENTORSHIPS_DISCORD_CLIENT_ID": DISCORD_CLIENT_ID,
    "MENTORSHIPS_DISCORD_CLIENT_SECRET": DISCORD_CLIENT_SECRET,
    "MENTORSHIPS_DISCORD_REDIRECT_URI": DISCORD_REDIRECT_URI,
    "MENTORSHIPS_DISCORD_STATE_SECRET": DISCORD_STATE_SECRET,
}

EXIT_CONFIG = 78


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(**values: str) -> dict[str, str]:
    """The process environment with the services' variables given here and no other
    MENTORSHIPS_* one (an empty value is "not set")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    return {**env, **values}


@pytest.fixture
def complete(settings: Settings) -> dict[str, str]:
    """A complete environment for the services (on a port nothing listens on: these refusals
    never bind it)."""
    return {
        "MENTORSHIPS_SUPABASE_URL": settings.gateway_url,
        "MENTORSHIPS_SUPABASE_ANON_KEY": jwt.anon_key(settings),
        "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY": jwt.service_role_key(settings),
        "MENTORSHIPS_SERVICES_PORT": str(_free_port()),
        "MENTORSHIPS_PAYMENT_PROVIDERS": "stripe,paypal",
        "MENTORSHIPS_STRIPE_SECRET_KEY": "sk_test_present",
        "MENTORSHIPS_STRIPE_WEBHOOK_SECRET": "whsec_present",
        "MENTORSHIPS_PAYPAL_CLIENT_ID": "client",
        "MENTORSHIPS_PAYPAL_CLIENT_SECRET": "secret",
        "MENTORSHIPS_PAYPAL_WEBHOOK_ID": "WEBHOOK1",
        "MENTORSHIPS_AGORA_APP_ID": AGORA_APP_ID,
        "MENTORSHIPS_AGORA_APP_CERTIFICATE": AGORA_APP_CERTIFICATE,
        **DISCORD,
        "MENTORSHIPS_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET,
    }


def _refused(
    env: dict[str, str], cwd: Path, command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        command or [sys.executable, "-m", "sync"],
        env=_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == EXIT_CONFIG, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert lines, proc.stderr
    assert {line["level"] for line in lines} == {"error"}
    return proc


# --- against a Supabase URL it is given ------------------------------------------------------------


@pytest.fixture
def hosted_like(settings: Settings, stack: Stack, tmp_path: Path) -> Iterator[str]:
    """`python -m sync` given only its own variables, the project URL written another way than
    the stack's (localhost, not 127.0.0.1), and the stack's own variables set to nonsense (a
    service that read them would fail): its address."""
    port = _free_port()
    env = _env(
        MENTORSHIPS_SUPABASE_URL=f"http://localhost:{settings.gateway_port}/",
        MENTORSHIPS_SUPABASE_ANON_KEY=jwt.anon_key(settings),
        MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY=jwt.service_role_key(settings),
        MENTORSHIPS_SERVICES_PORT=str(port),
        MENTORSHIPS_PAYMENT_PROVIDERS="stripe",
        MENTORSHIPS_STRIPE_SECRET_KEY="sk_test_hosted_51NotUsedByAWebhook",
        MENTORSHIPS_STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
        MENTORSHIPS_AGORA_APP_ID=AGORA_APP_ID,
        MENTORSHIPS_AGORA_APP_CERTIFICATE=AGORA_APP_CERTIFICATE,
        **DISCORD,
        MENTORSHIPS_UNSUBSCRIBE_SECRET=UNSUBSCRIBE_SECRET,
        MENTORSHIPS_HOST="192.0.2.1",
        MENTORSHIPS_GATEWAY_PORT="9",
        MENTORSHIPS_JWT_SECRET="not-this-stacks-secret-not-this-stacks-secret",
    )
    log = tmp_path / "services.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sync"],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    ready = next(e for e in entries if e["msg"] == "services ready")
    assert ready["rest_url"] == f"http://localhost:{settings.gateway_port}/rest/v1"


def test_the_services_run_against_the_url_and_keys_they_are_given(
    hosted_like: str, conn: psycopg.Connection
) -> None:
    event = stripe_event("customer.created", {"id": "cus_hosted", "object": "customer"})
    body = encode(event)
    response = httpx.post(
        f"{hosted_like}/webhooks/stripe",
        content=body,
        headers={
            "Stripe-Signature": sign_stripe(body, STRIPE_WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"
    row = conn.execute(
        "select provider::text, event_type from private.webhook_events where event_id = %s",
        (event["id"],),
    ).fetchone()
    assert row == ("stripe", "customer.created")


def test_a_checkout_goes_to_the_given_project_as_the_student(
    hosted_like: str, settings: Settings, stack: Stack
) -> None:
    """With the anon key and the student's own token: the project's refusal comes back as it
    came (no Stripe call is made for a product that does not exist)."""
    token = jwt.user_token(settings, "00000000-0000-4000-8000-0000000000aa", None)
    response = httpx.post(
        f"{hosted_like}/checkout/stripe",
        json={"product_id": "00000000-0000-4000-8000-0000000000bb"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    answer = response.json()
    assert response.status_code in (403, 404), answer
    assert answer["code"].startswith("PT"), answer


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "what"),
    [
        ("MENTORSHIPS_SUPABASE_URL", "the Supabase project URL, such as https://<ref>.supabase.co"),
        ("MENTORSHIPS_SUPABASE_ANON_KEY", "the project's anon (public) API key"),
        ("MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY", "the project's service_role API key"),
        ("MENTORSHIPS_AGORA_APP_ID", "Agora: video calls need"),
        ("MENTORSHIPS_AGORA_APP_CERTIFICATE", "Agora: video calls need"),
        ("MENTORSHIPS_DISCORD_CLIENT_ID", "Discord: linking a Discord account needs"),
        ("MENTORSHIPS_DISCORD_STATE_SECRET", "Discord: linking a Discord account needs"),
        ("MENTORSHIPS_UNSUBSCRIBE_SECRET", "it signs the unsubscribe links in emails"),
    ],
)
def test_without_the_project_url_or_a_key_it_refuses_to_start(
    complete: dict[str, str], tmp_path: Path, variable: str, what: str
) -> None:
    proc = _refused({**complete, variable: ""}, tmp_path)
    assert f"{variable} is not set ({what}" in proc.stderr
    assert proc.stderr.count(" is not set ") == 1


def test_every_missing_variable_is_named_at_once(tmp_path: Path) -> None:
    proc = _refused({"MENTORSHIPS_PAYMENT_PROVIDERS": "stripe"}, tmp_path)
    for variable in (
        "MENTORSHIPS_SUPABASE_URL",
        "MENTORSHIPS_SUPABASE_ANON_KEY",
        "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY",
        "MENTORSHIPS_STRIPE_SECRET_KEY",
        "MENTORSHIPS_STRIPE_WEBHOOK_SECRET",
        "MENTORSHIPS_AGORA_APP_ID",
        "MENTORSHIPS_AGORA_APP_CERTIFICATE",
        *DISCORD,
        "MENTORSHIPS_UNSUBSCRIBE_SECRET",
    ):
        assert f"{variable} is not set" in proc.stderr
    assert "PAYPAL" not in proc.stderr


def test_a_dotenv_in_the_working_directory_counts_and_the_environment_wins(
    complete: dict[str, str], tmp_path: Path
) -> None:
    url = complete.pop("MENTORSHIPS_SUPABASE_URL")
    (tmp_path / ".env").write_text(
        f"MENTORSHIPS_SUPABASE_URL={url}\nMENTORSHIPS_STRIPE_SECRET_KEY=\n"
    )
    proc = _refused({**complete, "MENTORSHIPS_PAYPAL_WEBHOOK_ID": ""}, tmp_path)
    assert "MENTORSHIPS_PAYPAL_WEBHOOK_ID is not set" in proc.stderr
    assert "MENTORSHIPS_SUPABASE_URL" not in proc.stderr  # from .env
    assert "MENTORSHIPS_STRIPE_SECRET_KEY" not in proc.stderr  # the environment's


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "MENTORSHIPS_SUPABASE_URL",
            "https://abcdefgh.supabase.co/rest/v1",
            "MENTORSHIPS_SUPABASE_URL: give the project URL without /rest/v1",
        ),
        (
            "MENTORSHIPS_SUPABASE_URL",
            "abcdefgh.supabase.co",
            "MENTORSHIPS_SUPABASE_URL: expected the project URL",
        ),
        ("MENTORSHIPS_SERVICES_PORT", "http", "MENTORSHIPS_SERVICES_PORT: input should be"),
        (
            "MENTORSHIPS_PAYMENT_PROVIDERS",
            "stripe,square",
            "MENTORSHIPS_PAYMENT_PROVIDERS: input should be 'stripe' or 'paypal'",
        ),
    ],
    ids=["with /rest/v1", "no scheme", "port", "unknown provider"],
)
def test_a_malformed_value_is_refused_naming_its_variable(
    complete: dict[str, str], tmp_path: Path, variable: str, value: str, message: str
) -> None:
    proc = _refused({**complete, variable: value}, tmp_path)
    assert message in proc.stderr


@pytest.mark.parametrize(
    ("variable", "key"), [("service", "anon"), ("anon", "service"), ("service", "publishable")]
)
def test_a_key_in_the_wrong_variable_is_refused_and_not_logged(
    complete: dict[str, str], settings: Settings, tmp_path: Path, variable: str, key: str
) -> None:
    """The anon key as the service-role key would fail every webhook; the service-role key as
    the anon key would go out with every student's request."""
    value = {
        "anon": jwt.anon_key(settings),
        "service": jwt.service_role_key(settings),
        "publishable": "sb_publishable_0123456789abcdef",
    }[key]
    name = {
        "service": "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY",
        "anon": "MENTORSHIPS_SUPABASE_ANON_KEY",
    }[variable]
    proc = _refused({**complete, name: value}, tmp_path)
    assert f"{name}: this is not the " in proc.stderr
    assert value not in proc.stderr


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "sync"], [sys.executable, "-m", "mentorships.cli", "serve"]],
    ids=["python -m sync", "mentorships serve"],
)
def test_the_service_refuses_to_start_without_the_stripe_webhook_secret(
    complete: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    proc = _refused({**complete, "MENTORSHIPS_STRIPE_WEBHOOK_SECRET": ""}, tmp_path, command)
    assert (
        "MENTORSHIPS_STRIPE_WEBHOOK_SECRET is not set (stripe is enabled; set it or drop stripe "
        "from MENTORSHIPS_PAYMENT_PROVIDERS)"
    ) in proc.stderr


def test_the_service_refuses_to_start_without_the_paypal_webhook_id(
    complete: dict[str, str], tmp_path: Path
) -> None:
    proc = _refused({**complete, "MENTORSHIPS_PAYPAL_WEBHOOK_ID": ""}, tmp_path)
    assert "MENTORSHIPS_PAYPAL_WEBHOOK_ID is not set (paypal is enabled" in proc.stderr
    assert "STRIPE" not in proc.stderr
