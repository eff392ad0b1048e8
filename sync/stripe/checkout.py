"""Stripe Checkout for an order: one Checkout Session per order (created with the order's id as
idempotency key, so a retry or a race gets the same session), expiring with the seat hold."""

from __future__ import annotations

import logging
from typing import Any

import stripe

from sync import orders
from sync.errors import ApiError
from sync.rest import Rest
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)


def client(settings: ServiceSettings, http_client: stripe.HTTPXClient) -> stripe.StripeClient:
    """The real library, its API base from settings (tests point it at a local fake)."""
    assert settings.stripe_secret_key is not None  # checked at start
    return stripe.StripeClient(
        settings.stripe_secret_key.get_secret_value(),
        base_addresses={"api": settings.stripe_api_base},
        http_client=http_client,
        max_network_retries=2,
    )


def _failed(e: stripe.StripeError) -> ApiError:
    log.error(
        "stripe request failed",
        extra={
            "error": type(e).__name__,
            "status": e.http_status,
            "stripe_message": e.user_message,
        },
    )
    if isinstance(e, stripe.APIConnectionError):
        return ApiError.message(
            502, "Stripe is not reachable; try again in a moment", hint="Try again in a moment."
        )
    return ApiError.message(
        502,
        f"Stripe refused the checkout: {e.user_message or e}",
        details=f"Stripe error code {e.code}" if e.code else None,
    )


class StripeCheckout:
    def __init__(
        self, settings: ServiceSettings, rest: Rest, stripe_client: stripe.StripeClient
    ) -> None:
        self.settings = settings
        self.rest = rest
        self.stripe = stripe_client

    async def start(self, token: str, body: orders.CheckoutRequest) -> dict[str, Any]:
        order = await orders.create_order(self.rest, token, body, "stripe")
        order_id: str = order["id"]
        try:
            if order.get("provider_checkout_id"):
                session = await self.stripe.v1.checkout.sessions.retrieve_async(
                    order["provider_checkout_id"]
                )
                if session.status != "open" or not session.url:
                    raise ApiError.message(
                        409,
                        f"the checkout for order {order_id} is {session.status}, not open",
                        details=f"order {order_id}",
                    )
                return orders.checkout_answer(order, "stripe", session.id, session.url)
            title = await orders.product_title(self.rest, order["product_id"])
            success_url, cancel_url = orders.return_urls(self.settings, order_id)
            session = await self.stripe.v1.checkout.sessions.create_async(
                {
                    "mode": "payment",
                    "line_items": [
                        {
                            "price_data": {
                                "currency": order["currency"],
                                "unit_amount": order["amount_cents"],
                                "product_data": {"name": title},
                            },
                            "quantity": 1,
                        }
                    ],
                    "expires_at": orders.expires_epoch(order),
                    "metadata": {"order_id": order_id},
                    "payment_intent_data": {"metadata": {"order_id": order_id}},
                    "client_reference_id": order_id,
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                {"idempotency_key": f"order-{order_id}"},
            )
        except stripe.StripeError as e:
            raise _failed(e) from e
        if not session.url:
            raise ApiError.message(502, "Stripe returned a checkout session without a URL")
        await orders.attach_checkout(self.rest, order_id, session.id)
        log.info(
            "stripe checkout created",
            extra={"order_id": order_id, "checkout_id": session.id},
        )
        return orders.checkout_answer(order, "stripe", session.id, session.url)
