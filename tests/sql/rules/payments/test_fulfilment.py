"""record_payment_event fulfilling orders (sql/rules/payments/fulfilment.sql): pack, seat, payment
and messages; duplicates, mismatches, expiry, late payments, renewals; record_payment_event as
the service role over real PostgREST, with a frozen clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from testing.api import Api, ok
from testing.clock import Clock
from testing.factories import Scenario
from testing.payments import (
    NOW,
    count,
    deliver,
    order,
    stripe_event,
    stripe_expired,
    stripe_paid,
)


def test_payment_creates_pack_seat_payment_and_messages(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    result = deliver(service, "stripe", stripe_paid(o))
    assert result["outcome"] == "fulfilled" and result["order_id"] == o["id"]
    pack = scenario.conn.execute(
        "select status, sessions_total, remaining_sessions, price_cents, purchased_at, expires_at, seat_reservation_id"
        " from public.session_packs where order_id = %s",
        (o["id"],),
    ).fetchone()
    assert pack is not None
    assert pack[:6] == ("active", 4, 4, 24000, NOW, NOW + dt.timedelta(days=90))
    assert str(pack[6]) == o["seat_reservation_id"]
    assert scenario.conn.execute(
        "select status, activated_at from public.seat_reservations where id = %s", (pack[6],)
    ).fetchone() == ("active", NOW)
    assert scenario.conn.execute(
        "select status, paid_at, provider_checkout_id from public.orders where id = %s", (o["id"],)
    ).fetchone() == ("paid", NOW, f"cs_test_{o['id'][:8]}")
    assert scenario.conn.execute(
        "select provider_payment_id, amount_cents, currency from public.payments where order_id = %s",
        (o["id"],),
    ).fetchall() == [(f"pi_{o['id'][:8]}", 24000, "usd")]
    recipients = scenario.conn.execute(
        "select recipient_id from public.notifications where kind = 'pack_purchased' and payload ->> 'order_id' = %s"
        " and channel = 'email' order by 1",
        (o["id"],),
    ).fetchall()
    assert sorted(r[0] for r in recipients) == sorted([shop["student"], shop["mentor"]])
    inbox = scenario.conn.execute(
        "select outcome, order_id::text, payment_ref, processed_at from private.webhook_events"
        " where payload -> 'data' -> 'object' -> 'metadata' ->> 'order_id' = %s",
        (o["id"],),
    ).fetchone()
    assert inbox == ("fulfilled", o["id"], f"pi_{o['id'][:8]}", NOW)
    # the student can now book with it
    assert ok(
        scenario.api(shop["student"]).get(f"/session_packs?order_id=eq.{o['id']}&select=status")
    ) == [{"status": "active"}]


def test_only_the_service_role_records_events(scenario: Scenario, shop: dict[str, Any]) -> None:
    o = order(scenario, shop["student"], shop["product"])
    event = stripe_paid(o)
    for who in (shop["student"], shop["admin"]):
        response = scenario.api(who).rpc(
            "record_payment_event",
            provider="stripe",
            event_id=event["id"],
            event_type=event["type"],
            payload=event,
        )
        assert response.status_code in (401, 403), response.text
    assert (
        count(
            scenario, "select count(*) from private.webhook_events where event_id = %s", event["id"]
        )
        == 0
    )


def test_duplicates_by_event_id_and_by_payment(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    event = stripe_paid(o)
    assert deliver(service, "stripe", event)["outcome"] == "fulfilled"
    assert deliver(service, "stripe", event)["outcome"] == "duplicate"
    # the same payment reported again under another event id (async_payment_succeeded)
    replay = stripe_event("checkout.session.async_payment_succeeded", event["data"]["object"])
    assert deliver(service, "stripe", replay)["outcome"] == "duplicate"
    assert (
        count(scenario, "select count(*) from public.session_packs where order_id = %s", o["id"])
        == 1
    )
    assert count(scenario, "select count(*) from public.payments where order_id = %s", o["id"]) == 1


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"amount_total": 100}, "paid 100 USD, expected 24000 USD"),
        ({"currency": "eur"}, "paid 24000 EUR, expected 24000 USD"),
    ],
)
def test_amount_or_currency_mismatch_flags_the_order(
    scenario: Scenario, shop: dict[str, Any], service: Api, over: dict[str, Any], reason: str
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    result = deliver(service, "stripe", stripe_paid(o, **over))
    assert result["outcome"] == "flagged" and result["reason"] == reason
    assert scenario.conn.execute(
        "select status, flagged_reason from public.orders where id = %s", (o["id"],)
    ).fetchone() == ("flagged", reason)
    assert (
        count(scenario, "select count(*) from public.session_packs where order_id = %s", o["id"])
        == 0
    )
    assert count(scenario, "select count(*) from public.payments where order_id = %s", o["id"]) == 1
    admins = count(
        scenario,
        "select count(*) from public.notifications where kind = 'payment_flagged' and recipient_id = %s"
        " and payload ->> 'order_id' = %s",
        shop["admin"],
        o["id"],
    )
    assert admins == 1


def test_checkout_expired_releases_the_hold_and_a_late_payment_still_counts(
    scenario: Scenario, shop: dict[str, Any], service: Api, clock: Clock
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    assert deliver(service, "stripe", stripe_expired(o))["outcome"] == "released"
    assert scenario.conn.execute(
        "select o.status, s.status, s.release_reason from public.orders o"
        " join public.seat_reservations s on s.id = o.seat_reservation_id where o.id = %s",
        (o["id"],),
    ).fetchone() == ("expired", "released", "hold_expired")
    # the payment went through just before the expiry; its event arrives after: a seat is free
    assert deliver(service, "stripe", stripe_paid(o))["outcome"] == "fulfilled"
    assert scenario.conn.execute(
        "select count(*) filter (where status = 'active'), count(*) from public.seat_reservations"
        " where student_id = %s",
        (shop["student"],),
    ).fetchone() == (1, 2)
    # expired after paid changes nothing
    assert deliver(service, "stripe", stripe_expired(o))["outcome"] == "ignored"


def test_late_payment_when_the_mentor_filled_up_is_flagged(
    scenario: Scenario, shop: dict[str, Any], service: Api, clock: Clock
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    clock.advance(dt.timedelta(minutes=33))
    scenario.conn.execute("select private.expire_holds()")
    for _ in range(3):
        order(scenario, scenario.person(), shop["product"])
    result = deliver(service, "stripe", stripe_paid(o))
    assert result["outcome"] == "flagged"
    assert (
        result["reason"] == "paid after the seat hold ran out, and the mentor has no free seat now"
    )
    assert (
        count(scenario, "select count(*) from public.session_packs where order_id = %s", o["id"])
        == 0
    )


def test_renewal_brings_the_seat_back_from_grace(
    scenario: Scenario, shop: dict[str, Any], service: Api, clock: Clock
) -> None:
    first = order(scenario, shop["student"], shop["product"])
    deliver(service, "stripe", stripe_paid(first))
    seat = first["seat_reservation_id"]
    scenario.conn.execute(
        "insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason, actor_id)"
        " select id, mentor_id, student_id, 'admin_adjustment', -4, 'test: used up', %s"
        " from public.session_packs where order_id = %s",
        (shop["admin"], first["id"]),
    )
    scenario.conn.execute("select private.start_grace()")
    assert (
        scenario.one("select status from public.seat_reservations where id = %s", seat) == "grace"
    )
    clock.advance(dt.timedelta(hours=10))
    renewal = order(scenario, shop["student"], shop["product"])
    assert renewal["seat_reservation_id"] == seat  # no new hold
    assert deliver(service, "stripe", stripe_paid(renewal))["outcome"] == "fulfilled"
    assert (
        scenario.one("select status from public.seat_reservations where id = %s", seat) == "active"
    )
    clock.advance(dt.timedelta(hours=80))
    scenario.conn.execute("select private.release_expired_seats()")
    assert (
        scenario.one("select status from public.seat_reservations where id = %s", seat) == "active"
    )
