"""POST /webhooks/stripe: verify the signature on the raw body, then one RPC call."""

from __future__ import annotations

import stripe
from fastapi.responses import Response

from sync import orders
from sync.rest import Rest
from sync.settings import ServiceSettings

TOLERANCE_SECONDS = 300
HEADER = "Stripe-Signature"
SIGNATURE_HINT = (
    "Send the event exactly as Stripe signed it; the services verify it with the endpoint's"
    " signing secret (MENTORSHIPS_STRIPE_WEBHOOK_SECRET)."
)
BODY_HINT = "Send the event Stripe signed: a JSON object with an id and a type."

# The library's reasons, in our words (anything else keeps the library's).
REASONS = {
    "No signatures found matching the expected signature": "no signature matches the payload",
    "Unable to extract timestamp and signatures": "no t= timestamp and v1= signatures in it",
    "No signatures found with expected scheme": "no v1= signature in it",
    "Timestamp outside the tolerance zone": (
        f"its timestamp is more than {TOLERANCE_SECONDS} s old"
    ),
}


def _reason(e: stripe.SignatureVerificationError) -> str:
    text = str(e.user_message or e)
    return next((ours for theirs, ours in REASONS.items() if text.startswith(theirs)), text)


async def handle(
    settings: ServiceSettings, rest: Rest, raw: bytes, signature: str | None
) -> Response:
    assert settings.stripe_webhook_secret is not None  # checked at start
    if not signature:
        return orders.rejected("stripe", HEADER, "no such header", SIGNATURE_HINT)
    try:
        payload = raw.decode("utf-8")
    except UnicodeDecodeError:
        return orders.rejected("stripe", "body", "not UTF-8, so no signature matches it", BODY_HINT)
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.stripe_webhook_secret.get_secret_value(), TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as e:
        return orders.rejected("stripe", HEADER, _reason(e), SIGNATURE_HINT)
    except (TypeError, ValueError):
        # hmac.compare_digest refuses a signature with characters beyond ASCII
        return orders.rejected("stripe", HEADER, "no signature matches the payload", SIGNATURE_HINT)
    try:
        # The payload we store is the event exactly as sent, parsed strictly (an object).
        event = orders.parse_event(raw)
    except ValueError as e:
        return orders.rejected("stripe", "body", f"not a JSON event: {e}", BODY_HINT)
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        return orders.rejected("stripe", "body", "the event has no id or type", BODY_HINT)
    return await orders.record_event(rest, "stripe", event_id, event_type, event)
