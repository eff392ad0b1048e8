"""Answers of PayPal's REST API, shaped like the real ones (Orders v2, OAuth)."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from testing import events

CERT_PATH = "/v1/notifications/certs/CERT-test"


def basic_auth(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def token(access_token: str, expires_in: int = 32400) -> dict[str, Any]:
    return {
        "scope": "https://uri.paypal.com/services/payments/payment",
        "access_token": access_token,
        "token_type": "Bearer",
        "app_id": "APP-80W284485P519543T",
        "expires_in": expires_in,
        "nonce": secrets.token_hex(16),
    }


def order_id() -> str:
    return secrets.token_hex(8).upper()


def created_order(paypal_order_id: str, api_base: str) -> dict[str, Any]:
    """POST /v2/checkout/orders with a paypal payment_source (Prefer: return=minimal)."""
    return {
        "id": paypal_order_id,
        "status": "PAYER_ACTION_REQUIRED",
        "payment_source": {"paypal": {}},
        "links": [
            {
                "href": f"{api_base}/v2/checkout/orders/{paypal_order_id}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"https://www.sandbox.paypal.com/checkoutnow?token={paypal_order_id}",
                "rel": "payer-action",
                "method": "GET",
            },
        ],
    }


def captured_order(
    *,
    order_id: str,
    paypal_order_id: str,
    capture_id: str,
    amount_cents: int,
    currency: str,
    api_base: str,
) -> dict[str, Any]:
    """POST /v2/checkout/orders/{id}/capture with Prefer: return=representation."""
    capture = events.paypal_capture(
        order_id=order_id,
        paypal_order_id=paypal_order_id,
        amount_cents=amount_cents,
        currency=currency,
        capture_id=capture_id,
        api_base=api_base,
    )
    return {
        "id": paypal_order_id,
        "status": "COMPLETED",
        "payment_source": {
            "paypal": {"email_address": "buyer@example.com", "account_id": "TESTPAYER1"}
        },
        "purchase_units": [{"reference_id": "default", "payments": {"captures": [capture]}}],
        "payer": {"payer_id": "TESTPAYER1", "email_address": "buyer@example.com"},
        "links": [
            {
                "href": f"{api_base}/v2/checkout/orders/{paypal_order_id}",
                "rel": "self",
                "method": "GET",
            }
        ],
    }


def error(
    name: str, issue: str, description: str, debug_id: str = "f00dbabe1234"
) -> dict[str, Any]:
    return {
        "name": name,
        "message": "The requested action could not be performed, semantically incorrect, or failed business validation.",
        "debug_id": debug_id,
        "details": [{"issue": issue, "description": description}],
    }
