"""Stripe's side of a checkout, as the strict fake expects it: the exact form the `stripe` library
must send for a shop's pending order, and Stripe's answer (an open Checkout Session)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from sync.settings import ServiceSettings
from testing.events import stripe_checkout_session
from testing.fakes.http import Request, StrictFake
from testing.services import STRIPE_SECRET_KEY, Shop


def session_form(
    conn: psycopg.Connection, shop: Shop, settings: ServiceSettings, order_id: str | None = None
) -> Callable[[], dict[str, str]]:
    """The exact form the library must send for the student's pending order (looked up when
    the request arrives: the order is created by the same checkout call)."""

    def form() -> dict[str, str]:
        row = conn.execute(
            "select id::text, amount_cents, currency, expires_at from public.orders"
            " where student_id = %s and product_id = %s and status = 'pending'",
            (shop.student, shop.product),
        ).fetchone()
        assert row is not None, "the order exists before Stripe is called"
        oid, amount, currency, expires_at = row
        assert order_id is None or oid == order_id
        return {
            "mode": "payment",
            "line_items[0][price_data][currency]": currency,
            "line_items[0][price_data][unit_amount]": str(amount),
            "line_items[0][price_data][product_data][name]": shop.title,
            "line_items[0][quantity]": "1",
            "expires_at": str(int(expires_at.timestamp())),
            "metadata[order_id]": oid,
            "payment_intent_data[metadata][order_id]": oid,
            "client_reference_id": oid,
            "success_url": settings.checkout_success_url.replace("{order_id}", oid),
            "cancel_url": settings.checkout_cancel_url.replace("{order_id}", oid),
        }

    return form


def open_session(session_id: str) -> Callable[[Request], dict[str, Any]]:
    """Stripe's answer: the new Checkout Session, for the order the request names."""

    def answer(request: Request) -> dict[str, Any]:
        form = request.form()
        return stripe_checkout_session(
            order_id=form["metadata[order_id]"],
            amount_total=int(form["line_items[0][price_data][unit_amount]"]),
            currency=form["line_items[0][price_data][currency]"],
            session_id=session_id,
            payment_status="unpaid",
            status="open",
            expires_at=int(form["expires_at"]),
        )

    return answer


def idempotency(conn: psycopg.Connection, shop: Shop) -> Callable[[], str]:
    def key() -> str:
        row = conn.execute(
            "select id::text from public.orders where student_id = %s and status = 'pending'",
            (shop.student,),
        ).fetchone()
        assert row is not None
        return f"order-{row[0]}"

    return key


def expect_create(
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    s: Shop,
    settings: ServiceSettings,
    session_id: str,
    **kw: Any,
) -> None:
    stripe_api.expect(
        "POST",
        "/v1/checkout/sessions",
        headers={
            "Authorization": f"Bearer {STRIPE_SECRET_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": idempotency(conn, s),
        },
        form=session_form(conn, s, settings),
        response=open_session(session_id),
        **kw,
    )
