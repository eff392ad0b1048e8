"""Claiming the outbox (sql/rules/outbox.sql) with real parallel connections, as the dispatcher
does it (the service role): two workers claiming at once never get the same message, a row
another claim holds is skipped rather than waited for, and an insert wakes a worker that LISTENs.
Counted in the database afterwards. The single-connection rules (backoff, give-up, leases,
voiding): supabase/tests/database/outbox_delivery.sql.

The clock is frozen in 1999 and the messages here fall due then, so that no message another test
committed is due and none of these is due for another test."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from mentorships.settings import Settings
from testing.api import together
from testing.clock import Clock
from testing.factories import Scenario

T = dt.datetime(1999, 6, 1, 12, 0, tzinfo=dt.UTC)
KEY = "test-outbox:"


@pytest.fixture
def person(conn: psycopg.Connection, scenario: Scenario, clock: Clock) -> Iterator[uuid.UUID]:
    """The person the test's messages go to, with the clock frozen at T; whatever a test queues
    under KEY is deleted afterwards."""
    clock.freeze(T)
    who = scenario.person()
    try:
        yield who
    finally:
        conn.execute("delete from public.notifications where dedupe_key like %s", (KEY + "%",))


def enqueue(conn: psycopg.Connection, person: uuid.UUID, n: int, due: dt.datetime) -> list[int]:
    rows = conn.execute(
        "insert into public.notifications (recipient_id, kind, channel, dedupe_key, send_after)"
        " select %s, 'grace_warning', 'email', %s || gen_random_uuid(), %s from generate_series(1, %s)"
        " returning id",
        (person, KEY, due, n),
    ).fetchall()
    return [r[0] for r in rows]


def worker(settings: Settings) -> psycopg.Connection:
    c = psycopg.connect(settings.dsn(), autocommit=True)
    c.execute("set role service_role")
    c.execute("set statement_timeout = '5s'")
    return c


def claim(c: psycopg.Connection, name: str, n: int) -> list[int]:
    rows = c.execute(
        "select id from public.claim_notifications(%s, %s, '60')", (name, str(n))
    ).fetchall()
    return [r[0] for r in rows]


def test_two_workers_claiming_at_once_never_claim_a_message_twice(
    person: uuid.UUID, conn: psycopg.Connection, settings: Settings
) -> None:
    ids = enqueue(conn, person, 600, T - dt.timedelta(hours=1))
    got: dict[str, list[int]] = {"w1": [], "w2": []}
    lock = threading.Lock()

    def drain(barrier: threading.Barrier, name: str) -> None:
        with worker(settings) as c:
            barrier.wait()
            while batch := claim(c, name, 5):
                with lock:
                    got[name].extend(batch)

    together(drain, [("w1",), ("w2",)])
    w1, w2 = got["w1"], got["w2"]
    assert len(w1) == len(set(w1)) and len(w2) == len(set(w2))
    assert not set(w1) & set(w2), "a message was claimed by both workers"
    assert sorted(w1 + w2) == sorted(ids)
    assert w1 and w2, "one worker claimed everything: the claims did not run at the same time"
    rows = conn.execute(
        "select claimed_by, count(*), min(attempts), max(attempts) from public.notifications"
        " where id = any(%s) and status = 'sending' group by 1 order by 1",
        (ids,),
    ).fetchall()
    assert rows == [("w1", len(w1), 1, 1), ("w2", len(w2), 1, 1)]


def test_a_message_another_claim_holds_is_skipped_not_waited_for(
    person: uuid.UUID, conn: psycopg.Connection, settings: Settings
) -> None:
    first, second = enqueue(conn, person, 2, T - dt.timedelta(hours=1))
    with psycopg.connect(settings.dsn()) as holder, worker(settings) as c:
        holder.execute("select from public.notifications where id = %s for update", (first,))
        assert claim(c, "w1", 10) == [second]  # would wait (and time out) without skip locked
        holder.rollback()
        assert claim(c, "w1", 10) == [first]


def test_an_insert_due_now_wakes_a_listening_worker(
    person: uuid.UUID, conn: psycopg.Connection, settings: Settings
) -> None:
    """A message for later wakes nobody; one due now does, with its id, once its insert commits."""
    with psycopg.connect(settings.dsn(), autocommit=True) as listener:
        listener.execute("listen notifications_due")
        enqueue(conn, person, 1, T + dt.timedelta(hours=1))
        (due,) = enqueue(conn, person, 1, T)
        woken = [n.payload for n in listener.notifies(timeout=10, stop_after=1)]
    assert woken == [str(due)]
