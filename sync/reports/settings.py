"""The reports' schedule's settings (`python -m sync.reports`): one typed object read once from
the environment (and `.env`), prefix MENTORSHIPS_, like the calendar sync's (sync/gcal/settings.py).
Its own: the database it builds in (dbt needs a direct connection), how often it asks whether a
build is due, its lease, its health file, and where dbt's target/ and logs/ go.

    settings = load()        # ConfigError naming each variable that is missing or malformed
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.messaging.settings import WorkerSettings
from sync.reports import dbt
from sync.settings import ENV_PREFIX, ConfigError, _problem, _unset_if_blank, env_name


class ReportsSettings(BaseSettings):
    """Everything the schedule reads. Every field is MENTORSHIPS_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    # A direct Postgres URL (the database owner, or a role that may create in analytics): the
    # claims, the finishes and dbt itself. Required.
    reports_database_url: SecretStr | None = None
    # The worker's name in report_runs.claimed_by (default: host:pid:reports).
    reports_worker_name: str | None = Field(None, min_length=1, max_length=200)
    # How often it asks whether a build is due (the interval itself is
    # platform_settings.report_build_interval_minutes).
    reports_poll_seconds: float = Field(60.0, gt=0, le=3600)
    # How long a build is the worker's before the next claim counts it dead (marked failed).
    reports_lease_seconds: int = Field(3600, ge=60, le=86400)
    # The health file the worker rewrites each loop (JSON; `mentorships status` reads it).
    reports_status_file: Path | None = None
    # The dbt project (default: dbt/ of this checkout), and dbt's target/ and logs/ (default:
    # its target/ and logs/).
    reports_project_dir: Path | None = None
    reports_target_dir: Path | None = None
    reports_log_dir: Path | None = None

    @field_validator(
        "reports_database_url",
        "reports_worker_name",
        "reports_status_file",
        "reports_project_dir",
        "reports_target_dir",
        "reports_log_dir",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        value = _unset_if_blank(value)
        return value.strip() if isinstance(value, str) else value

    _database_url = field_validator("reports_database_url")(
        WorkerSettings._database_url.__func__  # type: ignore[attr-defined]
    )

    @property
    def database_url(self) -> str:
        assert self.reports_database_url is not None
        return self.reports_database_url.get_secret_value()

    def place(self) -> dbt.Place:
        project = self.reports_project_dir or dbt.PROJECT_DIR
        return dbt.Place(
            project_dir=project,
            target_dir=self.reports_target_dir or project / "target",
            log_dir=self.reports_log_dir or project / "logs",
        )

    def problems(self) -> list[str]:
        if self.reports_database_url is None:
            return [
                f"{env_name('reports_database_url')} is not set (a Postgres URL dbt builds the "
                "reports with, such as postgresql://postgres:<password>@host:5432/postgres)"
            ]
        return []


def load(**values: Any) -> ReportsSettings:
    """The settings from the environment (and .env), checked; `values` override them (tests)."""
    try:
        settings = ReportsSettings(**values)
    except ValidationError as e:
        raise ConfigError([_problem(error) for error in e.errors()]) from None
    problems = settings.problems()
    if problems:
        raise ConfigError(problems)
    return settings
