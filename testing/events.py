"""Provider events built and signed exactly as Stripe and PayPal build and sign them, for tests,
benchmarks and the demo seed that post webhooks to the services:

    body = encode(stripe_event("checkout.session.completed", stripe_checkout_session(...)))
    headers = {"Stripe-Signature": sign_stripe(body, secret), "Content-Type": "application/json"}

PayPal events are signed with a mentorships.stack.PayPalSigner,
whose certificate the services must be able to download from cert_url on their PayPal API host:
    headers = signer.headers(encode(paypal_event(...)), webhook_id=..., cert_url=...)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from sync import money

__all__ = [
    "STRIPE_API_VERSION",
    "encode",
    "paypal_capture",
    "paypal_checkout_order",
    "paypal_event",
    "paypal_refund",
    "paypal_transmission_time",
    "sign_stripe",
    "stripe_charge",
    "stripe_checkout_session",
    "stripe_event",
]

# The API version the installed stripe library speaks (events arrive in the endpoint's version).
STRIPE_API_VERSION = "2026-10-28.endive"


def encode(event: dict[str, Any]) -> bytes:
    """The body as a provider sends it (the signature covers these exact bytes)."""
    return json.dumps(event, indent=2).encode()


def _id(prefix: str, length: int = 24) -> str:
    return prefix + secrets.token_hex(length // 2)


# --- Stripe ------------------------------------------------------------------------------------


def sign_stripe(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def stripe_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Event envelope as Stripe delivers it to a webhook endpoint."""
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id or _id("evt_"),
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def stripe_checkout_session(
    *,
    order_id: str,
    amount_total: int,
    currency: str,
    session_id: str | None = None,
    payment_intent: str | None = None,
    payment_status: str = "paid",
    status: str = "complete",
    expires_at: int | None = None,
) -> dict[str, Any]:
    """A Checkout Session (mode=payment) as the API returns it and checkout.session.* events
    carry it."""
    now = int(time.time())
    session_id = session_id or _id("cs_test_", 58)
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "client_reference_id": order_id,
        "created": now - 60,
        "currency": currency.lower(),
        "customer": None,
        "customer_details": {"email": "buyer@example.com", "name": "Test Buyer"},
        "expires_at": expires_at or now + 1800,
        "livemode": False,
        "metadata": {"order_id": order_id},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "status": status,
        "success_url": "http://localhost:8501/?checkout=success",
        "cancel_url": "http://localhost:8501/?checkout=canceled",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}" if status == "open" else None,
    }


def stripe_charge(
    *,
    order_id: str,
    amount: int,
    amount_refunded: int,
    currency: str,
    payment_intent: str,
    charge_id: str | None = None,
) -> dict[str, Any]:
    """A Charge as charge.refunded carries it."""
    return {
        "id": charge_id or _id("ch_"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "captured": True,
        "created": int(time.time()) - 3600,
        "currency": currency.lower(),
        "livemode": False,
        "metadata": {"order_id": order_id},
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    }


# --- PayPal ------------------------------------------------------------------------------------


def paypal_transmission_time(at: dt.datetime | None = None) -> str:
    """PAYPAL-TRANSMISSION-TIME as PayPal sends it: UTC, whole seconds. The fraction is dropped,
    so a time made as now + N s reads up to 1 s less than N ahead (and more than N ago); a test
    near the tolerance leaves a margin."""
    moment = at or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paypal_event(
    event_type: str,
    resource: dict[str, Any],
    *,
    resource_type: str,
    summary: str,
    event_id: str | None = None,
    create_time: str | None = None,
    api_base: str = "https://api-m.sandbox.paypal.com",
) -> dict[str, Any]:
    """A webhook event envelope as PayPal delivers it."""
    event_id = event_id or f"WH-{secrets.token_hex(8).upper()}-{secrets.token_hex(8).upper()}"
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": create_time or paypal_transmission_time(),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": summary,
        "resource": resource,
        "links": [
            {
                "href": f"{api_base}/v1/notifications/webhooks-events/{event_id}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{api_base}/v1/notifications/webhooks-events/{event_id}/resend",
                "rel": "resend",
                "method": "POST",
            },
        ],
    }


