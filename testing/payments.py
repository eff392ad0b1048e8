"""What the payment rule tests (tests/sql/rules/payments/) share: a fixed instant, provider
events built as Stripe and PayPal send them (testing.events), and the calls that deliver them and
place orders."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from testing import events
from testing.api import Api, ok
from testing.factories import Scenario

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


# --- provider events (testing.events builds them as Stripe and PayPal do) -----------------------


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return events.stripe_event(event_type, obj)


def stripe_paid(order: dict[str, Any], **over: Any) -> dict[str, Any]:
    session = events.stripe_checkout_session(
        order_id=order["id"],
        amount_total=order["amount_cents"],
        currency=order["currency"],
        session_id=f"cs_test_{order['id'][:8]}",
        payment_intent=f"pi_{order['id'][:8]}",
    )
    return events.stripe_event("checkout.session.completed", session | over)


def stripe_expired(order: dict[str, Any]) -> dict[str, Any]:
    session = events.stripe_checkout_session(
        order_id=order["id"],
        amount_total=order["amount_cents"],
        currency=order["currency"],
        session_id=f"cs_test_{order['id'][:8]}",
        payment_status="unpaid",
        status="expired",
    )
    return events.stripe_event("checkout.session.expired", session)


def stripe_refunded(order: dict[str, Any], refunded: int) -> dict[str, Any]:
    charge = events.stripe_charge(
        order_id=order["id"],
        amount=order["amount_cents"],
        amount_refunded=refunded,
        currency=order["currency"],
        payment_intent=f"pi_{order['id'][:8]}",
    )
    return events.stripe_event("charge.refunded", charge)


def capture_id(order: dict[str, Any]) -> str:
    return f"CAP{order['id'][:8].upper()}"


def paypal_captured(order: dict[str, Any], value: str, currency: str = "USD") -> dict[str, Any]:
    capture = events.paypal_capture(
        order_id=order["id"],
        paypal_order_id=f"PP{order['id'][:8].upper()}",
        amount_cents=0,
        currency=currency,
        capture_id=capture_id(order),
    )
    capture["amount"] = {"currency_code": currency, "value": value}  # exactly as written
    return events.paypal_event(
        "PAYMENT.CAPTURE.COMPLETED", capture, resource_type="capture", summary="captured"
    )


def paypal_refunded(order: dict[str, Any], value: str, total: str | None) -> dict[str, Any]:
    refund = events.paypal_refund(
        order_id=order["id"], capture_id=capture_id(order), amount_cents=0, currency="USD"
    )
    refund["amount"] = {"currency_code": "USD", "value": value}
    if total is None:  # older payloads carry no breakdown
        del refund["seller_payable_breakdown"]
    else:
        refund["seller_payable_breakdown"]["total_refunded_amount"]["value"] = total
    return events.paypal_event(
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
