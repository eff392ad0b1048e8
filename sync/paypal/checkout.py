"""PayPal Checkout for an order: one PayPal order per order (PayPal-Request-Id order-<id>), then
capture after the buyer approved it, while the seat hold is valid. Fulfilment comes through
the PAYMENT.CAPTURE.COMPLETED webhook, not from here."""

from __future__ import annotations

import logging
from typing import Any

from sync import money, orders
from sync.errors import ApiError
from sync.paypal.client import PayPal, PayPalError, approval_url
from sync.rest import Rest
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)

# PayPal's limit on purchase_units[].description.
DESCRIPTION_MAX = 127


def order_body(
    order: dict[str, Any], title: str, return_url: str, cancel_url: str
) -> dict[str, Any]:
    """The Orders v2 create body for one of our orders."""
    currency: str = order["currency"]
    return {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "custom_id": order["id"],
                "invoice_id": order["id"],
                "description": title[:DESCRIPTION_MAX],
                "amount": {
                    "currency_code": currency.upper(),
                    "value": money.to_decimal_string(order["amount_cents"], currency),
                },
            }
        ],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "return_url": return_url,
                    "cancel_url": cancel_url,
                    "user_action": "PAY_NOW",
                    "shipping_preference": "NO_SHIPPING",
                }
            }
        },
    }


def _details(e: PayPalError) -> str:
    """PayPal's issue and debug id, what PayPal's support asks for."""
    return f"PayPal issue {e.issue or 'unknown'}, debug id {e.debug_id or 'none'}"


def _failed(e: PayPalError, what: str) -> ApiError:
    if e.status in (401, 403) or e.status >= 500:
        # Our credentials or PayPal itself: nothing the buyer can change.
        return ApiError.message(502, f"PayPal refused to {what}", details=_details(e))
    return ApiError.message(409, f"PayPal refused to {what}: {e.description}", details=_details(e))


class PayPalCheckout:
    def __init__(self, settings: ServiceSettings, rest: Rest, paypal: PayPal) -> None:
        self.settings = settings
        self.rest = rest
        self.paypal = paypal

    async def start(self, token: str, body: orders.CheckoutRequest) -> dict[str, Any]:
        order = await orders.create_order(self.rest, token, body, "paypal")
        order_id: str = order["id"]
        try:
            if order.get("provider_checkout_id"):
                paypal_order = await self.paypal.show_order(order["provider_checkout_id"])
            else:
                title = await orders.product_title(self.rest, order["product_id"])
                return_url, cancel_url = orders.return_urls(self.settings, order_id)
                paypal_order = await self.paypal.create_order(
                    order_body(order, title, return_url, cancel_url), f"order-{order_id}"
                )
        except PayPalError as e:
            raise _failed(e, "start the checkout") from e
        except ValueError as e:  # an amount PayPal cannot take
            raise ApiError.message(422, str(e)) from e
        url = approval_url(paypal_order)
        if not url:
            raise ApiError.message(
                409,
                f"the PayPal order for order {order_id} is {paypal_order.get('status')}, "
                "there is nothing left to approve",
                details=f"order {order_id}",
            )
        if not order.get("provider_checkout_id"):
            await orders.attach_checkout(self.rest, order_id, paypal_order["id"])
            log.info(
                "paypal checkout created",
                extra={"order_id": order_id, "checkout_id": paypal_order["id"]},
            )
        return orders.checkout_answer(order, "paypal", paypal_order["id"], url)

    async def capture(self, token: str, body: orders.CaptureRequest) -> dict[str, Any]:
        order: dict[str, Any] = await self.rest.rpc(
            "order_for_capture", {"order_id": str(body.order_id)}, token=token
        )
        order_id: str = order["id"]
        try:
            result = await self.paypal.capture(order["provider_checkout_id"], f"capture-{order_id}")
        except PayPalError as e:
            raise _failed(e, "capture the payment") from e
        captures = [
            capture
            for unit in result.get("purchase_units") or []
            for capture in (unit.get("payments") or {}).get("captures") or []
        ]
        capture_id = captures[0]["id"] if captures else None
        log.info(
            "paypal order captured",
            extra={"order_id": order_id, "status": result.get("status"), "capture_id": capture_id},
        )
        return {"order_id": order_id, "status": result.get("status"), "capture_id": capture_id}
