"""One typed settings object, read once from the environment (and `.env`)."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from sync.settings import ProviderSettings

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Supabase's well-known local JWT secret (the Supabase CLI's default). Local stacks only.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
# A rate limit setting: "<rate>r/s <burst>", "<rate>r/m <burst>" or "off".
RATE_LIMIT_PATTERN = r"^(off|[1-9][0-9]{0,6}r/[sm] [0-9]{1,7})$"


class Settings(ProviderSettings):
    """Where the local stack runs and how it authenticates, and the payment providers of the
    services it starts (sync.settings.ProviderSettings: the services' own variables, which the
    stack renders for them with its gateway's URL and keys, mentorships.stack.Services).

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
    # The dashboards (Streamlit, dashboards/): where `up` serves them, and whether it does.
    dashboards_port: int = Field(8501, ge=1, le=65535)
    dashboards: bool = True
    # How long the dashboards reuse a read within a session (0: never; the benchmark's setting).
    dashboards_cache_seconds: int = Field(15, ge=0, le=600)
    db_name: str = "postgres"
    db_password: SecretStr = SecretStr("postgres")
    # The `analyst` role's login password (the reports in SQL); `db apply` and `up` set it.
    analyst_password: SecretStr = SecretStr("analyst")
    jwt_secret: SecretStr = SecretStr(LOCAL_JWT_SECRET)
    jwt_expiry_seconds: int = Field(3600, ge=60, le=30 * 24 * 3600)
    postgrest_db_pool: int = Field(20, ge=1, le=200)
    # How long the gateway waits for PostgREST's answer before it answers 504 itself.
    gateway_upstream_timeout_seconds: int = Field(60, ge=1, le=3600)
    # Rate limits at the gateway, per route class (mentorships.stack.gateway_limits): "RATE BURST"
    # for one signed-in user (RATE as <n>r/s or <n>r/m; BURST the requests allowed at once above
    # it), or "off". Every client address has rate_limit_address_factor times that (many people
    # share one NAT); an anonymous request is limited by its address only.
    rate_limit_enabled: bool = True
    rate_limit_address_factor: int = Field(5, ge=1, le=1000)
    rate_limit_default: str = Field("10r/s 20", pattern=RATE_LIMIT_PATTERN)
    rate_limit_catalog: str = Field("20r/s 40", pattern=RATE_LIMIT_PATTERN)
    rate_limit_availability: str = Field("5r/s 20", pattern=RATE_LIMIT_PATTERN)
    rate_limit_booking: str = Field("30r/m 10", pattern=RATE_LIMIT_PATTERN)
    rate_limit_checkout: str = Field("10r/m 5", pattern=RATE_LIMIT_PATTERN)
    rate_limit_admin: str = Field("5r/s 30", pattern=RATE_LIMIT_PATTERN)
    rate_limit_webhook: str = Field("off", pattern=RATE_LIMIT_PATTERN)
    rate_limit_errors: str = Field("6r/m 5", pattern=RATE_LIMIT_PATTERN)
    # Addresses (comma-separated, CIDR or single) the gateway believes: their X-Request-Id is kept
    # and their X-Forwarded-For names the client (a load balancer in front of the gateway, the
    # services calling on a person's behalf); from anyone else the gateway makes its own id.
    gateway_trusted_addresses: str = Field("", pattern=r"^[0-9A-Fa-f.:/, ]*$")
    # Lets a request ask PostgREST to roll back (Prefer: tx=rollback). Test stack only.
    allow_tx_rollback: bool = False
    # Faster, crash-unsafe Postgres settings (fsync off). Test stack only.
    ephemeral: bool = False
    # Whether `up` starts the outbox dispatcher (sync/messaging/) next to the services. The test
    # stack leaves it out: its tests run dispatchers of their own.
    messages_worker: bool = True
    # Whether `up` starts the calendar sync (`python -m sync.gcal`); the test stack leaves it out
    # as it does the dispatcher.
    gcal_worker: bool = True
    # Whether `up` starts the reports' schedule (`python -m sync.reports`); the test stack leaves
    # it out as it does the other workers.
    reports_worker: bool = True
    # Local Google mode: with no Google client configured (MENTORSHIPS_GOOGLE_CLIENT_ID unset and
    # Google's own addresses), `up` runs a local Google (OAuth and Calendar v3, the strict fake's
    # logic) on this port and points the services and the calendar sync at it. Not set (or
    # empty): MENTORSHIPS_POSTGREST_PORT + 3 (demo 24328, test 25328, bench 26328).
    google_local: bool = True
    google_local_port: int = Field(24328, ge=1, lt=32768)

    # Local stacks whose PayPal keys are placeholders play PayPal's certificate host themselves
    # (mentorships.stack.Services.local_paypal_signer): the gateway serves the local signer's
    # certificate on this port, and that address is the services' PayPal API base. Below the
    # ephemeral range, as PostgREST's ports; not set (or empty): MENTORSHIPS_POSTGREST_PORT + 2.
    paypal_local_port: int = Field(24327, ge=1, lt=32768)

    @model_validator(mode="before")
    @classmethod
    def _local_ports_follow_postgrest(cls, data: Any) -> Any:
        # Each stack (demo 24327, test 25327, bench 26327) gets its own port without naming it.
        if not isinstance(data, dict):
            return data
        postgrest: Any = data.get("postgrest_port") or cls.model_fields["postgrest_port"].default
        for field, offset in (("paypal_local_port", 2), ("google_local_port", 3)):
            if data.get(field) in (None, ""):
                with contextlib.suppress(TypeError, ValueError):
                    data = {**data, field: int(postgrest) + offset}
        return data

    @property
    def services_url(self) -> str:
        return f"http://{self.host}:{self.services_port}"

    @property
    def dashboards_url(self) -> str:
        return f"http://{self.host}:{self.dashboards_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def rest_url(self) -> str:
        return f"{self.gateway_url}/rest/v1"

    @property
    def public_services_url(self) -> str:
        """The services as clients reach them: through the gateway, under its limits."""
        return f"{self.gateway_url}/services"

    def analyst_dsn(self) -> str:
        return self.dsn("analyst", self.analyst_password.get_secret_value())

    def dsn(self, user: str = "postgres", password: str | None = None) -> str:
        pw = self.db_password.get_secret_value() if password is None else password
        return f"postgresql://{user}:{pw}@{self.host}:{self.db_port}/{self.db_name}"


@functools.cache
def get_settings() -> Settings:
    return Settings()
