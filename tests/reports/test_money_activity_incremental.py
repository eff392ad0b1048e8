"""The incremental marts after changes made since their last build, played through the real rules
at a clock later than every row already stamped (their watermark is the newest change stamp they
counted): a session completed, another moved to the next week (the week it left is recomputed
too), a partial refund, reminders voided, a code's redeemer renewing without it; and the
incremental result is exactly what a full build makes of the same rows."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import psycopg

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api, ok
from testing.clock import Clock
from testing.factories import Scenario
from testing.money_activity import ALL_DAY, build, rows
from testing.payments import deliver, order, stripe_paid, stripe_refunded

INCREMENTAL = ("revenue_daily", "session_outcomes", "message_delivery", "promotion_performance")
LATEST = """
    select greatest(now(), (select max(updated_at) from public.sessions),
                    (select max(updated_at) from public.payments),
                    (select max(updated_at) from public.notifications))
"""


def snapshot(
    conn: psycopg.Connection, mentor: uuid.UUID, monday: dt.date, code: uuid.UUID
) -> dict[str, list[Any]]:
    def values(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in rows(conn, sql, *params)]

    return {
        "outcomes": values(
            "select week_start, booked, scheduled, completed, completion_rate, source_changed_at"
            " from analytics.session_outcomes where mentor_id = %s order by week_start",
            mentor,
        ),
        "revenue": values(
            "select revenue_day, gross_cents, refund_cents, net_cents, orders_paid, refunds"
            " from analytics.revenue_daily where mentor_id = %s order by revenue_day",
            mentor,
        ),
        "reminders": values(
            "select send_day, queued, pending, voided from analytics.message_delivery"
            " where send_day >= %s and kind = 'session_reminder_24h' and channel = 'email' order by send_day",
            monday,
        ),
        "promotion": values(
            "select redemptions, revenue_cents, students, renewals_after, renewal_rate, source_changed_at"
            " from analytics.promotion_performance where promotion_code_id = %s",
            code,
        ),
    }


def test_incremental_builds_recompute_what_changed_as_a_full_build_would(
    conn: psycopg.Connection, settings: Settings, scenario: Scenario, clock: Clock
) -> None:
    latest: dt.datetime = scenario.one(LATEST)
    day = (latest + dt.timedelta(days=8)).astimezone(dt.UTC).date()
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time(9), tzinfo=dt.UTC)

    def at(days: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(monday + dt.timedelta(days=days), dt.time(hour), tzinfo=dt.UTC)

    clock.freeze(start)
    mentor = scenario.mentor("UTC", working_hours=ALL_DAY, notice=60)
    product = scenario.product(mentor, price_cents=10000)
    student = scenario.person("student")
    code = f"LATER-{uuid.uuid4().hex[:8].upper()}"
    code_id = scenario.one(
        "insert into public.promotion_codes (code, amount_off_cents, currency) values (%s, 1000, 'usd') returning id",
        code,
    )
    key = jwt.service_role_key(settings)
    service = Api(settings, key, apikey=key)
    try:
        paid = order(scenario, student, product, promo_code=code)
        deliver(service, "stripe", stripe_paid(paid))
        pack = scenario.one("select id from public.session_packs where order_id = %s", paid["id"])
        me = scenario.api(student)
        first = ok(me.rpc("book_session", pack_id=pack, starts_at=at(1, 10).isoformat()))["id"]
        second = ok(me.rpc("book_session", pack_id=pack, starts_at=at(3, 10).isoformat()))["id"]
        build(settings, *INCREMENTAL, command="run")
        before = snapshot(conn, mentor, monday, code_id)
        assert [r[:5] for r in before["outcomes"]] == [(monday, 2, 2, 0, None)]
        assert [r[:5] for r in before["promotion"]] == [(1, 9000, 1, 0, Decimal("0.0000"))]
        assert before["reminders"][:2] == [
            (monday, 2, 2, 0),
            (monday + dt.timedelta(days=2), 2, 2, 0),
        ]

        # Tuesday 11:00: the first session completed, the second moved to next Tuesday, 25.00 refunded
        clock.freeze(at(1, 11))
        ok(scenario.api(mentor).rpc("complete_session", session_id=first))
        ok(me.rpc("reschedule_session", session_id=second, starts_at=at(8, 10).isoformat()))
        deliver(service, "stripe", stripe_refunded(paid, 2500))
        renewal = order(scenario, student, product)
        deliver(service, "stripe", stripe_paid(renewal))
    finally:
        service.http.close()
    results = build(settings, *INCREMENTAL, command="run")
    assert {
        r["unique_id"].rsplit(".", 1)[-1] for r in results if r["unique_id"].startswith("model.")
    } >= set(INCREMENTAL)
    after = snapshot(conn, mentor, monday, code_id)
    assert [r[:5] for r in after["outcomes"]] == [
        (monday, 1, 0, 1, Decimal("1.0000")),
        (monday + dt.timedelta(days=7), 1, 1, 0, None),
    ]
    assert after["revenue"] == [
        (monday, 9000, 0, 9000, 1, 0),
        (monday + dt.timedelta(days=1), 10000, 2500, 7500, 1, 1),
    ]
    assert [r[:5] for r in after["promotion"]] == [(1, 6500, 1, 1, Decimal("1.0000"))]
    # the completed session's reminders (Monday) and the moved one's (Wednesday) voided; next
    # Monday's, for its new time, queued
    assert after["reminders"] == [
        (monday, 2, 0, 2),
        (monday + dt.timedelta(days=2), 2, 0, 2),
        (monday + dt.timedelta(days=7), 2, 2, 0),
    ]
    build(settings, *INCREMENTAL, full_refresh=True, command="run")
    assert snapshot(conn, mentor, monday, code_id) == after
