"""The benchmark data set (bench/dataset.py): a small one loaded into the test database in a
transaction that is rolled back; the invariants hold, the shape is as asked, and a broken row is
caught by the checks."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from mentorships.settings import Settings
from mentorships.stack import Stack
from testing import dataset, dataset_day, invariants

BENCH_MENTORS = "select id from public.mentors where slug like 'bench-mentor-%'"
BENCH_PEOPLE = "(select id from public.profiles where email like '%@bench.mentorships.test')"


@pytest.fixture(scope="module")
def loaded(stack: Stack, settings: Settings) -> Iterator[tuple[psycopg.Connection, dict[str, int]]]:
    with psycopg.connect(settings.dsn()) as c:
        counts = dataset.load(c, 2000, seed=7, progress=lambda _: None)
        try:
            yield c, counts
        finally:
            c.rollback()


def scalar(c: psycopg.Connection, sql: str) -> int:
    row = c.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def values(c: psycopg.Connection, sql: str) -> set[str]:
    return {str(r[0]) for r in c.execute(sql)}


def test_invariants_hold(loaded: tuple[psycopg.Connection, dict[str, int]]) -> None:
    c, _ = loaded
    assert invariants.broken(invariants.check(c, BENCH_MENTORS)) == {}


def test_shape(loaded: tuple[psycopg.Connection, dict[str, int]]) -> None:
    c, counts = loaded
    assert 1800 <= counts["public.sessions"] <= 2200
    assert scalar(c, "select count(*) from public.mentors where slug like 'bench-mentor-%'") == 3
    students = scalar(
        c, f"select count(*) from public.profiles where role = 'student' and id in {BENCH_PEOPLE}"
    )
    assert 50 <= students <= 160
    scope = f"where mentor_id in ({BENCH_MENTORS})"
    assert values(c, f"select distinct status from public.sessions {scope}") == {
        "completed",
        "canceled",
        "late_canceled",
        "student_no_show",
        "mentor_no_show",
        "scheduled",
    }
    assert (
        scalar(
            c,
            f"select count(*) from public.sessions {scope} and status = 'scheduled' "
            "and starts_at > private.clock_now()",
        )
        > 0
    )
    assert values(c, f"select distinct status from public.orders {scope}") >= {
        "paid",
        "expired",
        "refunded",
    }
    assert values(c, f"select distinct provider from public.orders {scope}") == {"stripe", "paypal"}
    assert values(c, f"select distinct currency from public.orders {scope}") == {"usd", "eur"}
    assert values(c, f"select distinct status from public.session_packs {scope}") == {
        "active",
        "depleted",
        "expired",
        "refunded",
    }
    assert values(c, f"select distinct status from public.seat_reservations {scope}") >= {
        "active",
        "released",
    }
    assert (
        scalar(
            c,
            f"select count(*) from public.orders {scope} and grandfathered_price_cents is not null",
        )
        > 0
    )
    assert (
        scalar(c, f"select count(*) from public.orders {scope} and promotion_code_id is not null")
        > 0
    )
    # renewals: a student with several packs on one seat, and one back after a released seat
    assert (
        scalar(
            c,
            f"select count(*) from (select seat_reservation_id from "
            f"public.session_packs {scope} group by 1 having count(*) > 1) x",
        )
        > 0
    )
    assert values(
        c,
        f"select distinct status || '/' || channel from public.notifications "
        f"where recipient_id in {BENCH_PEOPLE}",
    ) >= {"sent/email", "sent/discord", "failed/email", "pending/email", "voided/email"}
    assert (
        scalar(
            c,
            "select count(*) from public.payments y join public.orders o "
            f"on o.id = y.order_id where o.mentor_id in ({BENCH_MENTORS}) "
            "and y.status = 'partially_refunded'",
        )
        > 0
    )


BREAKS = {
    "pack_balances_with_ledger": f"""
        update public.session_packs set remaining_sessions = remaining_sessions + 1
         where id = (select id from public.session_packs where status = 'active'
                       and mentor_id in ({BENCH_MENTORS}) limit 1)""",
    "mentor_sessions_overlap": f"""
        insert into public.sessions (pack_id, mentor_id, student_id, status, starts_at, ends_at,
                                     blocked_until, completed_at)
        select pack_id, mentor_id, student_id, 'completed', starts_at + interval '30 minutes',
               ends_at + interval '30 minutes', blocked_until + interval '30 minutes', ends_at
          from public.sessions where status = 'completed' and mentor_id in ({BENCH_MENTORS})
         limit 1""",
    "stamped_after_the_clock": f"""
        update public.notifications set updated_at = private.clock_now() + interval '1 second'
         where id = (select n.id from public.notifications n
                      where n.recipient_id in (select id from public.mentors
                                                where id in ({BENCH_MENTORS})) limit 1)""",
    "seats_over_capacity": f"""
        update public.mentors set seat_capacity = 1 where id in ({BENCH_MENTORS})""",
    # (order amounts: the table's own check constraint already refuses a wrong one)
    "refunds_within_amounts": f"""
        update public.payments set status = 'refunded'
         where id = (select y.id from public.payments y join public.orders o on o.id = y.order_id
                      where y.status = 'succeeded' and o.mentor_id in ({BENCH_MENTORS})
                        and y.amount_cents > 0 limit 1)""",
    "orders_paid_in_full": f"""
        update public.payments set amount_cents = amount_cents + 100
         where id = (select y.id from public.payments y join public.orders o on o.id = y.order_id
                      where o.status = 'paid' and o.mentor_id in ({BENCH_MENTORS}) limit 1)""",
    "fk session_credit_ledger_pack_id_mentor_id_student_id_fkey": f"""
        insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta,
                                                  reason, actor_id)
        select gen_random_uuid(), mentor_id, student_id, 'admin_adjustment', 1, 'broken', student_id
          from public.session_packs where mentor_id in ({BENCH_MENTORS}) limit 1""",
}


@pytest.mark.parametrize("check", sorted(BREAKS))
def test_a_broken_row_is_caught(
    loaded: tuple[psycopg.Connection, dict[str, int]], check: str
) -> None:
    c, _ = loaded
    c.execute("savepoint broken")
    try:
        # as the bulk load does: no trigger (nor foreign key) stops the broken row
        c.execute("set local session_replication_role = replica")
        try:
            c.execute(BREAKS[check])
        except psycopg.errors.CheckViolation:
            pytest.fail(f"the break for {check} was refused by a constraint")
        found = invariants.broken(invariants.check(c, BENCH_MENTORS))
        assert check in found, found
    finally:
        c.execute("rollback to savepoint broken")


def test_a_day_more_keeps_the_invariants(loaded: tuple[psycopg.Connection, dict[str, int]]) -> None:
    c, _ = loaded
    scope = f"where mentor_id in ({BENCH_MENTORS})"
    before = scalar(c, f"select count(*) from public.sessions {scope}")
    orders_before = scalar(c, f"select count(*) from public.orders {scope}")
    c.execute("savepoint day")
    try:
        dataset_day.add_day(c, BENCH_MENTORS, progress=lambda _: None)
        assert scalar(c, f"select count(*) from public.sessions {scope}") > before
        assert scalar(c, f"select count(*) from public.orders {scope}") >= orders_before
        assert (
            scalar(
                c,
                f"select count(*) from public.sessions {scope} and status = 'completed' "
                "and completed_at > timestamptz '2026-11-30 12:00Z'",
            )
            > 0
        )
        assert invariants.broken(invariants.check(c, BENCH_MENTORS)) == {}
    finally:
        c.execute("rollback to savepoint day")
