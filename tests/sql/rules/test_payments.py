"""Payment rules (sql/rules/payments/) over real PostgREST: create_order as the student,
record_payment_event as the service role, with a frozen clock. The webhook endpoints that verify
signatures before calling record_payment_event are tested in tests/sync/."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from mentorships import jwt
from mentorships.settings import Settings
from sync import signing
from testing.api import Api, ok, race, refused
from testing.clock import Clock
from testing.factories import Scenario

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def service(settings: Settings) -> Iterator[Api]:
    api = Api(settings, jwt.service_role_key(settings), apikey=jwt.service_role_key(settings))
    yield api
    api.http.close()


@pytest.fixture
def shop(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A mentor with 3 seats selling a 4-session pack at 240.00 USD, a student, an admin."""
    clock.freeze(NOW)
    mentor = scenario.mentor(capacity=3)
    return {
        "mentor": mentor,
        "product": scenario.product(mentor, price_cents=24000),
        "student": scenario.person("student"),
        "admin": scenario.person("admin"),
    }


# --- provider events (sync.signing builds them as Stripe and PayPal do) -----------------------


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return signing.stripe_event(event_type, obj)


def stripe_paid(order: dict[str, Any], **over: Any) -> dict[str, Any]:
    session = signing.stripe_checkout_session(
        order_id=order["id"],
        amount_total=order["amount_cents"],
        currency=order["currency"],
        session_id=f"cs_test_{order['id'][:8]}",
        payment_intent=f"pi_{order['id'][:8]}",
    )
    return signing.stripe_event("checkout.session.completed", session | over)


def stripe_expired(order: dict[str, Any]) -> dict[str, Any]:
    session = signing.stripe_checkout_session(
        order_id=order["id"],
        amount_total=order["amount_cents"],
        currency=order["currency"],
        session_id=f"cs_test_{order['id'][:8]}",
        payment_status="unpaid",
        status="expired",
    )
    return signing.stripe_event("checkout.session.expired", session)


def stripe_refunded(order: dict[str, Any], refunded: int) -> dict[str, Any]:
    charge = signing.stripe_charge(
        order_id=order["id"],
        amount=order["amount_cents"],
        amount_refunded=refunded,
        currency=order["currency"],
        payment_intent=f"pi_{order['id'][:8]}",
    )
    return signing.stripe_event("charge.refunded", charge)


def capture_id(order: dict[str, Any]) -> str:
    return f"CAP{order['id'][:8].upper()}"


def paypal_captured(order: dict[str, Any], value: str, currency: str = "USD") -> dict[str, Any]:
    capture = signing.paypal_capture(
        order_id=order["id"],
        paypal_order_id=f"PP{order['id'][:8].upper()}",
        amount_cents=0,
        currency=currency,
        capture_id=capture_id(order),
    )
    capture["amount"] = {"currency_code": currency, "value": value}  # exactly as written
    return signing.paypal_event(
        "PAYMENT.CAPTURE.COMPLETED", capture, resource_type="capture", summary="captured"
    )


def paypal_refunded(order: dict[str, Any], value: str, total: str | None) -> dict[str, Any]:
    refund = signing.paypal_refund(
        order_id=order["id"], capture_id=capture_id(order), amount_cents=0, currency="USD"
    )
    refund["amount"] = {"currency_code": "USD", "value": value}
    if total is None:  # older payloads carry no breakdown
        del refund["seller_payable_breakdown"]
    else:
        refund["seller_payable_breakdown"]["total_refunded_amount"]["value"] = total
    return signing.paypal_event(
        "PAYMENT.CAPTURE.REFUNDED", refund, resource_type="refund", summary="refunded"
    )


def deliver(service: Api, provider: str, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        service.rpc(
            "record_payment_event",
            provider=provider,
            event_id=event["id"],
            event_type=event.get("type") or event["event_type"],
            payload=event,
        )
    )
    return result


def order(
    scenario: Scenario, student: uuid.UUID, product: uuid.UUID, **args: Any
) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        scenario.api(student).rpc(
            "create_order", product_id=product, provider=args.pop("provider", "stripe"), **args
        )
    )
    return result


def count(scenario: Scenario, sql: str, *params: Any) -> int:
    return int(scenario.one(sql, *params))


# --- create_order ------------------------------------------------------------------------------


