"""What both providers' checkout and webhook endpoints share: the caller's token, the order
RPCs, return URLs, and recording a verified event."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from mentorships.settings import Provider, Settings
from sync.rest import ApiError, Rest, Unreachable

log = logging.getLogger(__name__)


class CheckoutRequest(BaseModel):
    product_id: uuid.UUID
    promo_code: str | None = None


class CaptureRequest(BaseModel):
    order_id: uuid.UUID


def bearer_token(request: Request) -> str:
    """The caller's JWT from `Authorization: Bearer <token>`; PostgREST verifies it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError.message(
            401, "sign in first: send your access token as `Authorization: Bearer <token>`"
        )
    return token.strip()


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
        raise ApiError.message(404, f"no product with id {product_id}")
    title: str = rows[0]["title"]
    return title


def return_urls(settings: Settings, order_id: str) -> tuple[str, str]:
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


def rejected(provider: Provider, reason: str, **context: Any) -> JSONResponse:
    """400: the webhook is not accepted and nothing is written."""
    log.warning("webhook rejected", extra={"provider": provider, "reason": reason, **context})
    return JSONResponse({"error": reason}, status_code=400)


def parse_event(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object (UTF-8; NaN and Infinity are not JSON)."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    event = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    if not isinstance(event, dict):
        raise ValueError("the event is not a JSON object")
    return event


async def record_event(
    rest: Rest, provider: Provider, event_id: str, event_type: str, event: dict[str, Any]
) -> Response:
    """One call: public.record_payment_event as the service role. 200 with its result; a
    failure of the database API is a 500, so the provider delivers the event again."""
    body = json.dumps(
        {"provider": provider, "event_id": event_id, "event_type": event_type, "payload": event}
    ).encode()
    context = {"provider": provider, "event_id": event_id, "event_type": event_type}
    try:
        response = await rest.rpc_raw("record_payment_event", body)
    except Unreachable as e:
        log.error(
            "webhook not recorded: database API unreachable", extra={**context, "error": str(e)}
        )
        return JSONResponse({"error": "the database API is not reachable"}, status_code=500)
    if response.status >= 500:
        log.error(
            "webhook not recorded: database API failed",
            extra={**context, "status": response.status, "body": response.text[:500]},
        )
        return JSONResponse({"error": "the database API failed"}, status_code=500)
    if response.status >= 400:
        # The database refused the event itself (PostgREST's status and JSON, passed through).
        log.error(
            "webhook refused by the database",
            extra={**context, "status": response.status, "body": response.text[:500]},
        )
        return Response(response.content, response.status, media_type="application/json")
    result = response.json()
    outcome = result.get("outcome") if isinstance(result, dict) else None
    log.info("webhook recorded", extra={**context, "outcome": outcome})
    return Response(response.content, 200, media_type="application/json")
