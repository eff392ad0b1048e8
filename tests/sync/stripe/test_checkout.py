"""POST /checkout/stripe: create_order as the student, then one Checkout Session per order through
the real `stripe` library (against a strict fake of Stripe's API), recorded on the order."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from mentorships import jwt
from mentorships.settings import Settings
from sync.settings import ServiceSettings
from testing.events import stripe_checkout_session
from testing.fakes.http import StrictFake
from testing.fakes.stripe import expect_create, session_form
from testing.services import STRIPE_SECRET_KEY, Shop, order_row, place_order


def test_checkout_creates_a_session_that_expires_with_the_hold(
    service: TestClient,
    service_settings: ServiceSettings,
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop(price_cents=24000, currency="eur")
    expect_create(stripe_api, conn, s, service_settings, "cs_test_first")

    response = service.post("/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth)

    assert response.status_code == 200, response.text
    answer = response.json()
    row = order_row(conn, answer["order_id"])
    assert answer == {
        "order_id": row["id"],
        "provider": "stripe",
        "checkout_id": "cs_test_first",
        "url": "https://checkout.stripe.com/c/pay/cs_test_first",
        "expires_at": answer["expires_at"],
        "amount_cents": 24000,
        "currency": "eur",
    }
    assert dt.datetime.fromisoformat(answer["expires_at"]) == row["expires_at"]
    # Stripe refuses sessions expiring less than 30 minutes after creation.
    assert row["expires_at"] - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=31)
    assert row["status"] == "pending"
    assert row["provider_checkout_id"] == "cs_test_first"


def test_a_second_checkout_returns_the_same_session(
    service: TestClient,
    service_settings: ServiceSettings,
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    expect_create(stripe_api, conn, s, service_settings, "cs_test_again")
    first = service.post("/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth)
    assert first.status_code == 200, first.text
    order_id = first.json()["order_id"]
    stripe_api.expect(
        "GET",
        "/v1/checkout/sessions/cs_test_again",
        headers={"Authorization": f"Bearer {STRIPE_SECRET_KEY}"},
        response=stripe_checkout_session(
            order_id=order_id,
            amount_total=24000,
            currency="usd",
            session_id="cs_test_again",
            payment_status="unpaid",
            status="open",
        ),
    )

    second = service.post("/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth)

    assert second.status_code == 200, second.text
    assert second.json() == first.json()


def test_a_session_no_longer_open_is_a_409(
    service: TestClient,
    settings: Settings,
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    conn.execute(
        "update public.orders set provider_checkout_id = 'cs_test_done' where id = %s",
        (order["id"],),
    )
    stripe_api.expect(
        "GET",
        "/v1/checkout/sessions/cs_test_done",
        response=stripe_checkout_session(
            order_id=order["id"],
            amount_total=24000,
            currency="usd",
            session_id="cs_test_done",
            status="complete",
        ),
    )
    response = service.post("/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth)
    assert response.status_code == 409, response.text
    assert response.json() == {
        "code": "SV409",
        "message": f"the checkout for order {order['id']} is complete, not open",
        "details": f"order {order['id']}",
        "hint": None,
    }


def test_concurrent_checkouts_for_one_order_end_with_one_session(
    service: TestClient,
    service_settings: ServiceSettings,
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    # Whoever comes second either retrieves the recorded session or creates with the same
    # idempotency key (Stripe then answers with the same session).
    expect_create(stripe_api, conn, s, service_settings, "cs_test_race", at_most=4)
    stripe_api.expect(
        "GET",
        "/v1/checkout/sessions/cs_test_race",
        at_least=0,
        at_most=4,
        response=lambda request: stripe_checkout_session(
            order_id=order_row_for(conn, s)["id"],
            amount_total=24000,
            currency="usd",
            session_id="cs_test_race",
            payment_status="unpaid",
            status="open",
        ),
    )
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        responses = list(
            pool.map(
                lambda _: service.post(
                    "/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth
                ),
                range(4),
            )
        )
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    assert {r.json()["checkout_id"] for r in responses} == {"cs_test_race"}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert order_row_for(conn, s)["provider_checkout_id"] == "cs_test_race"


def order_row_for(conn: psycopg.Connection, s: Shop) -> dict[str, Any]:
    row = conn.execute(
        "select id::text from public.orders where student_id = %s and product_id = %s",
        (s.student, s.product),
    ).fetchone()
    assert row is not None
    return order_row(conn, row[0])


# --- refusals: passed through, Stripe never called -------------------------------------------------


def test_without_a_token_it_is_a_401(
    service: TestClient, stripe_api: StrictFake, shop: Callable[..., Shop]
) -> None:
    s = shop()
    response = service.post("/checkout/stripe", json={"product_id": str(s.product)})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "SV401"
    assert response.json()["details"] == "Authorization"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert stripe_api.requests == []


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown product", 404, "no product with id"),
        ("product no longer sold", 409, "this product is no longer sold"),
        ("unknown promotion code", 422, 'promotion code "NOPE" is unknown'),
        ("a mentor buying", 403, "only students can buy session packs"),
    ],
)
def test_create_order_refusals_reach_the_caller_unchanged(
    service: TestClient,
    settings: Settings,
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
    case: str,
    status: int,
    message: str,
) -> None:
    s = shop()
    body: dict[str, Any] = {"product_id": str(s.product)}
    headers = s.auth
    if case == "unknown product":
        body["product_id"] = "00000000-0000-4000-8000-00000000dead"
    elif case == "product no longer sold":
        conn.execute(
            "update public.mentorship_products set is_active = false where id = %s", (s.product,)
        )
    elif case == "unknown promotion code":
        body["promo_code"] = "nope"
    else:
        headers = {"Authorization": f"Bearer {jwt.user_token(settings, s.mentor, None)}"}
    # What PostgREST itself answers to the same call.
    direct = httpx.post(
        f"{settings.rest_url}/rpc/create_order",
        json={**body, "provider": "stripe", "promo_code": body.get("promo_code")},
        headers={"apikey": jwt.anon_key(settings), **headers},
        timeout=30,
    )

    response = service.post("/checkout/stripe", json=body, headers=headers)

    assert response.status_code == status, response.text
    assert response.json()["message"].startswith(message), response.text
    assert (response.status_code, response.json()) == (direct.status_code, direct.json())
    assert stripe_api.requests == []


def test_an_expired_token_is_refused_by_the_database_api(
    service: TestClient, settings: Settings, stripe_api: StrictFake, shop: Callable[..., Shop]
) -> None:
    s = shop()
    stale = jwt.user_token(settings, s.student, None, ttl_seconds=60, now=1_700_000_000)
    response = service.post(
        "/checkout/stripe",
        json={"product_id": str(s.product)},
        headers={"Authorization": f"Bearer {stale}"},
    )
    assert response.status_code == 401, response.text
    assert "expired" in response.json()["message"].lower()
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert stripe_api.requests == []


def test_when_stripe_refuses_the_order_stays_without_a_checkout(
    service: TestClient,
    settings: Settings,
    service_settings: ServiceSettings,
    stripe_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    stripe_api.expect(
        "POST",
        "/v1/checkout/sessions",
        form=session_form(conn, s, service_settings, order["id"]),
        status=400,
        response={
            "error": {
                "type": "invalid_request_error",
                "code": "parameter_invalid_integer",
                "message": "The `expires_at` timestamp must be at least 30 minutes from now.",
                "param": "expires_at",
            }
        },
    )
    response = service.post("/checkout/stripe", json={"product_id": str(s.product)}, headers=s.auth)
    assert response.status_code == 502, response.text
    assert response.json() == {
        "code": "SV502",
        "message": (
            "Stripe refused the checkout: "
            "The `expires_at` timestamp must be at least 30 minutes from now."
        ),
        "details": "Stripe error code parameter_invalid_integer",
        "hint": None,
    }
    assert order_row(conn, order["id"])["provider_checkout_id"] is None
