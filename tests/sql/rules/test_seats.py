"""Seat and pack life cycle (sql/rules/seats/, jobs.sql): the job functions called directly
with a frozen clock (the transaction-local mentorships.now), each test in a transaction that is
rolled back; capacity under real parallel connections."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mentorships.settings import Settings
from testing.api import refusal, together
from testing.factories import Scenario

UTC = dt.UTC
T0 = dt.datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
SECOND = dt.timedelta(seconds=1)


class Tx:
    """A superuser connection inside one transaction, with its own clock."""

    def __init__(self, conn: psycopg.Connection, settings: Settings) -> None:
        self.conn = conn
        self.scenario = Scenario(conn, settings)

    def at(self, when: dt.datetime) -> None:
        self.conn.execute("select set_config('mentorships.now', %s, true)", (when.isoformat(),))

    def one(self, sql: str, *params: Any) -> Any:
        return self.scenario.one(sql, *params)

    def job(self, name: str) -> int:
        return int(self.one(f"select private.{name}()"))


@pytest.fixture
def tx(stack: object, settings: Settings) -> Iterator[Tx]:
    with psycopg.connect(settings.dsn()) as conn:
        t = Tx(conn, settings)
        t.at(T0)
        try:
            yield t
        finally:
            conn.rollback()


def test_expire_holds(tx: Tx) -> None:
    s = tx.scenario
    mentor, student = s.mentor(), s.person()
    until = T0 + dt.timedelta(minutes=30)
    seat = tx.one(
        "insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)"
        " values (%s, %s, 'hold', %s) returning id",
        mentor,
        student,
        until,
    )
    product = tx.one(
        "insert into public.mentorship_products (mentor_id, title, price_cents) values (%s, 'p', 100)"
        " returning id",
        mentor,
    )
    order = tx.one(
        "insert into public.orders (student_id, mentor_id, product_id, seat_reservation_id, provider,"
        " list_price_cents, amount_cents, currency, expires_at) values (%s, %s, %s, %s, 'stripe', 100, 100,"
        " 'usd', %s) returning id",
        student,
        mentor,
        product,
        seat,
        until,
    )
    tx.at(until - SECOND)
    tx.job("expire_holds")
    assert tx.one("select status::text from public.seat_reservations where id = %s", seat) == "hold"
    tx.at(until)
    assert tx.job("expire_holds") >= 1
    assert tx.job("expire_holds") == 0  # idempotent
    assert tx.conn.execute(
        "select status::text, release_reason, released_at from public.seat_reservations"
        " where id = %s",
        (seat,),
    ).fetchone() == ("released", "hold_expired", until)
    assert tx.one("select status::text from public.orders where id = %s", order) == "expired"


def test_pack_expiry_grace_warning_and_release(tx: Tx) -> None:
    s = tx.scenario
    mentor, student = s.mentor(), s.person()
    pack = s.pack(
        mentor, student, purchased_at=T0 - dt.timedelta(days=90), days=90
    )  # expires at T0
    tx.conn.execute(
        "insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason,"
        " actor_id) values (%s, %s, %s, 'admin_adjustment', -1, 'test', %s)",
        (pack, mentor, student, s.person("admin")),
    )
    tx.at(T0 - SECOND)
    tx.job("expire_packs")
    assert tx.one("select status::text from public.session_packs where id = %s", pack) == "active"
    tx.at(T0)
    assert tx.job("expire_packs") >= 1
    assert tx.job("expire_packs") == 0
    assert tx.conn.execute(
        "select status::text, remaining_sessions, expired_at from public.session_packs"
        " where id = %s",
        (pack,),
    ).fetchone() == ("expired", 0, T0)
    assert tx.conn.execute(
        "select kind::text, delta from public.session_credit_ledger where pack_id = %s"
        " and kind = 'pack_expired'",
        (pack,),
    ).fetchall() == [("pack_expired", -3)]
    ends = T0 + dt.timedelta(hours=72)
    assert tx.conn.execute(
        "select status::text, grace_started_at, grace_ends_at from public.seat_reservations"
        " where student_id = %s",
        (student,),
    ).fetchone() == ("grace", T0, ends)
    assert (
        tx.one(
            "select count(*) from public.notifications where recipient_id = %s and kind = 'grace_started'",
            student,
        )
        == 1
    )
    # warning 12 h before release, once
    warnings = "select count(*) from public.notifications where recipient_id = %s and kind = 'grace_warning'"
    tx.at(ends - dt.timedelta(hours=12) - SECOND)
    tx.job("queue_grace_warnings")
    assert tx.one(warnings, student) == 0
    tx.at(ends - dt.timedelta(hours=12))
    assert tx.job("queue_grace_warnings") >= 1
    assert tx.job("queue_grace_warnings") == 0
    assert tx.one(warnings, student) == 1
    # release at the end of grace, once; the warning (already due) stays as it was
    seat_status = "select status::text from public.seat_reservations where student_id = %s"
    tx.at(ends - SECOND)
    tx.job("release_expired_seats")
    assert tx.one(seat_status, student) == "grace"
    tx.at(ends)
    assert tx.job("release_expired_seats") >= 1
    assert tx.job("release_expired_seats") == 0
    assert tx.conn.execute(
        "select status::text, release_reason from public.seat_reservations where student_id = %s",
        (student,),
    ).fetchone() == ("released", "grace_ended")
    assert sorted(
        r[0]
        for r in tx.conn.execute(
            "select recipient_id from public.notifications where kind = 'seat_released' and payload ->> 'student_id' = %s",
            (str(student),),
        )
    ) == sorted([student, mentor])
    assert (
        tx.one(
            "select status::text from public.notifications where recipient_id = %s and kind = 'grace_warning'",
            student,
        )
        == "voided"
    )


def test_a_new_pack_during_grace_keeps_the_seat(tx: Tx) -> None:
    s = tx.scenario
    mentor, student = s.mentor(), s.person()
    s.pack(mentor, student, purchased_at=T0 - dt.timedelta(days=90), days=90)
    tx.job("expire_packs")
    assert (
        tx.one("select status::text from public.seat_reservations where student_id = %s", student)
        == "grace"
    )
    s.pack(mentor, student, purchased_at=T0 + dt.timedelta(hours=1))  # renewal on the same seat
    tx.at(T0 + dt.timedelta(hours=72))
    tx.job("release_expired_seats")
    assert tx.conn.execute(
        "select status::text, grace_ends_at from public.seat_reservations where student_id = %s",
        (student,),
    ).fetchone() == ("active", None)


def test_start_grace_settles_used_up_packs(tx: Tx) -> None:
    s = tx.scenario
    mentor, student = s.mentor(), s.person()
    pack = s.pack(mentor, student, purchased_at=T0 - dt.timedelta(days=10), sessions=1)
    tx.conn.execute(
        "insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason,"
        " actor_id) values (%s, %s, %s, 'admin_adjustment', -1, 'used elsewhere', %s)",
        (pack, mentor, student, s.person("admin")),
    )
    assert tx.job("start_grace") >= 1
    assert tx.one("select status::text from public.session_packs where id = %s", pack) == "depleted"
    assert (
        tx.one("select status::text from public.seat_reservations where student_id = %s", student)
        == "grace"
    )
    assert (
        tx.one(
            "select private.run_due_jobs() ?& array['expire_holds', 'expire_packs', 'start_grace',"
            " 'queue_grace_warnings', 'release_expired_seats']"
        )
        is True
    )


def test_capacity_counts_active_grace_and_live_holds(tx: Tx) -> None:
    s = tx.scenario
    mentor = s.mentor(capacity=3)
    a, b, c, d = (s.person() for _ in range(4))
    s.pack(mentor, a, purchased_at=T0)
    tx.conn.execute(
        "insert into public.seat_reservations (mentor_id, student_id, status, grace_started_at,"
        " grace_ends_at) values (%s, %s, 'grace', %s, %s)",
        (mentor, b, T0, T0 + dt.timedelta(hours=72)),
    )
    tx.conn.execute(
        "insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)"
        " values (%s, %s, 'hold', %s)",
        (mentor, c, T0 + dt.timedelta(minutes=30)),
    )
    with (
        pytest.raises(
            psycopg.Error, match=r"the mentor has no free seat \(3 of 3 taken\)"
        ) as refused,
        tx.conn.transaction(),
    ):
        tx.conn.execute(
            "insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)"
            " values (%s, %s, 'hold', %s)",
            (mentor, d, T0 + dt.timedelta(minutes=30)),
        )
    assert refusal(refused.value) == ("PT409", "the mentor has no free seat (3 of 3 taken)")
    tx.at(T0 + dt.timedelta(minutes=30))  # c's hold ran out: it no longer counts
    tx.conn.execute(
        "insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)"
        " values (%s, %s, 'hold', %s)",
        (mentor, d, T0 + dt.timedelta(minutes=60)),
    )


def test_cron_schedules_exist(conn: psycopg.Connection) -> None:
    jobs: dict[str, str] = dict(conn.execute("select jobname, command from cron.job").fetchall())
    assert jobs == {
        "expire-seat-holds": "select private.expire_holds()",
        "expire-packs": "select private.expire_packs()",
        "start-grace": "select private.start_grace()",
        "queue-grace-warnings": "select private.queue_grace_warnings()",
        "release-expired-seats": "select private.release_expired_seats()",
        "prune-cron-history": "select private.prune_cron_history()",
        "prune-error-reports": "select private.prune_error_reports()",
        "prune-calendar-jobs": "select private.prune_calendar_jobs()",
    }
    schedules: dict[str, str] = dict(
        conn.execute("select jobname, schedule from cron.job").fetchall()
    )
    assert (
        schedules["expire-packs"] == "* * * * *" and schedules["prune-cron-history"] == "17 3 * * *"
    )


def test_capacity_holds_under_concurrency(
    scenario: Scenario, settings: Settings, conn: psycopg.Connection
) -> None:
    """30 parallel connections each try to hold a seat with a mentor who has 3: exactly 3 win."""
    mentor = scenario.mentor(capacity=3)
    students = [scenario.person() for _ in range(30)]
    until = dt.datetime.now(UTC) + dt.timedelta(minutes=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def hold(barrier: threading.Barrier, student: uuid.UUID) -> None:
        with psycopg.connect(settings.dsn(), autocommit=True) as c:
            barrier.wait()
            try:
                c.execute(
                    "insert into public.seat_reservations (mentor_id, student_id, status, hold_expires_at)"
                    " values (%s, %s, 'hold', %s)",
                    (mentor, student, until),
                )
                result = "held"
            except psycopg.Error as e:
                code = (refusal(e) or ("", ""))[0]
                result = "full" if code == "PT409" else f"error {e.sqlstate}: {e}"
        with lock:
            outcomes.append(result)

    together(hold, [(s,) for s in students])
    assert sorted(set(outcomes)) == ["full", "held"], outcomes
    assert outcomes.count("held") == 3
    assert (
        scenario.one("select count(*) from public.seat_reservations where mentor_id = %s", mentor)
        == 3
    )


def test_cron_jobs_can_run_without_a_password(conn: psycopg.Connection) -> None:
    """pg_cron runs jobs in background workers: over libpq it would need the postgres password
    (every job failed with "connection failed" before this was set)."""
    assert conn.execute("show cron.use_background_workers").fetchone() == ("on",)
    assert conn.execute("show cron.database_name").fetchone() == ("postgres",)
