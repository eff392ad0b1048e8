"""What both providers' checkout and webhook endpoints share: the caller's token, the order
RPCs, return URLs, and recording a verified event."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Annotated, Any, ClassVar

import jwt
from fastapi import Request
from fastapi.responses import Response
from pydantic import AfterValidator, Field

from sync.bodies import UUID_FORM, JsonBody
from sync.errors import CONTROL_CHARACTERS, ApiError, error_response, printable
from sync.rest import Rest, Unreachable
from sync.settings import Provider, ServiceSettings

log = logging.getLogger(__name__)


def _no_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("control characters")
    return value


class CheckoutRequest(JsonBody):
    """POST /checkout/stripe and /checkout/paypal. The promotion code's length, whether it exists
    and whether it applies are create_order's to say (its 422 comes back as it is); here it must
    only be text that can travel as JSON."""

    product_id: uuid.UUID = Field(description="The product to buy.")
    promo_code: Annotated[str, AfterValidator(_no_control_characters)] | None = Field(
        None, description="A promotion code (any case), or null."
    )

    forms: ClassVar[dict[str, str]] = {
        "product_id": UUID_FORM,
        "promo_code": (
            'a promotion code (text without control characters, such as "SPRING10") or null'
        ),
    }
    example: ClassVar[str] = (
        '{"product_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b", "promo_code": "SPRING10"}'
    )


class CaptureRequest(JsonBody):
    """POST /checkout/paypal/capture."""

    order_id: uuid.UUID = Field(description="The order the buyer approved on PayPal.")

    forms: ClassVar[dict[str, str]] = {"order_id": UUID_FORM}
    example: ClassVar[str] = '{"order_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b"}'


def bearer_token(request: Request) -> str:
    """The caller's JWT from `Authorization: Bearer <token>`; PostgREST verifies it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError.message(
            401,
            "sign in first: send your access token as `Authorization: Bearer <token>`",
            details="Authorization",
            hint="Send the access token of your session as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def token_subject(token: str) -> uuid.UUID:
    """The user id (`sub`) of a token PostgREST accepts. Read, not verified here: the services
    hold no JWT secret, so a caller of this must let PostgREST verify this very token in a call
    that answers only for that user (video_session_access, the caller's own profile row)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return uuid.UUID(str(claims["sub"]))
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as e:
        raise ApiError.message(
            401,
            "the access token names no user (its sub claim is not a user id)",
            details="Authorization",
            hint="Send the access token of your session as `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        ) from e


async def create_order(
    rest: Rest, token: str, body: CheckoutRequest, provider: Provider
) -> dict[str, Any]:
    """public.create_order as the caller: a new pending order, or the one already open for
    this product. Its refusals (403/404/409/422) reach the caller unchanged."""
    order: dict[str, Any] = await rest.rpc(
        "create_order",
        {"product_id": str(body.product_id), "provider": provider, "promo_code": body.promo_code},
        token=token,
    )
    return order


async def attach_checkout(rest: Rest, order_id: str, checkout_id: str) -> dict[str, Any]:
    """public.attach_order_checkout as the service role."""
    order: dict[str, Any] = await rest.rpc(
        "attach_order_checkout",
        {"order_id": order_id, "provider_checkout_id": checkout_id},
        service=True,
    )
    return order


async def product_title(rest: Rest, product_id: str) -> str:
    rows = await rest.select("mentorship_products", {"id": f"eq.{product_id}", "select": "title"})
    if not rows:
        raise ApiError.message(404, f"no product with id {product_id}", details="product_id")
    title: str = rows[0]["title"]
    return title


def return_urls(settings: ServiceSettings, order_id: str) -> tuple[str, str]:
    return (
        settings.checkout_success_url.replace("{order_id}", order_id),
        settings.checkout_cancel_url.replace("{order_id}", order_id),
    )


def expires_epoch(order: dict[str, Any]) -> int:
    return int(dt.datetime.fromisoformat(order["expires_at"]).timestamp())


def checkout_answer(
    order: dict[str, Any], provider: Provider, checkout_id: str, url: str
) -> dict[str, Any]:
    return {
        "order_id": order["id"],
        "provider": provider,
        "checkout_id": checkout_id,
        "url": url,
        "expires_at": order["expires_at"],
        "amount_cents": order["amount_cents"],
        "currency": order["currency"],
    }


def rejected(provider: Provider, where: str, reason: str, hint: str) -> Response:
    """400 (SV400): the webhook is not accepted and nothing is written. `where` is the header at
    fault, or "body"."""
    message = f"{where}: {reason}"
    log.warning("webhook rejected", extra={"provider": provider, "reason": printable(message)})
    return error_response(400, message, details=where, hint=hint)


def parse_event(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object (UTF-8; NaN and Infinity are not JSON)."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        event = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except RecursionError as e:
        raise ValueError("JSON nested too deeply to read") from e
    if not isinstance(event, dict):
        raise ValueError("the event is not a JSON object")
    return event


async def record_event(
    rest: Rest, provider: Provider, event_id: str, event_type: str, event: dict[str, Any]
) -> Response:
    """One call: public.record_payment_event as the service role. 200 with its result; a
    failure of the database API is a 502 (SV502), so the provider delivers the event again."""
    args = {"provider": provider, "event_id": event_id, "event_type": event_type, "payload": event}
    try:
        # UTF-8 as it came: \u escapes would make an event of 4 MiB of emoji 12 MB, past the
        # gateway's limit (10 MB).
        body = json.dumps(args, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") only travels escaped
        body = json.dumps(args).encode()
    context = {"provider": provider, "event_id": event_id, "event_type": event_type}
    try:
        response = await rest.rpc_raw("record_payment_event", body)
    except Unreachable as e:
        log.error(
            "webhook not recorded: database API unreachable", extra={**context, "error": str(e)}
        )
        return error_response(
            502, "the database API is not reachable", hint="Deliver the event again later."
        )
    if response.status >= 500:
        log.error(
            "webhook not recorded: database API failed",
            extra={**context, "status": response.status, "body": response.text[:500]},
        )
        return error_response(
            502,
            f"the database API failed ({response.status})",
            hint="Deliver the event again later.",
        )
    if response.status >= 400:
        # The database refused the event itself (PostgREST's status and JSON, passed through).
        log.error(
            "webhook refused by the database",
            extra={**context, "status": response.status, "body": response.text[:500]},
        )
        return ApiError.passthrough(
            response.status, response.content, source="the database API"
        ).response()
    result = response.json()
    outcome = result.get("outcome") if isinstance(result, dict) else None
    log.info("webhook recorded", extra={**context, "outcome": outcome})
    return Response(response.content, 200, media_type="application/json")
