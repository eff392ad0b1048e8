"""One typed settings object, read once from the environment (and `.env`)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Supabase's well-known local JWT secret (the Supabase CLI's default). Local stacks only.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


class Settings(BaseSettings):
    """Where the local stack runs and how it authenticates.

    Every field can be set as MENTORSHIPS_<FIELD> (e.g. MENTORSHIPS_DB_PORT=5432).
    """

    model_config = SettingsConfigDict(
        env_prefix="MENTORSHIPS_",
        env_file=PROJECT_DIR / ".env",
        extra="ignore",
        frozen=True,
    )

    stack: str = Field("demo", pattern=r"^[a-z][a-z0-9_-]{0,30}$")
    host: str = "127.0.0.1"
    gateway_port: int = 54321
    db_port: int = 54322
    # Internal ports sit below Linux's ephemeral range (32768-60999): a client connection's local
    # port in TIME_WAIT could otherwise hold one when PostgREST binds it.
    postgrest_port: int = 24325
    postgrest_admin_port: int = 24326
    services_port: int = 54330
    db_name: str = "postgres"
    db_password: SecretStr = SecretStr("postgres")
    jwt_secret: SecretStr = SecretStr(LOCAL_JWT_SECRET)
    jwt_expiry_seconds: int = Field(3600, ge=60, le=30 * 24 * 3600)
    postgrest_db_pool: int = Field(20, ge=1, le=200)
    # Lets a request ask PostgREST to roll back (Prefer: tx=rollback). Test stack only.
    allow_tx_rollback: bool = False
    # Faster, crash-unsafe Postgres settings (fsync off). Test stack only.
    ephemeral: bool = False

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.gateway_url}/rest/v1"

    def dsn(self, user: str = "postgres", password: str | None = None) -> str:
        pw = self.db_password.get_secret_value() if password is None else password
        return f"postgresql://{user}:{pw}@{self.host}:{self.db_port}/{self.db_name}"


def settings_for_tests() -> Settings:
    """The stack `make test` runs on: its own cluster and ports, never the demo's."""
    return Settings(
        stack="test",
        gateway_port=25321,
        db_port=25322,
        postgrest_port=25325,
        postgrest_admin_port=25326,
        services_port=25330,
        allow_tx_rollback=True,
        ephemeral=True,
    )


@functools.cache
def get_settings() -> Settings:
    return Settings()
