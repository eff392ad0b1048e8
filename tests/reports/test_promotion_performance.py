"""promotion_performance (dbt/models/marts/promotion_performance.sql) on the week of January 2001
played through the real rules (testing.money_activity)."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from mentorships.settings import Settings
from testing.money_activity import Story, played, rows


@pytest.fixture(scope="module")
def story(conn: psycopg.Connection, settings: Settings) -> Story:
    return played(settings)


def test_redemptions_revenue_and_renewals_per_code(story: Story, conn: psycopg.Connection) -> None:
    got = rows(
        conn,
        "select kind, currency, percent_off, amount_off_cents, redemptions, redemptions_refunded, discount_cents,"
        " revenue_cents, students, renewals_after, renewal_rate from analytics.promotion_performance"
        " where promotion_code_id = any(%s) order by kind desc",
        [story.promo, story.unused],
    )
    assert [tuple(r.values()) for r in got] == [
        # two students at 80.00 (20.00 off each); one refunded in full, the other renewed without it
        ("percent", "usd", 20, None, 2, 1, 4000, 8000, 2, 1, Decimal("0.5000")),
        # never redeemed: zeros, no currency, no rate
        ("amount", None, None, 500, 0, 0, 0, 0, 0, 0, None),
    ]
