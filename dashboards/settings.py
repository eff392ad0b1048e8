"""The dashboards' settings, read once from the environment (and `.env`), prefix MENTORSHIPS_.

MENTORSHIPS_SUPABASE_URL            the project's URL (the gateway: /rest/v1/, /auth/v1/)
MENTORSHIPS_SUPABASE_ANON_KEY       its anon key (public)
MENTORSHIPS_DASHBOARDS_SERVICES_URL the services (checkout, the call page, Discord, Google)
MENTORSHIPS_DASHBOARDS_LOCAL_SIGN_IN true on a local stack only: sign in as a listed account
MENTORSHIPS_DASHBOARDS_JWT_SECRET   the local stack's JWT secret (local sign-in only)
MENTORSHIPS_DASHBOARDS_CACHE_SECONDS how long a read is reused (default 15)
"""

from __future__ import annotations

import functools

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_URL = r"^https?://[^/\s?#@]+$"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names each variable."""


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MENTORSHIPS_", env_file=".env", extra="ignore", frozen=True
    )

    supabase_url: str = Field(pattern=_URL)
    supabase_anon_key: SecretStr
    dashboards_services_url: str | None = Field(None, pattern=_URL)
    # Supabase Auth (GoTrue) when it is not at the project URL's /auth/v1 (self-hosted).
    dashboards_auth_url: str | None = Field(None, pattern=r"^https?://[^\s?#@]+$")
    dashboards_local_sign_in: bool = False
    dashboards_jwt_secret: SecretStr | None = None
    dashboards_cache_seconds: int = Field(15, ge=0, le=600)
    # A signed-in session is refreshed when its token has less than this left.
    dashboards_refresh_margin_seconds: int = Field(120, ge=10, le=3000)
    dashboards_timeout_seconds: float = Field(15, gt=0, le=120)

    @model_validator(mode="after")
    def _local_sign_in_needs_the_secret(self) -> DashboardSettings:
        if self.dashboards_local_sign_in and self.dashboards_jwt_secret is None:
            raise ValueError(
                "MENTORSHIPS_DASHBOARDS_JWT_SECRET is required with "
                "MENTORSHIPS_DASHBOARDS_LOCAL_SIGN_IN=true (the local stack's JWT secret)"
            )
        if not self.dashboards_local_sign_in and self.dashboards_jwt_secret is not None:
            raise ValueError(
                "MENTORSHIPS_DASHBOARDS_JWT_SECRET is for a local stack only: set "
                "MENTORSHIPS_DASHBOARDS_LOCAL_SIGN_IN=true, or remove the secret"
            )
        return self

    @property
    def auth_url(self) -> str:
        return (self.dashboards_auth_url or self.supabase_url.rstrip("/") + "/auth/v1").rstrip("/")

    @property
    def rest_url(self) -> str:
        return self.supabase_url.rstrip("/") + "/rest/v1"


def load() -> DashboardSettings:
    """The settings, or ConfigError naming each variable that is missing or malformed."""
    try:
        return DashboardSettings()
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field = ".".join(str(p) for p in err["loc"])
            name = f"MENTORSHIPS_{field.upper()}" if field else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise ConfigError("; ".join(problems)) from None


@functools.cache
def cached() -> DashboardSettings:
    return load()
