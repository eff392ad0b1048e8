"""renewals (dbt/models/marts/people): one row per depleted or expired pack, after the scenario of
testing/reports_people.py is played through the real rules and built by dbt."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from testing.reports_people import People, at


def test_renewed_in_grace_and_after_it(people: People) -> None:
    ids = people.ids
    got = [
        (
            r["pack_id"],
            r["student_id"],
            r["ended_as"],
            r["ended_at"],
            r["grace_period_hours"],
            r["grace_ends_at"],
            r["next_pack_id"],
            r["renewed_at"],
            r["days_to_renew"],
            r["renewed_within_grace"],
            r["grandfathered_price_used"],
        )
        for r in people.first["renewals"]
    ]
    assert got == [
        # D's single session completed on the 2nd; bought again on the 6th, grace over since the 5th
        (ids["d1"], ids["d"], "depleted", at(2, 17, 30), 72, at(5, 17, 30), ids["d2"], at(6, 10),
         Decimal("3.7"), False, False),
        # A's pack used up on the 5th, renewed the next morning at the grandfathered price
        (ids["a1"], ids["a"], "depleted", at(5, 11, 30), 72, at(8, 11, 30), ids["a2"], at(6, 10),
         Decimal("0.9"), True, True),
    ]  # fmt: skip


def test_refunded_and_live_packs_have_no_row(people: People) -> None:
    packs = {r["pack_id"] for r in people.first["renewals"]}
    assert not packs & {people.ids[k] for k in ("c1", "b1", "a2", "d2")}


def test_the_renewal_order_carried_the_grandfathered_price(
    people: People, conn: psycopg.Connection
) -> None:
    """What grandfathered_price_used reads: A paid 240.00 again after the price went to 300.00."""
    assert conn.execute(
        "select list_price_cents, grandfathered_price_cents, amount_cents from public.orders where id = %s",
        (people.ids["oa2"],),
    ).fetchone() == (30000, 24000, 24000)
