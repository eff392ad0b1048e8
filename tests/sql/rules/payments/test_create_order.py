"""create_order (sql/rules/payments/checkout.sql, pricing.sql): holds, provider switch,
grandfathered prices and promotions, every refusal, a race for the last seats;
record_payment_event as the service role over real PostgREST, with a frozen clock."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from mentorships.settings import Settings
from testing.api import Api, race, refused
from testing.clock import Clock
from testing.factories import Scenario
from testing.payments import (
    NOW,
    count,
    deliver,
    order,
    stripe_paid,
)


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