def test_order_holds_a_seat_for_the_checkout(scenario: Scenario, shop: dict[str, Any]) -> None:
    o = order(scenario, shop["student"], shop["product"], provider="paypal")
    assert (o["list_price_cents"], o["discount_cents"], o["amount_cents"], o["currency"]) == (
        24000,
        0,
        24000,
        "usd",
    )
    assert o["status"] == "pending" and o["grandfathered_price_cents"] is None
    assert dt.datetime.fromisoformat(o["expires_at"]) == NOW + dt.timedelta(minutes=30)
    hold = scenario.conn.execute(
        "select status, hold_expires_at from public.seat_reservations where id = %s",
        (o["seat_reservation_id"],),
    ).fetchone()
    assert hold == ("hold", NOW + dt.timedelta(minutes=30))
    # Stripe refuses a Checkout Session expiring sooner than 30 minutes after its creation
    other = order(scenario, scenario.person(), shop["product"], provider="stripe")
    assert dt.datetime.fromisoformat(other["expires_at"]) == NOW + dt.timedelta(minutes=32)


def test_second_call_returns_the_open_order_and_switching_provider_keeps_the_hold(
    scenario: Scenario, shop: dict[str, Any], clock: Clock
) -> None:
    first = order(scenario, shop["student"], shop["product"], provider="stripe")
    assert order(scenario, shop["student"], shop["product"], provider="stripe") == first
    clock.advance(dt.timedelta(minutes=5))
    switched = order(scenario, shop["student"], shop["product"], provider="paypal")
    assert switched["id"] != first["id"]
    assert switched["seat_reservation_id"] == first["seat_reservation_id"]
    statuses: dict[str, str] = dict(
        scenario.conn.execute(
            "select id::text, status::text from public.orders where id in (%s, %s)",
            (first["id"], switched["id"]),
        ).fetchall()
    )
    assert statuses == {first["id"]: "canceled", switched["id"]: "pending"}
    assert (
        count(
            scenario,
            "select count(*) from public.seat_reservations where student_id = %s",
            shop["student"],
        )
        == 1
    )
    # once the order ran out, a new call makes a new order (and holds the seat again)
    clock.advance(dt.timedelta(minutes=40))
    again = order(scenario, shop["student"], shop["product"], provider="paypal")
    assert again["id"] != switched["id"]
    assert dt.datetime.fromisoformat(again["expires_at"]) == clock.now() + dt.timedelta(minutes=30)


