"""sync.settings: the services' own settings (read from the environment, checked, rendered back
into it) and the local placeholder keys, made and recognised in one place."""

from __future__ import annotations

import os
from pathlib import Path

import jwt as pyjwt
import pytest
from pydantic import SecretStr, ValidationError

from sync.placeholders import (
    PLACEHOLDER_FIELDS,
    agora_is_placeholder,
    discord_is_placeholder,
    is_placeholder,
    new_placeholder,
    placeholder_providers,
)
from sync.settings import ConfigError, ServiceSettings, load

HOSTED = {
    "MENTORSHIPS_SUPABASE_URL": "https://abcdefghijklmnop.supabase.co/",
    "MENTORSHIPS_SUPABASE_ANON_KEY": "sb_publishable_abc",
    "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY": "sb_secret_xyz",
    "MENTORSHIPS_PAYMENT_PROVIDERS": "stripe",
    "MENTORSHIPS_STRIPE_SECRET_KEY": "sk_test_51abc",
    "MENTORSHIPS_STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "MENTORSHIPS_AGORA_APP_ID": "0123456789abcdef0123456789abcdef",
    "MENTORSHIPS_AGORA_APP_CERTIFICATE": "fedcba9876543210fedcba9876543210",
    "MENTORSHIPS_DISCORD_CLIENT_ID": "1234567890123456789",
    "MENTORSHIPS_DISCORD_CLIENT_SECRET": "discord-client-secret",
    "MENTORSHIPS_DISCORD_REDIRECT_URI": "https://services.example.com/oauth/discord/callback",
    "MENTORSHIPS_DISCORD_STATE_SECRET": "0123456789abcdef0123456789abcdef",
    "MENTORSHIPS_UNSUBSCRIBE_SECRET": "fedcba9876543210fedcba9876543210",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment with no MENTORSHIPS_* variable, in a folder without .env."""
    for name in list(os.environ):
        if name.startswith("MENTORSHIPS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_a_hosted_project_from_the_environment(environment: pytest.MonkeyPatch) -> None:
    for name, value in HOSTED.items():
        environment.setenv(name, value)
    settings = load()
    assert settings.supabase_url == "https://abcdefghijklmnop.supabase.co"
    assert settings.rest_url == "https://abcdefghijklmnop.supabase.co/rest/v1"
    assert settings.supabase_service_role_key == SecretStr("sb_secret_xyz")
    assert "sb_secret_xyz" not in repr(settings)
    assert settings.payment_providers == ("stripe",)
    assert settings.address == "http://127.0.0.1:54330"
    assert placeholder_providers(settings) == []
    assert settings.discord_api_base == "https://discord.com"
    assert "discord-client-secret" not in repr(settings)
    assert not discord_is_placeholder(settings)


def test_what_it_renders_reads_back_the_same(environment: pytest.MonkeyPatch) -> None:
    for name, value in HOSTED.items():
        environment.setenv(name, value)
    settings = load()
    for name, value in settings.to_env().items():
        environment.setenv(name, value)
    assert load() == settings


def test_nothing_set_names_each_variable(environment: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as refused:
        load()
    assert [p.split(" ", 1)[0] for p in refused.value.problems] == [
        "MENTORSHIPS_SUPABASE_URL",
        "MENTORSHIPS_SUPABASE_ANON_KEY",
        "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY",
        "MENTORSHIPS_STRIPE_SECRET_KEY",
        "MENTORSHIPS_STRIPE_WEBHOOK_SECRET",
        "MENTORSHIPS_PAYPAL_CLIENT_ID",
        "MENTORSHIPS_PAYPAL_CLIENT_SECRET",
        "MENTORSHIPS_PAYPAL_WEBHOOK_ID",
        "MENTORSHIPS_AGORA_APP_ID",
        "MENTORSHIPS_AGORA_APP_CERTIFICATE",
        "MENTORSHIPS_DISCORD_CLIENT_ID",
        "MENTORSHIPS_DISCORD_CLIENT_SECRET",
        "MENTORSHIPS_DISCORD_REDIRECT_URI",
        "MENTORSHIPS_DISCORD_STATE_SECRET",
        "MENTORSHIPS_UNSUBSCRIBE_SECRET",
    ]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:54321",
        "http://localhost:54321/",
        "https://abcdefghijklmnop.supabase.co",
        " https://api.example.com ",
    ],
)
def test_project_urls(url: str) -> None:
    settings = ServiceSettings.model_validate({"supabase_url": url})
    assert settings.rest_url == url.strip().rstrip("/") + "/rest/v1"


@pytest.mark.parametrize(
    "url",
    [
        "https://abcdefghijklmnop.supabase.co/rest/v1",
        "https://abcdefghijklmnop.supabase.co/rest/v1/",
        "abcdefghijklmnop.supabase.co",
        "ftp://example.com",
        "https://example.com/path",
        "https://user:pw@example.com",
        "https://example.com?x=1",
    ],
)
def test_what_is_not_a_project_url(url: str) -> None:
    with pytest.raises(ValidationError):
        ServiceSettings.model_validate({"supabase_url": url})


def _jwt(role: str) -> str:
    return pyjwt.encode({"role": role}, "x" * 32, algorithm="HS256")


@pytest.mark.parametrize(
    ("field", "key", "accepted"),
    [
        ("supabase_anon_key", _jwt("anon"), True),
        ("supabase_anon_key", "sb_publishable_abc", True),
        ("supabase_anon_key", _jwt("service_role"), False),
        ("supabase_anon_key", "sb_secret_abc", False),
        ("supabase_service_role_key", _jwt("service_role"), True),
        ("supabase_service_role_key", "sb_secret_abc", True),
        ("supabase_service_role_key", _jwt("anon"), False),
        ("supabase_service_role_key", _jwt("authenticated"), False),
        ("supabase_service_role_key", "sb_publishable_abc", False),
    ],
)
def test_a_key_must_be_of_its_kind(field: str, key: str, accepted: bool) -> None:
    if accepted:
        ServiceSettings.model_validate({field: key})
    else:
        with pytest.raises(ValidationError):
            ServiceSettings.model_validate({field: key})


# --- local placeholder keys ------------------------------------------------------------------------


@pytest.mark.parametrize("field", PLACEHOLDER_FIELDS)
def test_a_new_placeholder_is_recognised_and_fresh(field: str) -> None:
    value = new_placeholder(field)
    assert is_placeholder(field, value)
    assert is_placeholder(field, SecretStr(value))
    assert new_placeholder(field) != value
    assert not is_placeholder(field, None)


def test_agora_placeholders_are_valid_keys_and_recognised() -> None:
    settings = ServiceSettings.model_validate(
        {field: new_placeholder(field) for field in ("agora_app_id", "agora_app_certificate")}
    )
    assert agora_is_placeholder(settings)
    assert settings.agora_app_id is not None and len(settings.agora_app_id) == 32
    real = ServiceSettings.model_validate(
        {
            "agora_app_id": "0123456789abcdef0123456789abcdef",
            "agora_app_certificate": "fedcba9876543210fedcba9876543210",
        }
    )
    assert not agora_is_placeholder(real)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MENTORSHIPS_AGORA_APP_ID", "9f8e7d6c5b4a"),
        ("MENTORSHIPS_AGORA_APP_CERTIFICATE", "fedcba9876543210fedcba9876543210ff"),
        ("MENTORSHIPS_AGORA_APP_CERTIFICATE", "fedcba98-7654-3210-fedc-ba98765432"),
    ],
)
def test_an_agora_key_of_another_form_is_refused_without_its_value(
    environment: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    for name, given in HOSTED.items():
        environment.setenv(name, given)
    environment.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load()
    assert refused.value.problems == [
        f"{variable}: expected the 32 characters Agora Console shows (letters and digits), such "
        'as "0123456789abcdef0123456789abcdef"'
    ]
    assert value not in str(refused.value)


def test_placeholder_providers_are_those_whose_api_keys_are_placeholders() -> None:
    base = {
        "payment_providers": "stripe,paypal",
        "stripe_secret_key": "sk_test_51real",
        "stripe_webhook_secret": new_placeholder("stripe_webhook_secret"),
        "paypal_client_id": "real-client",
        "paypal_client_secret": "real-secret",
        "paypal_webhook_id": new_placeholder("paypal_webhook_id"),
    }
    # placeholder webhook secrets alone: the APIs are reachable
    assert placeholder_providers(ServiceSettings.model_validate(base)) == []
    local_stripe = {**base, "stripe_secret_key": new_placeholder("stripe_secret_key")}
    assert placeholder_providers(ServiceSettings.model_validate(local_stripe)) == ["stripe"]
    local_paypal = {**base, "paypal_client_secret": new_placeholder("paypal_client_secret")}
    assert placeholder_providers(ServiceSettings.model_validate(local_paypal)) == ["paypal"]
    disabled = {**local_paypal, "payment_providers": "stripe"}
    assert placeholder_providers(ServiceSettings.model_validate(disabled)) == []


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        (
            "MENTORSHIPS_DISCORD_REDIRECT_URI",
            "relative/callback",
            "MENTORSHIPS_DISCORD_REDIRECT_URI: expected the absolute URL registered with Discord",
        ),
        (
            "MENTORSHIPS_DISCORD_STATE_SECRET",
            "short-secret",
            "MENTORSHIPS_DISCORD_STATE_SECRET: expected at least 32 random characters",
        ),
        (
            "MENTORSHIPS_DISCORD_API_BASE",
            "https://discord.com/api",
            "MENTORSHIPS_DISCORD_API_BASE: ",
        ),
        (
            "MENTORSHIPS_UNSUBSCRIBE_SECRET",
            "short-secret",
            "MENTORSHIPS_UNSUBSCRIBE_SECRET: expected at least 32 random characters",
        ),
        (
            "MENTORSHIPS_UNSUBSCRIBE_PREVIOUS_SECRET",
            "short-secret",
            "MENTORSHIPS_UNSUBSCRIBE_PREVIOUS_SECRET: expected at least 32 random characters",
        ),
    ],
)
def test_a_discord_setting_of_another_form_is_refused_without_its_value(
    environment: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    for name, given in HOSTED.items():
        environment.setenv(name, given)
    environment.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load()
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(problem)
    assert value not in str(refused.value)


def test_discord_placeholders_are_its_client_keys() -> None:
    real = {
        "discord_client_id": "1234567890123456789",
        "discord_client_secret": "discord-client-secret",
        "discord_state_secret": new_placeholder("discord_state_secret"),
    }
    # a placeholder state secret is a real random one: Discord is still reachable
    assert not discord_is_placeholder(ServiceSettings.model_validate(real))
    for field in ("discord_client_id", "discord_client_secret"):
        local = {**real, field: new_placeholder(field)}
        assert discord_is_placeholder(ServiceSettings.model_validate(local))
    assert len(new_placeholder("discord_state_secret")) >= 32
