"""POST /webhooks/stripe: verify the signature on the raw body, then one RPC call."""

from __future__ import annotations

import stripe
from fastapi.responses import Response

from mentorships.settings import Settings
from sync import orders
from sync.rest import Rest

TOLERANCE_SECONDS = 300


async def handle(settings: Settings, rest: Rest, raw: bytes, signature: str | None) -> Response:
    assert settings.stripe_webhook_secret is not None  # checked at start
    if not signature:
        return orders.rejected("stripe", "no Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(
            raw, signature, settings.stripe_webhook_secret.get_secret_value(), TOLERANCE_SECONDS
        )
        # The payload we store is the event exactly as sent, parsed strictly (an object).
        event = orders.parse_event(raw)
    except stripe.SignatureVerificationError as e:
        return orders.rejected("stripe", f"signature verification failed: {e.user_message or e}")
    except (ValueError, AttributeError, TypeError) as e:
        # not UTF-8, not JSON, or (construct_event's AttributeError) JSON that is not an object
        return orders.rejected("stripe", f"the body is not a JSON event: {e}")
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        return orders.rejected("stripe", "the event has no id or type")
    return await orders.record_event(rest, "stripe", event_id, event_type, event)
