"""The faults suite's stack (testing/faults/stack.py: every worker on, the providers faked), its
world, and the table of what each fault cost, printed at the end and written to
.local/test-output/faults.json. Not part of `make test`: `make test-faults` runs it."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from testing.faults import record
from testing.faults import world as world_
from testing.faults.load import Load
from testing.faults.stack import Faults, running_faults_stack


@pytest.fixture(scope="session")
def faults() -> Iterator[Faults]:
    with running_faults_stack() as f:
        yield f
        for fake in f.fakes():
            fake.verify()


@pytest.fixture
def conn(faults: Faults) -> Iterator[psycopg.Connection]:
    """A connection of the test's own: the checks open one after the fault (a restart ends it)."""
    with psycopg.connect(faults.settings.dsn(), autocommit=True, prepare_threshold=None) as c:
        yield c


@pytest.fixture(scope="session")
def world(faults: Faults) -> world_.LoadWorld:
    with psycopg.connect(faults.settings.dsn(), autocommit=True) as c:
        return world_.build(c, faults.settings, faults.google)


@pytest.fixture
def load(faults: Faults, world: world_.LoadWorld, conn: psycopg.Connection) -> Load:
    """A load with 40 orders for its webhooks to pay (2 a second for ~15 s, and some left)."""
    secret = faults.stack.services.effective_settings().stripe_webhook_secret
    assert secret is not None
    new = Load(faults.settings, world, secret.get_secret_value())
    new.add_orders(world.orders(conn, 40))
    return new


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not record.RECORDS and not record.EXTRA:
        return
    terminalreporter.section("faults: outage and recovery")
    for line in record.table(record.RECORDS):
        terminalreporter.write_line(line)
    for name, figures in record.EXTRA.items():
        terminalreporter.write_line(f"{name}: {figures}")
    record.write(record.RECORDS)
    terminalreporter.write_line(f"(written to {record.OUTPUT})")
