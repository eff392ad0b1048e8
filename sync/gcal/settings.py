"""The calendar sync's settings (`python -m sync.gcal`): one typed object read once from the
environment (and `.env`), prefix MENTORSHIPS_, like the dispatcher's (sync/messaging/settings.py).
Its own: the Supabase project it claims from (URL and service-role key), Google's OAuth client
and token keys (the services' MENTORSHIPS_GOOGLE_* settings, sync/settings.py), and how it batches.

    settings = load()        # ConfigError naming each variable that is missing or malformed
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from sync.messaging.settings import WorkerSettings
from sync.settings import (
    ENV_PREFIX,
    ConfigError,
    ProviderSettings,
    _problem,
    _unset_if_blank,
    env_name,
)

REQUIRED: dict[str, str] = {
    "supabase_url": "the Supabase project URL, such as https://<ref>.supabase.co",
    "supabase_service_role_key": "the project's service_role API key, a secret",
    "google_client_id": "the Google OAuth client's id (the services' one)",
    "google_client_secret": "the Google OAuth client's secret (the services' one)",
    "google_token_keys": "the keys that sealed the refresh tokens (the services' ones)",
}


_WEBHOOK_URL = re.compile(r"^https?://[^/\s?#@]+/[^\s#?]*$")


class GcalSettings(ProviderSettings):
    """Everything the calendar sync reads. Every field is MENTORSHIPS_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    supabase_url: str | None = None
    supabase_service_role_key: SecretStr | None = None
    # The worker's name in the claims (default: host:pid).
    gcal_worker_name: str | None = Field(None, min_length=1, max_length=200)
    # Mentors claimed at once, and synced at once (each is a few HTTP calls to Google).
    gcal_batch_size: int = Field(10, ge=1, le=500)
    gcal_concurrency: int = Field(4, ge=1, le=64)
    # How often it asks for due mentors (each mentor's own interval is
    # platform_settings.calendar_sync_interval_seconds).
    gcal_poll_seconds: float = Field(15.0, gt=0, le=3600)
    # How long a claim is the worker's before another may take the mentor.
    gcal_lease_seconds: int = Field(300, ge=10, le=3600)
    # Push (sync/gcal/channels.py): the public https address of these services' POST
    # /webhooks/google. Set: every watched calendar gets an events.watch channel, renewed before
    # it expires. Unset: no channels, polling only (platform_settings.calendar_sync_interval_seconds).
    google_webhook_url: str | None = None
    # A direct Postgres URL (a role that may LISTEN): the worker wakes on calendar_sync_due, which
    # google_push sends, within a moment. Unset: a notified sync waits for the next poll.
    gcal_database_url: SecretStr | None = None
    # A health file the worker rewrites each loop (mentorships status reads the stack's).
    gcal_status_file: Path | None = None
    # Session events: sessions claimed at once, and how long a claim of them is the worker's.
    gcal_jobs_batch_size: int = Field(20, ge=1, le=500)
    gcal_jobs_lease_seconds: int = Field(120, ge=10, le=3600)
    # How long one request to Google may take.
    gcal_http_timeout_seconds: float = Field(30.0, gt=0, le=300)
    # The services' public address: the call page link in each session event (as in messages).
    call_page_url: str = "http://127.0.0.1:54330"

    @field_validator(
        *REQUIRED, "gcal_worker_name", "google_webhook_url", "gcal_database_url", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        return value.strip() if isinstance(value, str) else value

    _project_url = field_validator("supabase_url")(WorkerSettings._project_url.__func__)  # type: ignore[attr-defined]
    _service_role_key = field_validator("supabase_service_role_key")(
        WorkerSettings._service_role_key.__func__  # type: ignore[attr-defined]
    )

    @field_validator("google_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        loopback = parts.hostname in ("127.0.0.1", "localhost")
        if not (
            _WEBHOOK_URL.match(value)
            and (parts.scheme == "https" or (parts.scheme == "http" and loopback))
        ):
            raise ValueError(
                "expected the public https address of the services' /webhooks/google, such as "
                "https://services.example.com/webhooks/google (http:// only for 127.0.0.1 or "
                "localhost)"
            )
        return value

    _database_url = field_validator("gcal_database_url")(
        WorkerSettings._database_url.__func__  # type: ignore[attr-defined]
    )
    _call_page_url = field_validator("call_page_url")(WorkerSettings._base_url.__func__)  # type: ignore[attr-defined]

    @property
    def rest_url(self) -> str:
        return f"{self.supabase_url}/rest/v1"

    def problems(self) -> list[str]:
        return [
            f"{env_name(field)} is not set ({what})"
            for field, what in REQUIRED.items()
            if getattr(self, field) is None
        ]


def load(**values: Any) -> GcalSettings:
    """The settings from the environment (and .env), checked; `values` override them (tests)."""
    try:
        settings = GcalSettings(**values)
    except ValidationError as e:
        raise ConfigError([_problem(error) for error in e.errors()]) from None
    problems = settings.problems()
    if problems:
        raise ConfigError(problems)
    return settings
