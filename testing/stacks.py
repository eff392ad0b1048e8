"""The stacks tests and benchmarks run on, each with ports and a cluster of its own: never the
demo's. Settings given in code alone, so no MENTORSHIPS_* variable or .env changes them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from mentorships import db
from mentorships.settings import Settings
from mentorships.stack import Stack, paths
from mentorships.stack.postgres import Postgres

TEST_PORT_BASE = 25320


class _FixedSettings(Settings):
    """Settings given in code alone: no MENTORSHIPS_* variable and no .env reach them (a pool size
    of 1 there would let every race test pass without contention)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_for_tests() -> Settings:
    """The stack `make test` runs on: its own cluster and ports, never the demo's.

    MENTORSHIPS_TEST_PORTS moves it (default 25320: gateway 25321, Postgres 25322, ...), so two
    suites can run side by side; each base gets a cluster of its own."""
    base = int(os.environ.get("MENTORSHIPS_TEST_PORTS") or TEST_PORT_BASE)
    if not 1024 <= base <= 32700:
        raise ValueError(f"MENTORSHIPS_TEST_PORTS must be between 1024 and 32700, not {base}")
    return _FixedSettings(
        stack="test" if base == TEST_PORT_BASE else f"test-{base}",
        gateway_port=base + 1,
        db_port=base + 2,
        postgrest_port=base + 5,
        postgrest_admin_port=base + 6,
        services_port=base + 10,
        dashboards_port=base + 11,
        paypal_local_port=base + 7,
        google_local_port=base + 8,
        allow_tx_rollback=True,
        ephemeral=True,
        messages_worker=False,
        gcal_worker=False,
        reports_worker=False,
        dashboards=False,  # the browser tests start them (testing/dashboards.py)
        google_local=False,
        # The suite hammers its stack from one address: limits it never reaches, still on, so
        # every test passes the real limit_req zones. The limits' own tests start a gateway of
        # their own with tight ones (tests/test_gateway_limits.py).
        **generous_rate_limits(),
    )


def log_files(settings: Settings) -> list[Path]:
    """Every log a stack's components write: the services' and the workers', PostgREST's,
    nginx's, Postgres's."""
    p = paths(settings)
    files = [*p.logs.glob("*.log"), *p.nginx.glob("*.log"), p.pglog, Postgres(settings).json_log]
    return [f for f in files if f.is_file()]


def clear_logs(settings: Settings) -> None:
    """Empties a test stack's logs, so that what they hold after a run is that run's
    (tests/zz_logs reads them)."""
    for f in log_files(settings):
        f.write_bytes(b"")


def generous_rate_limits() -> dict[str, Any]:
    """Every route class limited at 100 000 requests a second, bursts of 100 000: on, never
    refusing (the test stack, the benchmarks)."""
    from mentorships.stack.gateway_limits import CLASS_NAMES

    return {
        "rate_limit_enabled": True,
        **{f"rate_limit_{c}": "100000r/s 100000" for c in CLASS_NAMES},
    }


def bench_settings(**overrides: Any) -> Settings:
    """The stack the benchmarks (bench/) start: `bench`, ports 263xx; `overrides` are the
    benchmark's own values (a pool size, a provider's URL). The gateway's rate limits are on and
    never refuse (generous_rate_limits): a benchmark measures their cost, not their refusals;
    `rate_limit_enabled=False` measures without them."""
    return Settings(
        **{
            **generous_rate_limits(),
            "stack": "bench",
            "gateway_port": 26321,
            "db_port": 26322,
            "postgrest_port": 26325,
            "postgrest_admin_port": 26326,
            "services_port": 26330,
            "dashboards_port": 26331,
            **overrides,
        }
    )


@contextlib.contextmanager
def running_bench_stack(stack: Stack, *, keep: bool = False) -> Iterator[Stack]:
    """The bench stack started on an empty database: Postgres, the schema and rules applied,
    pg_cron paused (the benchmarks freeze the clock and run no jobs), PostgREST and the gateway;
    stopped afterwards, also on failure, unless `keep`."""
    settings = stack.settings
    try:
        stack.postgres.start()
        db.reset(settings)
        db.apply(settings)
        db.psql(settings, "-c", "update cron.job set active = false", what="pausing pg_cron")
        stack.postgrest.start()
        stack.gateway.start()
        yield stack
    finally:
        if not keep:
            for _ in stack.stop():
                pass
