"""The services' settings: one typed object, read once from the environment (and `.env` in the
working directory), prefix MENTORSHIPS_. They are the services' own (the Supabase project's URL
and keys, the payment providers' keys and addresses), never derived from a local stack's ports
or JWT secret; a local stack renders them for the services it starts (mentorships.stack.Services).
The local placeholder provider keys are in sync.placeholders.

    settings = load()        # ConfigError naming each variable that is missing or malformed
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "MENTORSHIPS_"

Provider = Literal["stripe", "paypal"]
PROVIDERS: tuple[Provider, ...] = ("stripe", "paypal")

# What each enabled payment provider needs; the services refuse to start without it.
PROVIDER_SECRETS: dict[Provider, tuple[str, ...]] = {
    "stripe": ("stripe_secret_key", "stripe_webhook_secret"),
    "paypal": ("paypal_client_id", "paypal_client_secret", "paypal_webhook_id"),
}
# Of those, what calls the provider's API (a checkout needs it; a webhook does not).
API_KEYS: dict[Provider, tuple[str, ...]] = {
    "stripe": ("stripe_secret_key",),
    "paypal": ("paypal_client_id", "paypal_client_secret"),
}

# Agora (video calls): what POST /video/token signs with; the services refuse to start without it.
AGORA_SECRETS = ("agora_app_id", "agora_app_certificate")
# Agora's app ids and certificates are 32 characters (hex); a token carries the app id at a fixed
# width of 32, so one of another length would mint tokens nobody can read.
_AGORA_KEY = re.compile(r"^[0-9A-Za-z_]{32}$")

# Discord (linking a person's Discord account, OAuth2 `identify`): what /oauth/discord/* need; the
# services refuse to start without them. The state secret signs the OAuth2 `state` (and derives
# the PKCE verifier from it: sync/discord/oauth.py).
DISCORD_SETTINGS = (
    "discord_client_id",
    "discord_client_secret",
    "discord_redirect_uri",
    "discord_state_secret",
)
# Of those, what Discord itself must know (placeholders cannot reach it: /oauth/discord/start
# answers 503 on them).
DISCORD_API_KEYS = ("discord_client_id", "discord_client_secret")
# HMAC-SHA256 keys shorter than this are guessable.
DISCORD_STATE_SECRET_MIN = 32
_REDIRECT_URI = re.compile(r"^https?://[^/\s?#@]+/[^\s#]*$")

# Google Calendar (a mentor connects their calendar, sync/gcal/): optional, the services start
# without it and /oauth/google/* answer 503 naming what is missing. The state secret signs the
# consent flow's `state`; the token keys seal the refresh tokens (AES-256-GCM, sync/gcal/sealing.py).
GOOGLE_SETTINGS = (
    "google_client_id",
    "google_client_secret",
    "google_redirect_uri",
    "google_state_secret",
    "google_token_keys",
)
# Of those, what Google itself must know (placeholders cannot reach it: start answers 503).
GOOGLE_API_KEYS = ("google_client_id", "google_client_secret")
GOOGLE_STATE_SECRET_MIN = 32
# "<version>:<base64 of 32 bytes>" items, comma-separated: the highest version seals.
_TOKEN_KEY = re.compile(r"^([1-9][0-9]{0,5}):([A-Za-z0-9+/_-]{43}=?)$")
# http only for a loopback host (the local fake); https otherwise.
_GOOGLE_BASE = re.compile(
    r"^(https://[^/\s?#@]+|http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?)$"
)


def parse_token_keys(text: str) -> dict[int, bytes]:
    """MENTORSHIPS_GOOGLE_TOKEN_KEYS as {version: 32-byte key}; ValueError saying what is wrong
    (never the keys themselves)."""
    keys: dict[int, bytes] = {}
    for number, item in enumerate((i.strip() for i in text.split(",") if i.strip()), 1):
        match = _TOKEN_KEY.match(item)
        if not match:
            raise ValueError(
                f"item {number} is not <version>:<base64 of 32 random bytes>, such as "
                '"1:" followed by the output of `openssl rand -base64 32`'
            )
        version = int(match.group(1))
        if version in keys:
            raise ValueError(f"version {version} is given twice")
        raw = match.group(2)
        key = base64.urlsafe_b64decode(
            raw.replace("+", "-").replace("/", "_") + "=" * (-len(raw) % 4)
        )
        if len(key) != 32:
            raise ValueError(f"item {number}: the key is not 32 bytes")
        keys[version] = key
    if not keys:
        raise ValueError("no key: give at least one <version>:<base64 of 32 random bytes>")
    return keys


# The unsubscribe links in emails (sync/messaging/unsubscribe.py) are signed with this secret; the
# services verify them (POST /messages/unsubscribe) and the dispatcher signs them, so both read it.
# The previous secret, while set, still verifies the links in mails sent before a rotation.
UNSUBSCRIBE_SECRETS = ("unsubscribe_secret", "unsubscribe_previous_secret")
UNSUBSCRIBE_SECRET_MIN = 32

# What the services cannot run without, and what each one is (said when it is missing).
REQUIRED: dict[str, str] = {
    "supabase_url": (
        "the Supabase project URL, such as https://<ref>.supabase.co, or the local stack's "
        "gateway http://127.0.0.1:54321"
    ),
    "supabase_anon_key": "the project's anon (public) API key",
    "supabase_service_role_key": "the project's service_role API key, a secret",
}

_BASE_URL = re.compile(r"^https?://[^/\s?#@]+$")
_OTLP_BASE = re.compile(r"^https?://[^/\s?#@]+(/[^\s?#]*)?$")


def env_name(field: str) -> str:
    """The environment variable of a setting."""
    return f"{ENV_PREFIX}{field.upper()}"


class ConfigError(Exception):
    """The settings cannot run the services; `problems` names each variable to set."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _jwt_role(key: str) -> str | None:
    """The `role` claim of a key that is a JWT (read, not verified: the services do not hold
    the JWT secret and need not); None for any other form (sb_secret_..., sb_publishable_...)."""
    parts = key.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    role = claims.get("role") if isinstance(claims, dict) else None
    return role if isinstance(role, str) else None


