"""Fixtures that start what the tests need themselves: the `test` stack (its own Postgres
cluster and ports, never the demo's), a client per actor with a real JWT through the real
gateway, and a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from mentorships import db, jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing import world as world_
from testing.api import Api
from testing.clock import Clock
from testing.contract import Cast, build_cast
from testing.factories import Scenario
from testing.stacks import clear_logs, settings_for_tests


@pytest.fixture(scope="session")
def settings() -> Settings:
    return settings_for_tests()


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Iterator[Stack]:
    s = Stack(settings)
    # Leftovers of an interrupted run.
    s.services.stop()
    s.gateway.stop()
    s.postgrest.stop()
    clear_logs(settings)  # what the logs hold afterwards is this run's (tests/zz_logs)
    s.postgres.start()
    db.reset(settings)
    db.apply(settings)
    db.prepare_test_database(settings)
    s.postgrest.start()
    s.gateway.start()
    s.services.start()
    try:
        yield s
    finally:
        for _ in s.stop():
            pass


@pytest.fixture(scope="session")
def conn(stack: Stack, settings: Settings) -> Iterator[psycopg.Connection]:
    """A superuser connection (autocommit) for arranging and counting. It prepares no statement:
    a test of `db reset` recreates every type, and a statement psycopg prepared before (after its
    fifth run) keeps its parameters' old type ids ("cache lookup failed for type")."""
    with psycopg.connect(settings.dsn(), autocommit=True, prepare_threshold=None) as c:
        yield c


@pytest.fixture(scope="session")
def world(conn: psycopg.Connection) -> world_.World:
    return world_.create(conn)


@pytest.fixture(scope="session")
def actors(settings: Settings, world: world_.World, stack: Stack) -> Iterator[dict[str, Api]]:
    clients = {
        "anon": Api(settings, None, name="anon"),
        "service": Api(
            settings,
            jwt.service_role_key(settings),
            name="service",
            apikey=jwt.service_role_key(settings),
        ),
    }
    for label in ("student_a", "student_b", "mentor_a", "mentor_b", "admin"):
        token = jwt.user_token(settings, world.uid(label), world_.email(label))
        clients[label] = Api(settings, token, name=label)
    yield clients
    for c in clients.values():
        c.http.close()


@pytest.fixture
def clock(conn: psycopg.Connection) -> Iterator[Clock]:
    c = Clock(conn)
    try:
        yield c
    finally:
        c.unfreeze()


@pytest.fixture
def scenario(conn: psycopg.Connection, settings: Settings, stack: Stack) -> Iterator[Scenario]:
    s = Scenario(conn, settings)
    try:
        yield s
    finally:
        s.close()


LEDGER_BALANCE = """
    select count(*) from public.session_packs p
     where p.remaining_sessions <> p.sessions_total + coalesce(
       (select sum(l.delta) from public.session_credit_ledger l where l.pack_id = p.id), 0)
        or p.remaining_sessions < 0
"""


@pytest.fixture(autouse=True)
def ledger_stays_balanced(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that touched the database: every pack's remaining_sessions equals its
    sessions_total plus its ledger entries, and is never negative."""
    yield
    if "conn" not in request.fixturenames:
        return
    c: psycopg.Connection = request.getfixturevalue("conn")
    row = c.execute(LEDGER_BALANCE).fetchone()
    assert row == (0,), f"{row} pack(s) out of balance with the credit ledger after this test"


@pytest.fixture(scope="module")
def cast(conn: psycopg.Connection, settings: Settings) -> Iterator[tuple[Cast, Scenario]]:
    """The API contract tests' isolated people and rows (testing.contract.build_cast)."""
    s = Scenario(conn, settings)
    try:
        yield build_cast(s), s
    finally:
        s.close()
