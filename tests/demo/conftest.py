"""The test stack as `mentorships up` leaves it, for the demo's tests."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from mentorships.settings import Settings
from mentorships.stack import Services, Stack


@pytest.fixture
def services(stack: Stack) -> Iterator[Services]:
    """The test stack's services, as `mentorships up` starts them (the stack's teardown stops
    them)."""
    stack.services.start()
    yield stack.services


@pytest.fixture(scope="module")
def running(stack: Stack, settings: Settings) -> Settings:
    """The test stack as `mentorships up` leaves it: services running on placeholder keys, so
    PayPal in local mode (the gateway serves the local signer's certificate)."""
    stack.gateway.start()
    stack.services.start()
    assert stack.services.local_paypal_signer() is not None
    return settings


@pytest.fixture(scope="module")
def cron_jobs(conn: psycopg.Connection) -> dict[str, bool]:
    return dict(conn.execute("select jobname, active from cron.job order by jobname").fetchall())