def test_grandfathered_price_then_promotion(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    first = order(scenario, shop["student"], shop["product"])
    deliver(service, "stripe", stripe_paid(first))
    scenario.conn.execute(
        "update public.mentorship_products set price_cents = 30000 where id = %s",
        (shop["product"],),
    )
    scenario.conn.execute(
        "insert into public.promotion_codes (code, percent_off, valid_from) values ('HALF-OFF-TEST', 15, %s)",
        (NOW - dt.timedelta(days=1),),
    )
    again = order(scenario, shop["student"], shop["product"], promo_code=" half-off-test ")
    # 240.00 grandfathered; 15 % of it is 36.00
    assert (again["list_price_cents"], again["grandfathered_price_cents"]) == (30000, 24000)
    assert (again["discount_cents"], again["amount_cents"]) == (3600, 20400)
    # a new student pays today's price
    newcomer = order(scenario, scenario.person(), shop["product"])
    assert newcomer["grandfathered_price_cents"] is None and newcomer["amount_cents"] == 30000


def test_discounts_round_half_up_and_never_below_zero(
    scenario: Scenario, shop: dict[str, Any]
) -> None:
    cheap = scenario.product(shop["mentor"], price_cents=999)
    scenario.conn.execute(
        "insert into public.promotion_codes (code, percent_off, amount_off_cents, currency, valid_from)"
        " values ('THIRD-TEST', 33, null, null, %(from)s), ('BIG-FIXED-TEST', null, 5000, 'usd', %(from)s)",
        {"from": NOW - dt.timedelta(days=1)},
    )
    o = order(scenario, shop["student"], cheap, promo_code="THIRD-TEST")
    assert (o["discount_cents"], o["amount_cents"]) == (330, 669)  # 329.67 rounds to 330
    o = order(scenario, scenario.person(), cheap, promo_code="BIG-FIXED-TEST")
    assert (o["discount_cents"], o["amount_cents"]) == (999, 0)


def test_promotion_code_refusals_say_which(
    scenario: Scenario, shop: dict[str, Any], clock: Clock, service: Api
) -> None:
    other_mentor = scenario.mentor()
    other_product = scenario.product(shop["mentor"])
    eur_product = scenario.product(shop["mentor"], currency="eur")
    tag = uuid.uuid4().hex[:6].upper()
    scenario.conn.execute(
        f"""insert into public.promotion_codes (code, percent_off, valid_from, valid_until, max_redemptions,
                                                 product_id, mentor_id, is_active, amount_off_cents, currency)
            values ('LATE-{tag}', 10, %(now)s - interval '2 days', %(now)s - interval '1 second', null, null, null, true, null, null),
                   ('SOON-{tag}', 10, %(now)s + interval '1 day', null, null, null, null, true, null, null),
                   ('ONCE-{tag}', 10, %(now)s - interval '1 day', null, 1, null, null, true, null, null),
                   ('PROD-{tag}', 10, %(now)s - interval '1 day', null, null, %(product)s, null, true, null, null),
                   ('MENT-{tag}', 10, %(now)s - interval '1 day', null, null, null, %(other)s, true, null, null),
                   ('OFF-{tag}', 10, %(now)s - interval '1 day', null, null, null, null, false, null, null),
                   ('USD-{tag}', null, %(now)s - interval '1 day', null, null, null, null, true, 500, 'usd'),
                   ('MINE-{tag}', 10, %(now)s - interval '1 day', null, null, null, null, true, null, null)""",
        {"now": NOW, "product": shop["product"], "other": other_mentor},
    )
    me = scenario.api(shop["student"])

    def attempt(product: uuid.UUID, code: str) -> Any:
        return me.rpc("create_order", product_id=product, provider="stripe", promo_code=code)

    refused(attempt(shop["product"], "NOPE-" + tag), 422, f'promotion code "NOPE-{tag}" is unknown')
    refused(attempt(shop["product"], "LATE-" + tag), 422, f"promotion code LATE-{tag} expired")
    refused(
        attempt(shop["product"], "SOON-" + tag), 422, f"promotion code SOON-{tag} is valid from"
    )
    refused(
        attempt(other_product, "PROD-" + tag),
        422,
        f"promotion code PROD-{tag} is not valid for this product",
    )
    refused(
        attempt(shop["product"], "MENT-" + tag),
        422,
        f"promotion code MENT-{tag} is not valid for this mentor",
    )
    refused(
        attempt(shop["product"], "OFF-" + tag), 422, f"promotion code OFF-{tag} is no longer valid"
    )
    refused(
        attempt(eur_product, "USD-" + tag), 422, f"promotion code USD-{tag} is for prices in USD"
    )
    # used up: another student's order holds the one redemption
    order(scenario, scenario.person(), shop["product"], promo_code="ONCE-" + tag)
    refused(attempt(shop["product"], "ONCE-" + tag), 422, f"promotion code ONCE-{tag} is used up")
    # once per student: paid with it, then tries again on another product
    mine = order(scenario, shop["student"], shop["product"], promo_code="MINE-" + tag)
    deliver(service, "stripe", stripe_paid(mine))
    refused(
        attempt(other_product, "MINE-" + tag),
        422,
        f"you have already used promotion code MINE-{tag}",
    )
    # a refused call wrote nothing: no order, no hold beyond the student's paid seat
    assert (
        count(scenario, "select count(*) from public.orders where student_id = %s", shop["student"])
        == 1
    )


def test_order_refusals(scenario: Scenario, shop: dict[str, Any], settings: Settings) -> None:
    student = scenario.api(shop["student"])
    refused(
        student.rpc("create_order", product_id=uuid.uuid4(), provider="stripe"), 404, "no product"
    )
    refused(
        student.rpc("create_order", product_id=shop["product"], provider="bitcoin"),
        422,
        'provider: "bitcoin" is not stripe or paypal',
    )
    retired = scenario.product(shop["mentor"], active=False)
    refused(
        student.rpc("create_order", product_id=retired, provider="stripe"),
        409,
        "this product is no longer sold",
    )
    refused(
        scenario.api(shop["mentor"]).rpc(
            "create_order", product_id=shop["product"], provider="stripe"
        ),
        403,
        "only students can buy",
    )
    assert (
        scenario.api(None)
        .rpc("create_order", product_id=shop["product"], provider="stripe")
        .status_code
        == 401
    )
    # full: 3 seats taken by three other students' holds
    for _ in range(3):
        order(scenario, scenario.person(), shop["product"])
    refused(
        student.rpc("create_order", product_id=shop["product"], provider="stripe"),
        409,
        "the mentor has no free seat (3 of 3 taken)",
    )
    # not taking new students
    closed = scenario.mentor()
    scenario.conn.execute(
        "update public.mentors set accepting_students = false where id = %s", (closed,)
    )
    refused(
        student.rpc("create_order", product_id=scenario.product(closed), provider="stripe"),
        409,
        "Scenario Mentor is not taking new students",
    )
    assert (
        count(scenario, "select count(*) from public.orders where student_id = %s", shop["student"])
        == 0
    )


def test_thirty_parallel_orders_three_free_seats(
    scenario: Scenario, shop: dict[str, Any], settings: Settings
) -> None:
    students = [scenario.person() for _ in range(30)]
    statuses = race(
        settings,
        "create_order",
        [(s, {"product_id": str(shop["product"]), "provider": "stripe"}) for s in students],
    )
    assert statuses == Counter({200: 3, 409: 27})
    assert (
        count(
            scenario,
            "select count(*) from public.seat_reservations where mentor_id = %s and status = 'hold'",
            shop["mentor"],
        )
        == 3
    )
    assert (
        count(scenario, "select count(*) from public.orders where mentor_id = %s", shop["mentor"])
        == 3
    )


# --- fulfilment ----------------------------------------------------------------------------------


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


# --- refunds -------------------------------------------------------------------------------------


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


# --- exactly once ---------------------------------------------------------------------------------


def test_every_event_three_times_shuffled_is_applied_once(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    scenario.conn.execute(
        "update public.mentors set seat_capacity = 20 where id = %s", (shop["mentor"],)
    )
    students = [scenario.person() for _ in range(6)]
    orders = [order(scenario, s, shop["product"]) for s in students]
    events = [stripe_paid(o) for o in orders]
    events.append(stripe_refunded(orders[0], 24000))  # full refund
    events.append(stripe_refunded(orders[1], 1000))  # partial
    events.append(stripe_expired(orders[2]))  # expiry notice of a paid order
    deliveries = events * 3
    random.Random(4).shuffle(deliveries)
    outcomes = Counter(deliver(service, "stripe", e)["outcome"] for e in deliveries)
    assert outcomes["duplicate"] == 2 * len(events)
    ids = [o["id"] for o in orders]
    assert scenario.conn.execute(
        "select count(*), count(distinct order_id) from public.session_packs where order_id = any(%s::uuid[])",
        (ids,),
    ).fetchone() == (6, 6)
    assert (
        count(
            scenario, "select count(*) from public.payments where order_id = any(%s::uuid[])", ids
        )
        == 6
    )
    assert (
        count(
            scenario,
            "select count(*) from public.notifications where kind = 'pack_purchased' and payload ->> 'order_id' = any(%s)",
            ids,
        )
        == 12  # student and mentor, email only
    )
    status = "select status::text from public.session_packs where order_id = %s"
    assert [scenario.one(status, i) for i in ids[:3]] == ["refunded", "active", "active"]


def test_twenty_concurrent_deliveries_of_one_event_make_one_pack(
    scenario: Scenario, shop: dict[str, Any], settings: Settings
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    event = stripe_paid(o)
    body = {
        "provider": "stripe",
        "event_id": event["id"],
        "event_type": event["type"],
        "payload": event,
    }
    statuses = race(settings, "record_payment_event", [(jwt.service_role_key(settings), body)] * 20)
    assert statuses == Counter({200: 20})
    assert (
        count(scenario, "select count(*) from public.session_packs where order_id = %s", o["id"])
        == 1
    )
    assert (
        count(
            scenario, "select count(*) from private.webhook_events where event_id = %s", event["id"]
        )
        == 1
    )


def test_refunds_racing_their_payments_are_never_left_waiting(
    scenario: Scenario, shop: dict[str, Any], settings: Settings
) -> None:
    """A refund that finds no payment is parked; a payment applies the parked refunds. Sent at
    the same instant, neither may miss the other (they take turns per provider payment)."""
    scenario.conn.execute(
        "update public.mentors set seat_capacity = 40 where id = %s", (shop["mentor"],)
    )
    orders = [order(scenario, scenario.person(), shop["product"]) for _ in range(15)]
    key = jwt.service_role_key(settings)
    calls: list[tuple[uuid.UUID | str, dict[str, Any]]] = []
    for o in orders:
        for event in (stripe_paid(o), stripe_refunded(o, o["amount_cents"])):
            body = {"provider": "stripe", "event_id": event["id"], "event_type": event["type"]}
            calls.append((key, body | {"payload": event}))
    assert race(settings, "record_payment_event", calls) == Counter({200: 30})
    ids = [o["id"] for o in orders]
    assert scenario.conn.execute(
        "select count(*) filter (where status = 'refunded'), count(*) from public.session_packs"
        " where order_id = any(%s::uuid[])",
        (ids,),
    ).fetchone() == (15, 15)
    assert (
        count(
            scenario,
            "select count(*) from private.webhook_events where payment_ref = any(%s) and outcome = 'deferred'",
            [f"pi_{i[:8]}" for i in ids],
        )
        == 0
    )
