"""refunds (sql/rules/payments/refunds.sql): full, partial, before their payment, PayPal decimals,
unknown events; record_payment_event as the service role over real PostgREST, with a frozen
clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from testing.api import Api, ok, refused
from testing.factories import Scenario
from testing.payments import (
    count,
    deliver,
    order,
    paypal_captured,
    paypal_refunded,
    stripe_event,
    stripe_paid,
    stripe_refunded,
)


def paid_with_sessions(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> tuple[dict[str, Any], list[str]]:
    """A paid order whose pack has two sessions booked (one credit each)."""
    o = order(scenario, shop["student"], shop["product"])
    deliver(service, "stripe", stripe_paid(o))
    pack = scenario.one("select id from public.session_packs where order_id = %s", o["id"])
    sessions = [
        ok(
            scenario.api(shop["student"]).rpc(
                "book_session",
                pack_id=pack,
                starts_at=dt.datetime(2026, 11, day, 15, tzinfo=dt.UTC),
            )
        )["id"]
        for day in (4, 5)
    ]
    return o, sessions


def test_full_refund_ends_the_pack_cancels_future_sessions_and_releases_the_seat(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    o, sessions = paid_with_sessions(scenario, shop, service)
    result = deliver(service, "stripe", stripe_refunded(o, 24000))
    assert result["outcome"] == "refunded" and result["sessions_canceled"] == 2
    assert scenario.conn.execute(
        "select p.status, p.remaining_sessions, o.status, pay.status, pay.refunded_cents, s.status, s.release_reason"
        " from public.session_packs p join public.orders o on o.id = p.order_id"
        " join public.payments pay on pay.order_id = o.id join public.seat_reservations s on s.id = p.seat_reservation_id"
        " where o.id = %s",
        (o["id"],),
    ).fetchone() == ("refunded", 0, "refunded", "refunded", 24000, "released", "refunded")
    assert scenario.conn.execute(
        "select array_agg(status::text order by starts_at) from public.sessions where id = any(%s::uuid[])",
        (sessions,),
    ).fetchone() == (["canceled", "canceled"],)
    # credits: -2 booked, -2 refunded, nothing given back by the cancels
    assert scenario.conn.execute(
        "select array_agg(kind::text || delta order by id) from public.session_credit_ledger"
        " where pack_id = (select id from public.session_packs where order_id = %s)",
        (o["id"],),
    ).fetchone() == (["session_booked-1", "session_booked-1", "pack_refunded-2"],)
    assert (
        count(
            scenario,
            "select count(*) from public.notifications where session_id = any(%s::uuid[])"
            " and kind::text like 'session_reminder%%' and status = 'pending'",
            sessions,
        )
        == 0
    )
    assert (
        count(
            scenario,
            "select count(*) from private.calendar_jobs where session_id = any(%s::uuid[]) and action = 'delete'",
            sessions,
        )
        == 2
    )
    # delivered again, or a later event with the same total: nothing more
    assert deliver(service, "stripe", stripe_refunded(o, 24000))["outcome"] == "duplicate"
    assert (
        count(
            scenario,
            "select count(*) from public.notifications where kind = 'refund_processed' and recipient_id = %s",
            shop["student"],
        )
        == 1  # email only (no Discord linked), once per refunded total
    )


def test_partial_refund_changes_no_credits_and_tells_the_admins(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    o, _ = paid_with_sessions(scenario, shop, service)
    assert deliver(service, "stripe", stripe_refunded(o, 5000))["outcome"] == "partially_refunded"
    assert scenario.conn.execute(
        "select p.status, p.remaining_sessions, pay.status, pay.refunded_cents from public.session_packs p"
        " join public.payments pay on pay.order_id = p.order_id where p.order_id = %s",
        (o["id"],),
    ).fetchone() == ("active", 2, "partially_refunded", 5000)
    assert (
        count(
            scenario,
            "select count(*) from public.notifications where kind = 'refund_processed' and recipient_id = %s",
            shop["admin"],
        )
        >= 1
    )
    # the rest refunded later: now it is a full refund
    assert deliver(service, "stripe", stripe_refunded(o, 24000))["outcome"] == "refunded"


def test_refund_before_its_payment_waits_and_is_applied_when_the_payment_arrives(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    refund = stripe_refunded(o, 24000)
    assert deliver(service, "stripe", refund)["outcome"] == "deferred"
    assert deliver(service, "stripe", stripe_paid(o))["outcome"] == "fulfilled"
    assert scenario.conn.execute(
        "select outcome, processed_at is not null from private.webhook_events where event_id = %s",
        (refund["id"],),
    ).fetchone() == ("refunded", True)
    assert scenario.conn.execute(
        "select p.status, o.status from public.session_packs p join public.orders o on o.id = p.order_id"
        " where o.id = %s",
        (o["id"],),
    ).fetchone() == ("refunded", "refunded")


def test_paypal_capture_and_refunds_in_decimal_amounts(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    odd = scenario.product(shop["mentor"], price_cents=19999)
    o = order(scenario, shop["student"], odd, provider="paypal")
    assert deliver(service, "paypal", paypal_captured(o, "199.99"))["outcome"] == "fulfilled"
    assert (
        scenario.one("select amount_cents from public.payments where order_id = %s", o["id"])
        == 19999
    )
    # a refund event without the breakdown adds its own amount
    assert (
        deliver(service, "paypal", paypal_refunded(o, "0.99", None))["outcome"]
        == "partially_refunded"
    )
    assert (
        deliver(service, "paypal", paypal_refunded(o, "199.00", "199.99"))["outcome"] == "refunded"
    )
    assert (
        scenario.one("select refunded_cents from public.payments where order_id = %s", o["id"])
        == 19999
    )
    # a capture in yen has no decimals
    yen = scenario.product(shop["mentor"], price_cents=3000, currency="jpy")
    o = order(scenario, scenario.person(), yen, provider="paypal")
    assert deliver(service, "paypal", paypal_captured(o, "3000", "JPY"))["outcome"] == "fulfilled"
    # stripe paid for a paypal order: flagged
    o = order(scenario, scenario.person(), shop["product"], provider="paypal")
    assert deliver(service, "stripe", stripe_paid(o))["outcome"] == "flagged"


def test_unknown_event_types_are_stored_and_ignored(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(service, "stripe", event)["outcome"] == "ignored"
    assert (
        scenario.one("select outcome from private.webhook_events where event_id = %s", event["id"])
        == "ignored"
    )
    refused(
        service.rpc(
            "record_payment_event", provider="stripe", event_id="evt_x", event_type="x", payload=[1]
        ),
        422,
        "payload must be the event as a JSON object",
    )
