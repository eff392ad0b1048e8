"""POST /checkout/paypal and /checkout/paypal/capture: Orders v2 over HTTP against a strict fake
of PayPal's API (OAuth token cached, PayPal-Request-Id on every write, amounts as decimal
strings), the refusals of the database passed through unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from mentorships import jwt
from mentorships.settings import Settings
from sync import money
from sync.settings import ServiceSettings
from testing.fakes import paypal as fake
from testing.fakes.http import StrictFake
from testing.services import (
    PAYPAL_CLIENT_ID,
    PAYPAL_CLIENT_SECRET,
    Shop,
    order_row,
    place_order,
)


def pending_order(conn: psycopg.Connection, s: Shop) -> dict[str, Any]:
    row = conn.execute(
        "select id::text from public.orders where student_id = %s and product_id = %s"
        " and status = 'pending'",
        (s.student, s.product),
    ).fetchone()
    assert row is not None, "the order exists before PayPal is called"
    return order_row(conn, row[0])


def expect_token(paypal_api: StrictFake, access_token: str = "A21AAtoken1") -> None:
    paypal_api.expect(
        "POST",
        "/v1/oauth2/token",
        headers={"Authorization": fake.basic_auth(PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET)},
        form={"grant_type": "client_credentials"},
        response=fake.token(access_token),
    )


def expect_create(
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    s: Shop,
    settings: ServiceSettings,
    paypal_order_id: str,
    *,
    value: str,
    currency_code: str,
    access_token: str = "A21AAtoken1",
    status: int = 200,
    response: Any = None,
) -> None:
    def body() -> dict[str, Any]:
        oid = pending_order(conn, s)["id"]
        return {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "custom_id": oid,
                    "invoice_id": oid,
                    "description": s.title,
                    "amount": {"currency_code": currency_code, "value": value},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": settings.checkout_success_url.replace("{order_id}", oid),
                        "cancel_url": settings.checkout_cancel_url.replace("{order_id}", oid),
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }

    paypal_api.expect(
        "POST",
        "/v2/checkout/orders",
        headers={
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
            "PayPal-Request-Id": lambda: f"order-{pending_order(conn, s)['id']}",
        },
        json=body,
        status=status,
        response=response or fake.created_order(paypal_order_id, paypal_api.url),
    )


@pytest.mark.parametrize(
    ("price_cents", "currency", "value", "currency_code"),
    [
        (24000, "usd", "240.00", "USD"),
        (1999, "eur", "19.99", "EUR"),
        (15000, "jpy", "15000", "JPY"),
    ],
)
def test_checkout_creates_a_paypal_order_with_the_exact_amount(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
    price_cents: int,
    currency: str,
    value: str,
    currency_code: str,
) -> None:
    s = shop(price_cents=price_cents, currency=currency)
    pid = fake.order_id()
    expect_token(paypal_api)
    expect_create(
        paypal_api,
        conn,
        s,
        service_settings,
        pid,
        value=value,
        currency_code=currency_code,
    )

    response = service.post("/checkout/paypal", json={"product_id": str(s.product)}, headers=s.auth)

    assert response.status_code == 200, response.text
    row = order_row(conn, response.json()["order_id"])
    assert response.json() == {
        "order_id": row["id"],
        "provider": "paypal",
        "checkout_id": pid,
        "url": f"https://www.sandbox.paypal.com/checkoutnow?token={pid}",
        "expires_at": response.json()["expires_at"],
        "amount_cents": price_cents,
        "currency": currency,
    }
    assert dt.datetime.fromisoformat(response.json()["expires_at"]) == row["expires_at"]
    assert row["provider"] == "paypal"
    assert row["provider_checkout_id"] == pid


def test_the_token_is_reused_and_a_second_checkout_shows_the_same_order(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s, other = shop(), shop()
    expect_token(paypal_api)  # once for everything below
    expect_create(
        paypal_api,
        conn,
        s,
        service_settings,
        "8AB12345CD678901E",
        value="240.00",
        currency_code="USD",
    )
    expect_create(
        paypal_api,
        conn,
        other,
        service_settings,
        "9XY12345CD678901E",
        value="240.00",
        currency_code="USD",
    )
    first = service.post("/checkout/paypal", json={"product_id": str(s.product)}, headers=s.auth)
    assert first.status_code == 200, first.text
    paypal_api.expect(
        "GET",
        "/v2/checkout/orders/8AB12345CD678901E",
        headers={"Authorization": "Bearer A21AAtoken1"},
        response=fake.created_order("8AB12345CD678901E", paypal_api.url),
    )

    again = service.post("/checkout/paypal", json={"product_id": str(s.product)}, headers=s.auth)
    theirs = service.post(
        "/checkout/paypal", json={"product_id": str(other.product)}, headers=other.auth
    )

    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["checkout_id"] == "9XY12345CD678901E"


def test_a_token_paypal_no_longer_takes_is_renewed_once(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    expect_token(paypal_api, "A21AAold")
    expect_create(
        paypal_api,
        conn,
        s,
        service_settings,
        "unused",
        value="240.00",
        currency_code="USD",
        access_token="A21AAold",
        status=401,
        response={
            "error": "invalid_token",
            "error_description": "Token signature verification failed",
        },
    )
    expect_token(paypal_api, "A21AAnew")
    expect_create(
        paypal_api,
        conn,
        s,
        service_settings,
        "7NEW2345CD678901E",
        value="240.00",
        currency_code="USD",
        access_token="A21AAnew",
    )
    response = service.post("/checkout/paypal", json={"product_id": str(s.product)}, headers=s.auth)
    assert response.status_code == 200, response.text
    assert response.json()["checkout_id"] == "7NEW2345CD678901E"


def test_when_paypal_refuses_the_order_stays_without_a_checkout(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    expect_token(paypal_api)
    expect_create(
        paypal_api,
        conn,
        s,
        service_settings,
        "unused",
        value="240.00",
        currency_code="USD",
        status=422,
        response=fake.error(
            "UNPROCESSABLE_ENTITY", "CURRENCY_NOT_SUPPORTED", "Currency code is not supported."
        ),
    )
    response = service.post("/checkout/paypal", json={"product_id": str(s.product)}, headers=s.auth)
    assert response.status_code == 409, response.text
    assert response.json() == {
        "code": "SV409",
        "message": "PayPal refused to start the checkout: Currency code is not supported.",
        "details": "PayPal issue CURRENCY_NOT_SUPPORTED, debug id f00dbabe1234",
        "hint": None,
    }
    assert pending_order(conn, s)["provider_checkout_id"] is None


def test_create_order_refusals_reach_the_caller_unchanged(
    service: TestClient, paypal_api: StrictFake, shop: Callable[..., Shop]
) -> None:
    s = shop()
    response = service.post(
        "/checkout/paypal",
        json={"product_id": str(s.product), "promo_code": "NOPE"},
        headers=s.auth,
    )
    assert response.status_code == 422, response.text
    assert response.json()["message"] == 'promotion code "NOPE" is unknown'
    assert set(response.json()) >= {"code", "message", "details", "hint"}
    assert paypal_api.requests == []


# --- capture -------------------------------------------------------------------------------------


def checkout(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    s: Shop,
    paypal_order_id: str,
) -> str:
    expect_token(paypal_api)
    expect_create(
        paypal_api, conn, s, service_settings, paypal_order_id, value="240.00", currency_code="USD"
    )
    response = service.post("/checkout/paypal", json={"product_id": str(s.product)}, headers=s.auth)
    assert response.status_code == 200, response.text
    order_id: str = response.json()["order_id"]
    return order_id


def test_capture_captures_the_approved_order_once_per_order(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order_id = checkout(service, service_settings, paypal_api, conn, s, "3C679366HH908993F")
    paypal_api.expect(
        "POST",
        "/v2/checkout/orders/3C679366HH908993F/capture",
        headers={
            "Authorization": "Bearer A21AAtoken1",
            "Content-Type": "application/json",
            "PayPal-Request-Id": f"capture-{order_id}",
            "Prefer": "return=representation",
        },
        response=fake.captured_order(
            order_id=order_id,
            paypal_order_id="3C679366HH908993F",
            capture_id="2GG279541U471931P",
            amount_cents=24000,
            currency="usd",
            api_base=paypal_api.url,
        ),
    )

    response = service.post("/checkout/paypal/capture", json={"order_id": order_id}, headers=s.auth)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "order_id": order_id,
        "status": "COMPLETED",
        "capture_id": "2GG279541U471931P",
    }
    # Fulfilment waits for the webhook.
    assert order_row(conn, order_id)["status"] == "pending"


def test_capture_refused_by_paypal_is_a_409_naming_the_issue(
    service: TestClient,
    service_settings: ServiceSettings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order_id = checkout(service, service_settings, paypal_api, conn, s, "4D679366HH908993F")
    paypal_api.expect(
        "POST",
        "/v2/checkout/orders/4D679366HH908993F/capture",
        status=422,
        response=fake.error(
            "UNPROCESSABLE_ENTITY",
            "ORDER_NOT_APPROVED",
            "Payer has not yet approved the Order for payment.",
        ),
    )
    response = service.post("/checkout/paypal/capture", json={"order_id": order_id}, headers=s.auth)
    assert response.status_code == 409, response.text
    assert response.json() == {
        "code": "SV409",
        "message": (
            "PayPal refused to capture the payment: "
            "Payer has not yet approved the Order for payment."
        ),
        "details": "PayPal issue ORDER_NOT_APPROVED, debug id f00dbabe1234",
        "hint": None,
    }


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("someone else's order", 403, "this order is not yours"),
        ("unknown order", 404, "no order with id"),
        ("a stripe order", 409, "order "),
        ("the hold ran out", 409, "the seat hold for order"),
    ],
)
def test_capture_refusals_reach_the_caller_and_paypal_is_not_called(
    service: TestClient,
    settings: Settings,
    paypal_api: StrictFake,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
    case: str,
    status: int,
    message: str,
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe" if case == "a stripe order" else "paypal")
    conn.execute(
        "update public.orders set provider_checkout_id = %s where id = %s",
        (f"PP{order['id'][:8].upper()}", order["id"]),
    )
    headers = s.auth
    order_id = order["id"]
    if case == "someone else's order":
        stranger = shop()
        headers = stranger.auth
    elif case == "unknown order":
        order_id = "00000000-0000-4000-8000-00000000beef"
    elif case == "the hold ran out":
        conn.execute(
            "update public.orders set expires_at = now() - interval '1 second' where id = %s",
            (order_id,),
        )
    response = service.post(
        "/checkout/paypal/capture", json={"order_id": order_id}, headers=headers
    )
    assert response.status_code == status, response.text
    assert response.json()["message"].startswith(message), response.text
    assert paypal_api.requests == []


def test_capture_without_a_token_is_a_401(service: TestClient, paypal_api: StrictFake) -> None:
    response = service.post(
        "/checkout/paypal/capture", json={"order_id": "00000000-0000-4000-8000-000000000001"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "SV401"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert paypal_api.requests == []


def test_a_mentor_cannot_check_out(
    service: TestClient, settings: Settings, paypal_api: StrictFake, shop: Callable[..., Shop]
) -> None:
    s = shop()
    token = jwt.user_token(settings, s.mentor, None)
    response = service.post(
        "/checkout/paypal",
        json={"product_id": str(s.product)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403, response.text
    assert paypal_api.requests == []


# --- amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "currency", "value"),
    [
        (0, "usd", "0.00"),
        (5, "usd", "0.05"),
        (1999, "eur", "19.99"),
        (100000000, "usd", "1000000.00"),
        (1500, "jpy", "1500"),
        (150000, "HUF", "1500"),  # PayPal writes forints and Taiwan dollars without cents
        (99000, "twd", "990"),
    ],
)
def test_amounts_are_decimal_strings_both_ways(cents: int, currency: str, value: str) -> None:
    assert money.to_decimal_string(cents, currency) == value
    assert money.from_decimal_string(value, currency) == cents


@pytest.mark.parametrize(
    ("value", "currency"),
    [("1.5", "jpy"), ("1.005", "usd"), ("-1.00", "usd"), ("1e3", "usd"), ("", "usd")],
)
def test_amounts_the_currency_cannot_have_are_refused(value: str, currency: str) -> None:
    with pytest.raises(ValueError):
        money.from_decimal_string(value, currency)


def test_forint_cents_cannot_go_to_paypal() -> None:
    with pytest.raises(ValueError, match="whole units only"):
        money.to_decimal_string(150050, "huf")