def _amount(cents: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency.upper(), "value": money.to_decimal_string(cents, currency)}


def paypal_capture(
    *,
    order_id: str,
    paypal_order_id: str,
    amount_cents: int,
    currency: str,
    capture_id: str | None = None,
    status: str = "COMPLETED",
    api_base: str = "https://api-m.sandbox.paypal.com",
) -> dict[str, Any]:
    """A capture (Payments v2) as PAYMENT.CAPTURE.COMPLETED / DENIED carry it."""
    capture_id = capture_id or secrets.token_hex(8).upper()
    now = paypal_transmission_time()
    return {
        "id": capture_id,
        "amount": _amount(amount_cents, currency),
        "final_capture": True,
        "seller_protection": {"status": "ELIGIBLE"},
        "invoice_id": order_id,
        "custom_id": order_id,
        "status": status,
        "supplementary_data": {"related_ids": {"order_id": paypal_order_id}},
        "create_time": now,
        "update_time": now,
        "links": [
            {
                "href": f"{api_base}/v2/payments/captures/{capture_id}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{api_base}/v2/payments/captures/{capture_id}/refund",
                "rel": "refund",
                "method": "POST",
            },
            {
                "href": f"{api_base}/v2/checkout/orders/{paypal_order_id}",
                "rel": "up",
                "method": "GET",
            },
        ],
    }


def paypal_refund(
    *,
    order_id: str,
    capture_id: str,
    amount_cents: int,
    currency: str,
    total_refunded_cents: int | None = None,
    refund_id: str | None = None,
    api_base: str = "https://api-m.sandbox.paypal.com",
) -> dict[str, Any]:
    """A refund (Payments v2) as PAYMENT.CAPTURE.REFUNDED carries it; `up` links the capture."""
    refund_id = refund_id or secrets.token_hex(8).upper()
    now = paypal_transmission_time()
    return {
        "id": refund_id,
        "amount": _amount(amount_cents, currency),
        "seller_payable_breakdown": {
            "gross_amount": _amount(amount_cents, currency),
            "net_amount": _amount(amount_cents, currency),
            "total_refunded_amount": _amount(
                amount_cents if total_refunded_cents is None else total_refunded_cents, currency
            ),
        },
        "invoice_id": order_id,
        "custom_id": order_id,
        "status": "COMPLETED",
        "create_time": now,
        "update_time": now,
        "links": [
            {"href": f"{api_base}/v2/payments/refunds/{refund_id}", "rel": "self", "method": "GET"},
            {"href": f"{api_base}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
        ],
    }


def paypal_checkout_order(
    *,
    order_id: str,
    paypal_order_id: str,
    amount_cents: int,
    currency: str,
    status: str = "APPROVED",
    api_base: str = "https://api-m.sandbox.paypal.com",
) -> dict[str, Any]:
    """An Orders v2 order as CHECKOUT.ORDER.APPROVED carries it."""
    now = paypal_transmission_time()
    return {
        "id": paypal_order_id,
        "intent": "CAPTURE",
        "status": status,
        "purchase_units": [
            {
                "reference_id": "default",
                "amount": _amount(amount_cents, currency),
                "custom_id": order_id,
                "invoice_id": order_id,
                "payee": {"merchant_id": "TESTMERCHANT1"},
            }
        ],
        "payer": {"payer_id": "TESTPAYER1", "email_address": "buyer@example.com"},
        "create_time": now,
        "update_time": now,
        "links": [
            {
                "href": f"{api_base}/v2/checkout/orders/{paypal_order_id}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{api_base}/v2/checkout/orders/{paypal_order_id}/capture",
                "rel": "capture",
                "method": "POST",
            },
        ],
    }
