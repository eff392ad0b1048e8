"""The dispatcher's settings (`python -m sync.messaging`): one typed object read once from the
environment (and `.env` in the working directory), prefix MENTORSHIPS_, like the services'
(sync/settings.py). Its own: the Supabase project it claims from (URL and service-role key), an
optional direct Postgres URL to LISTEN on, where links point, how it batches, and the providers:
Resend for email and Discord's bot for DMs when their keys are set, otherwise the file transport
in the mail folder (local mode).

    settings = load()        # ConfigError naming each variable that is missing or malformed

DeliverySettings (the providers and links) is what a local stack reads too, to pass them on to
the worker it starts (mentorships.stack.worker)."""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.settings import (
    ENV_PREFIX,
    UNSUBSCRIBE_SECRET_MIN,
    ConfigError,
    _jwt_role,
    _problem,
    _unset_if_blank,
    env_name,
)

# Local mode's folder when none is given (a local stack gives its own, .local/<stack>/mail).
DEFAULT_MAIL_DIR = Path(".local/demo/mail")
_BASE_URL = re.compile(r"^https?://[^/\s?#@]+(/[^\s?#]*)?$")
_API_BASE = re.compile(r"^https?://[^/\s?#@]+$")

# What the worker cannot run without, and what each one is (said when it is missing).
REQUIRED: dict[str, str] = {
    "supabase_url": (
        "the Supabase project URL, such as https://<ref>.supabase.co, or the local stack's "
        "gateway http://127.0.0.1:54321"
    ),
    "supabase_service_role_key": "the project's service_role API key, a secret",
    "unsubscribe_secret": (
        "it signs the unsubscribe links in emails; the services and the dispatcher need the "
        "same one"
    ),
}


class DeliverySettings(BaseSettings):
    """How messages leave: the providers' keys (unset: the file transport for that channel),
    the sender, the links' base URLs and the mail folder."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Resend (email): the API key (Resend dashboard, API Keys), its API address, and the
    # account's rate limit (requests per second; Resend's default is 2).
    resend_api_key: SecretStr | None = None
    resend_api_base: str = "https://api.resend.com"
    resend_rate_per_second: float = Field(2.0, gt=0, le=1000)
    # Discord (DMs): the bot's token (Developer Portal, Bot); the same API base as linking.
    discord_bot_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com"
    # The From of every email (a domain verified with Resend), also the invites' ORGANIZER.
    mail_from: str = "Mentorships <messages@mentorships.local>"
    # Links in messages: the dashboards, and the services that serve the call page and the
    # unsubscribe links.
    dashboard_url: str = "http://localhost:8501"
    call_page_url: str = "http://127.0.0.1:54330"
    # Local mode: where the file transport writes (one .eml per email, one .json per DM).
    mail_dir: Path = DEFAULT_MAIL_DIR
    # Signs the one-click unsubscribe links of the emails people may turn off (the services
    # verify them with the same secret).
    unsubscribe_secret: SecretStr | None = None

    @field_validator("resend_api_key", "discord_bot_token", "unsubscribe_secret", mode="before")
    @classmethod
    def _blank_key_is_unset(cls, value: Any) -> Any:
        return _unset_if_blank(value)

    @field_validator("unsubscribe_secret")
    @classmethod
    def _unsubscribe_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < UNSUBSCRIBE_SECRET_MIN:
            raise ValueError(
                f"expected at least {UNSUBSCRIBE_SECRET_MIN} random characters, the services' "
                "MENTORSHIPS_UNSUBSCRIBE_SECRET"
            )
        return value

    @field_validator("mail_dir", mode="before")
    @classmethod
    def _blank_is_default(cls, value: Any) -> Any:
        return DEFAULT_MAIL_DIR if _unset_if_blank(value) is None else value

    @field_validator("resend_api_base", "discord_api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        value = value.rstrip("/")
        if not _API_BASE.match(value):
            raise ValueError("expected http(s), a host and an optional port, no path")
        return value

    @field_validator("dashboard_url", "call_page_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not _BASE_URL.match(value):
            raise ValueError("expected an http(s) URL without query, such as https://app.example")
        return value

    @field_validator("mail_from")
    @classmethod
    def _sender(cls, value: str) -> str:
        _, address = parseaddr(value)
        if not address or "@" not in address or any(c in value for c in "\r\n"):
            raise ValueError('expected an address, such as "Mentorships <messages@example.com>"')
        return value.strip()

    @property
    def unsubscribe_key(self) -> bytes:
        """The secret that signs unsubscribe links (WorkerSettings requires it)."""
        if self.unsubscribe_secret is None:
            raise ConfigError([f"{env_name('unsubscribe_secret')} is not set"])
        return self.unsubscribe_secret.get_secret_value().encode()

    @property
    def sender_address(self) -> str:
        """The bare address of mail_from (the invites' ORGANIZER)."""
        return parseaddr(self.mail_from)[1]

    def to_env(self) -> dict[str, str]:
        """These settings as the MENTORSHIPS_* variables that reproduce them (secrets
        included: for a child process's environment only)."""
        env = {}
        for field in type(self).model_fields:
            value = getattr(self, field)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[env_name(field)] = "" if value is None else str(value)
        return env


class WorkerSettings(DeliverySettings):
    """Everything the dispatcher reads. Every field is MENTORSHIPS_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    supabase_url: str | None = None
    supabase_service_role_key: SecretStr | None = None
    # A direct Postgres URL (a role that may LISTEN): the worker wakes on notifications_due
    # within a moment of a commit. Unset: it polls only.
    messages_database_url: SecretStr | None = None
    # The worker's name in claimed_by (default: host:pid).
    messages_worker_name: str | None = Field(None, min_length=1, max_length=200)
    messages_batch_size: int = Field(100, ge=1, le=1000)
    # Sends in flight at once (per worker).
    messages_concurrency: int = Field(16, ge=1, le=500)
    # A poll between wake-ups: reminders falling due, retries, a missed notify.
    messages_poll_seconds: float = Field(5.0, gt=0, le=3600)
    # How long a claim is the worker's before another may take it (a dead worker's messages).
    messages_lease_seconds: int = Field(120, ge=10, le=3600)
    # The health file the worker rewrites each loop (JSON; `mentorships status` reads it).
    messages_status_file: Path | None = None

    @field_validator(
        *REQUIRED,
        "messages_database_url",
        "messages_worker_name",
        "messages_status_file",
        mode="before",
    )
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
        if value.endswith("/rest/v1") or not _API_BASE.match(value):
            raise ValueError(
                "expected the project URL: http(s), a host and an optional port, no path, such "
                "as https://<ref>.supabase.co or http://127.0.0.1:54321"
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

    @field_validator("messages_database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError("expected a URL such as postgresql://user:password@host:5432/postgres")
        return value

    @property
    def rest_url(self) -> str:
        return f"{self.supabase_url}/rest/v1"

    def problems(self) -> list[str]:
        return [
            f"{env_name(field)} is not set ({what})"
            for field, what in REQUIRED.items()
            if getattr(self, field) is None
        ]


def load(**values: Any) -> WorkerSettings:
    """The settings from the environment (and .env), checked; `values` override them (tests). A
    ConfigError names every variable that is missing or malformed (never its value)."""
    try:
        settings = WorkerSettings(**values)
    except ValidationError as e:
        raise ConfigError([_problem(error) for error in e.errors()]) from None
    problems = settings.problems()
    if problems:
        raise ConfigError(problems)
    return settings
