"""revenue_daily (dbt/models/marts/revenue_daily.sql) on the week of January 2001 played through
the real rules (testing.money_activity): charged by the payment's day, refunded by each refund's
own day, currencies and providers apart, a flagged order left out."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from mentorships.settings import Settings
from testing.money_activity import Story, played, rows


@pytest.fixture(scope="module")
def story(conn: psycopg.Connection, settings: Settings) -> Story:
    return played(settings)


def test_the_build_of_the_four_marts_passed_its_tests(story: Story) -> None:
    assert story.results and {r["status"] for r in story.results} <= {"success", "pass"}
    built = {
        r["unique_id"].rsplit(".", 1)[-1]
        for r in story.results
        if r["unique_id"].startswith("model.")
    }
    assert {
        "revenue_daily",
        "session_outcomes",
        "promotion_performance",
        "message_delivery",
    } <= built


def test_each_refund_is_recorded_on_its_own(story: Story, conn: psycopg.Connection) -> None:
    assert rows(
        conn,
        "select r.amount_cents, r.refunded_total_cents, r.currency, r.refunded_at from private.payment_refunds r"
        " join public.payments p on p.id = r.payment_id join public.orders o on o.id = p.order_id"
        " where o.student_id = %s order by r.id",
        story.students["c"],
    ) == [
        {
            "amount_cents": 1500,
            "refunded_total_cents": 1500,
            "currency": "eur",
            "refunded_at": dt.datetime(2001, 1, 3, 11, tzinfo=dt.UTC),
        },
        {
            "amount_cents": 3500,
            "refunded_total_cents": 5000,
            "currency": "eur",
            "refunded_at": dt.datetime(2001, 1, 5, 9, tzinfo=dt.UTC),
        },
    ]


def day(d: int) -> dt.date:
    return dt.date(2001, 1, d)


def test_money_per_day_mentor_currency_and_provider(story: Story, conn: psycopg.Connection) -> None:
    got = rows(
        conn,
        "select revenue_day, currency, provider, gross_cents, discount_cents, grandfather_savings_cents,"
        " refund_cents, net_cents, orders_paid, refunds from analytics.revenue_daily where mentor_id = %s"
        " order by revenue_day, currency, provider",
        story.mentor,
    )
    assert [tuple(r.values()) for r in got] == [
        # Monday: two code redemptions at 80.00, a PayPal order at 100.00, a euro order at 50.00;
        # the flagged order (Stripe paid a PayPal order) is not revenue
        (day(1), "eur", "stripe", 5000, 0, 0, 0, 5000, 1, 0),
        (day(1), "usd", "paypal", 10000, 0, 0, 0, 10000, 1, 0),
        (day(1), "usd", "stripe", 16000, 4000, 0, 0, 16000, 2, 0),
        # Wednesday: 15.00 of the euro payment back; Friday: the rest of it, and one redemption in full
        (day(3), "eur", "stripe", 0, 0, 0, 1500, -1500, 0, 1),
        (day(5), "eur", "stripe", 0, 0, 0, 3500, -3500, 0, 1),
        (day(5), "usd", "stripe", 0, 0, 0, 8000, -8000, 0, 1),
        # Saturday: the renewal at the grandfathered 100.00 instead of today's 120.00
        (day(6), "usd", "stripe", 10000, 0, 2000, 0, 10000, 1, 0),
    ]
