"""The whole purchase over real sockets: the student checks out through the services app
(served by uvicorn on a port of its own, Stripe's API a strict local fake), Stripe's signed
webhook arrives, and the student books a session with the new pack through the gateway."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
import psycopg

from mentorships import jwt
from mentorships.settings import Settings
from sync.settings import ServiceSettings
from testing.events import encode, sign_stripe, stripe_checkout_session, stripe_event
from testing.fakes.http import StrictFake
from testing.fakes.stripe import expect_create
from testing.services import STRIPE_WEBHOOK_SECRET, Shop, order_row, packs_of


def test_checkout_then_signed_webhook_then_booking(
    served: str,
    shop: Callable[..., Shop],
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    service_settings: ServiceSettings,
    settings: Settings,
) -> None:
    s = shop()
    expect_create(stripe_api, conn, s, service_settings, "cs_test_e2e_purchase")
    with httpx.Client(base_url=served, timeout=30) as client:
        checkout = client.post(
            "/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth
        )
        assert checkout.status_code == 200, checkout.text
        order_id = checkout.json()["order_id"]
        assert checkout.json()["checkout_id"] == "cs_test_e2e_purchase"
        assert order_row(conn, order_id)["provider_checkout_id"] == "cs_test_e2e_purchase"

        # The buyer pays on Stripe's page; Stripe posts the signed event.
        session = stripe_checkout_session(
            order_id=order_id,
            amount_total=s.price_cents,
            currency=s.currency,
            session_id="cs_test_e2e_purchase",
            payment_intent="pi_e2e_purchase",
        )
        body = encode(stripe_event("checkout.session.completed", session))
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign_stripe(body, STRIPE_WEBHOOK_SECRET),
        }
        hook = client.post("/webhooks/stripe", content=body, headers=headers)
        assert hook.status_code == 200, hook.text
        assert hook.json()["outcome"] == "fulfilled"
        # Stripe delivers again: nothing more
        again = client.post("/webhooks/stripe", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert order_row(conn, order_id)["status"] == "paid"
    assert packs_of(conn, order_id) == [("active", 4)]

    # The student books with the new pack through the gateway, as any client would.
    rest = {"apikey": jwt.anon_key(settings), **s.auth}
    pack = httpx.get(
        f"{settings.rest_url}/session_packs",
        params={"order_id": f"eq.{order_id}", "select": "id"},
        headers=rest,
        timeout=30,
    ).json()[0]["id"]
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    slots = httpx.post(
        f"{settings.rest_url}/rpc/mentor_availability",
        json={
            "mentor_id": str(s.mentor),
            "from_at": start.isoformat(),
            "to_at": (start + dt.timedelta(days=7)).isoformat(),
        },
        headers=rest,
        timeout=30,
    ).json()
    assert slots, "the mentor has free slots next week"
    booked = httpx.post(
        f"{settings.rest_url}/rpc/book_session",
        json={"pack_id": pack, "starts_at": slots[0]["starts_at"]},
        headers=rest,
        timeout=30,
    )
    assert booked.status_code == 200, booked.text
    assert packs_of(conn, order_id) == [("active", 3)]