def _unset_if_blank(value: Any) -> Any:
    # MENTORSHIPS_STRIPE_WEBHOOK_SECRET= (empty) means "not set", never an empty secret.
    if isinstance(value, str) and not value.strip():
        return None
    return value


class ProviderSettings(BaseSettings):
    """The payment providers: which are enabled, their keys, their API addresses, where the
    buyer returns. The services read them; so does the local stack, which gives the services it
    starts local placeholder values for the secrets not set (mentorships.stack.Services)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Comma-separated: "stripe,paypal", "stripe", "" (none).
    payment_providers: Annotated[tuple[Provider, ...], NoDecode] = PROVIDERS
    stripe_api_base: str = Field("https://api.stripe.com", pattern=r"^https?://[^/]+$")
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    paypal_api_base: str = Field("https://api-m.sandbox.paypal.com", pattern=r"^https?://[^/]+$")
    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_webhook_id: str | None = None
    # Where the provider sends the buyer back; {order_id} is replaced by the order's id.
    checkout_success_url: str = "http://localhost:8501/?checkout=success&order_id={order_id}"
    checkout_cancel_url: str = "http://localhost:8501/?checkout=canceled&order_id={order_id}"
    # Agora (video calls): the project's App ID and its primary App Certificate (Agora Console,
    # Project Management), both 32 characters.
    agora_app_id: str | None = None
    agora_app_certificate: SecretStr | None = None
    # Discord's OAuth2 application (Developer Portal, OAuth2): its client id and secret, and the
    # redirect URI registered there, which must be these services' /oauth/discord/callback.
    discord_api_base: str = Field("https://discord.com", pattern=r"^https?://[^/]+$")
    discord_client_id: str | None = None
    discord_client_secret: SecretStr | None = None
    discord_redirect_uri: str | None = None
    # Signs the OAuth2 state (HMAC-SHA256): at least 32 characters, random, the services' own.
    discord_state_secret: SecretStr | None = None
    # Google Calendar: the OAuth client (Google Cloud console, a "Web application" client), the
    # redirect URI registered there (these services' /oauth/google/callback), the state secret
    # (at least 32 random characters) and the token keys ("2:<key>,1:<key>"; the highest version
    # seals, every listed one opens). The three bases are Google's, settable for the local fake.
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_redirect_uri: str | None = None
    google_state_secret: SecretStr | None = None
    google_token_keys: SecretStr | None = None
    google_accounts_base: str = "https://accounts.google.com"
    google_oauth_base: str = "https://oauth2.googleapis.com"
    google_api_base: str = "https://www.googleapis.com"
    # Signs the emails' unsubscribe links (HMAC-SHA256): at least 32 random characters, shared by
    # the services and the dispatcher; the previous one is optional (a rotation's old links).
    unsubscribe_secret: SecretStr | None = None
    unsubscribe_previous_secret: SecretStr | None = None

    @field_validator("payment_providers", mode="before")
    @classmethod
    def _split_providers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(dict.fromkeys(p.strip().lower() for p in value.split(",") if p.strip()))
        return value

    @field_validator("stripe_api_base", "paypal_api_base", "discord_api_base", mode="before")
    @classmethod
    def _no_trailing_slash(cls, value: Any) -> Any:
        return value.rstrip("/") if isinstance(value, str) else value

    @field_validator(
        *(field for fields in PROVIDER_SECRETS.values() for field in fields), mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return _unset_if_blank(value)

    @field_validator(*AGORA_SECRETS, mode="before")
    @classmethod
    def _agora_key(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and not _AGORA_KEY.match(text.strip()):
            raise ValueError(
                "expected the 32 characters Agora Console shows (letters and digits), such as "
                '"0123456789abcdef0123456789abcdef"'
            )
        return text.strip() if isinstance(text, str) else value

    @field_validator(*DISCORD_SETTINGS, mode="before")
    @classmethod
    def _discord_blank_is_unset(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("discord_redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str | None) -> str | None:
        if value is not None and not _REDIRECT_URI.match(value):
            raise ValueError(
                "expected the absolute URL registered with Discord, such as "
                "https://services.example.com/oauth/discord/callback"
            )
        return value

    @field_validator("discord_state_secret")
    @classmethod
    def _state_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < DISCORD_STATE_SECRET_MIN:
            raise ValueError(
                f"expected at least {DISCORD_STATE_SECRET_MIN} random characters, such as the "
                "output of `openssl rand -hex 32`"
            )
        return value

    @field_validator(*GOOGLE_SETTINGS, mode="before")
    @classmethod
    def _google_blank_is_unset(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("google_accounts_base", "google_oauth_base", "google_api_base", mode="before")
    @classmethod
    def _google_base(cls, value: Any) -> Any:
        value = value.strip().rstrip("/") if isinstance(value, str) else value
        if isinstance(value, str) and not _GOOGLE_BASE.match(value):
            raise ValueError(
                "expected https:// and a host without a path (http:// only for 127.0.0.1 or "
                "localhost), such as https://oauth2.googleapis.com"
            )
        return value

    @field_validator("google_redirect_uri")
    @classmethod
    def _google_redirect_uri(cls, value: str | None) -> str | None:
        if value is not None and not _REDIRECT_URI.match(value):
            raise ValueError(
                "expected the absolute URL registered with Google, such as "
                "https://services.example.com/oauth/google/callback"
            )
        return value

    @field_validator("google_state_secret")
    @classmethod
    def _google_state_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < GOOGLE_STATE_SECRET_MIN:
            raise ValueError(
                f"expected at least {GOOGLE_STATE_SECRET_MIN} random characters, such as the "
                "output of `openssl rand -hex 32`"
            )
        return value

    @field_validator("google_token_keys")
    @classmethod
    def _google_token_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_token_keys(value.get_secret_value())
        return value

    def missing_google_settings(self) -> list[str]:
        """One message per Google setting that is not set (connecting a calendar needs them
        all; the services start without them)."""
        return [
            f"{env_name(field)} is not set (Google Calendar: connecting needs the OAuth client's "
            "id, secret and redirect URI, a state secret and the token keys)"
            for field in GOOGLE_SETTINGS
            if getattr(self, field) is None
        ]

    @field_validator(*UNSUBSCRIBE_SECRETS, mode="before")
    @classmethod
    def _unsubscribe_blank_is_unset(cls, value: Any) -> Any:
        return _unset_if_blank(value)

    @field_validator(*UNSUBSCRIBE_SECRETS)
    @classmethod
    def _unsubscribe_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < UNSUBSCRIBE_SECRET_MIN:
            raise ValueError(
                f"expected at least {UNSUBSCRIBE_SECRET_MIN} random characters, such as the "
                "output of `openssl rand -hex 32`"
            )
        return value

    def unsubscribe_secrets(self) -> list[bytes]:
        """The secrets unsubscribe links verify with: the current one (which signs), then the
        previous one when set."""
        return [
            value.get_secret_value().encode()
            for field in UNSUBSCRIBE_SECRETS
            if (value := getattr(self, field)) is not None
        ]

    def missing_provider_settings(self) -> list[str]:
        """One message per setting an enabled provider needs and does not have."""
        return [
            f"{env_name(field)} is not set ({provider} is enabled; set it or drop {provider} "
            f"from {env_name('payment_providers')})"
            for provider in self.payment_providers
            for field in PROVIDER_SECRETS[provider]
            if getattr(self, field) is None
        ]

    def missing_agora_settings(self) -> list[str]:
        """One message per Agora setting that is not set (video tokens need both)."""
        return [
            f"{env_name(field)} is not set (Agora: video calls need the project's App ID and "
            "App Certificate)"
            for field in AGORA_SECRETS
            if getattr(self, field) is None
        ]

    def missing_discord_settings(self) -> list[str]:
        """One message per Discord setting that is not set (linking Discord needs them all)."""
        return [
            f"{env_name(field)} is not set (Discord: linking a Discord account needs the OAuth2 "
            "application's client id, secret and redirect URI, and a state secret)"
            for field in DISCORD_SETTINGS
            if getattr(self, field) is None
        ]


class ServiceSettings(ProviderSettings):
    """Everything the services read. Every field is MENTORSHIPS_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    # The Supabase project (REQUIRED says what each is): /rest/v1 is derived from the URL.
    supabase_url: str | None = None
    supabase_anon_key: str | None = None
    supabase_service_role_key: SecretStr | None = None
    # Where the services listen.
    services_host: str = "127.0.0.1"
    services_port: int = Field(54330, ge=1, le=65535)
    # Where Agora's Web SDK for the call page is (the npm package agora-rtc-sdk-ng's folder);
    # unset: sync/call/node_modules/agora-rtc-sdk-ng, where scripts/setup.sh puts it. Missing,
    # the services still start and the call page says the call software is not installed.
    call_sdk_dir: Path | None = None
    # Observability (sync/observability/): GET /metrics asks for `Authorization: Bearer <token>`
    # when this is set (it is not served through the gateway; unset: no auth). OpenTelemetry
    # exports traces and metrics over OTLP/HTTP to this base URL (/v1/traces, /v1/metrics are
    # added) when set, nothing otherwise: MENTORSHIPS_OTLP_ENDPOINT, or the standard
    # OTEL_EXPORTER_OTLP_ENDPOINT (OTEL_EXPORTER_OTLP_HEADERS carries a collector's key).
    metrics_token: SecretStr | None = None
    otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "otlp_endpoint", f"{ENV_PREFIX}OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
    )

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token_blank_is_unset(cls, value: Any) -> Any:
        return _unset_if_blank(value)

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _otlp_endpoint(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        if isinstance(value, str):
            value = value.strip().rstrip("/")
            if not _OTLP_BASE.match(value):
                raise ValueError(
                    "expected the collector's base URL (http or https, a host, an optional port "
                    "and path), such as https://api.axiom.co or http://127.0.0.1:4318"
                )
        return value

    @field_validator("call_sdk_dir", mode="before")
    @classmethod
    def _sdk_dir_blank_is_unset(cls, value: Any) -> Any:
        return _unset_if_blank(value)

    @field_validator(*REQUIRED, mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("supabase_url")
    @classmethod
    def _project_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        if value.endswith("/rest/v1"):
            raise ValueError(
                "give the project URL without /rest/v1, such as https://<ref>.supabase.co"
            )
        if not _BASE_URL.match(value):
            raise ValueError(
                "expected the project URL: http(s), a host and an optional port, no path, such "
                "as https://<ref>.supabase.co or http://127.0.0.1:54321"
            )
        return value

    @field_validator("supabase_anon_key")
    @classmethod
    def _anon_key(cls, value: str | None) -> str | None:
        if value is not None and (
            value.startswith("sb_secret_") or _jwt_role(value) not in (None, "anon")
        ):
            raise ValueError(
                "this is not the anon key (it is a secret key or has another role): the services "
                "send the anon key with each user's own token, never a secret one"
            )
        return value

    @field_validator("supabase_service_role_key")
    @classmethod
    def _service_role_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            key = value.get_secret_value()
            if key.startswith("sb_publishable_") or _jwt_role(key) not in (None, "service_role"):
                raise ValueError(
                    "this is not the service_role key (it is a public key or has another role)"
                )
        return value

    @property
    def rest_url(self) -> str:
        """The project's PostgREST API (as supabase-py derives it)."""
        return f"{self.supabase_url}/rest/v1"

    @property
    def address(self) -> str:
        return f"http://{self.services_host}:{self.services_port}"

    def problems(self) -> list[str]:
        """One message per variable the services need and do not have."""
        return (
            [
                f"{env_name(field)} is not set ({what})"
                for field, what in REQUIRED.items()
                if getattr(self, field) is None
            ]
            + self.missing_provider_settings()
            + self.missing_agora_settings()
            + self.missing_discord_settings()
            + (
                [
                    f"{env_name('unsubscribe_secret')} is not set (it signs the unsubscribe links "
                    "in emails; the services and the dispatcher need the same one)"
                ]
                if self.unsubscribe_secret is None
                else []
            )
        )

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)

    def to_env(self) -> dict[str, str]:
        """Every setting as the MENTORSHIPS_* variable that reproduces it (secrets included:
        for a child process's environment only)."""
        env = {}
        for field in type(self).model_fields:
            value = getattr(self, field)
            if value is None:
                text = ""
            elif isinstance(value, SecretStr):
                text = value.get_secret_value()
            elif isinstance(value, tuple):
                text = ",".join(value)
            else:
                text = str(value)
            env[env_name(field)] = text
        return env


def load() -> ServiceSettings:
    """The settings from the environment (and .env), checked: a ConfigError names every
    variable that is missing or malformed (never its value: it may be a secret)."""
    try:
        settings = ServiceSettings()
    except ValidationError as e:
        raise ConfigError([_problem(error) for error in e.errors()]) from None
    settings.check()
    return settings


def _problem(error: ErrorDetails) -> str:
    """pydantic's error as the variable and what is wrong with it, without the value."""
    field = str(error["loc"][0]) if error["loc"] else "settings"
    message = error["msg"].removeprefix("Value error, ")
    return f"{env_name(field)}: {message[:1].lower()}{message[1:]}"
