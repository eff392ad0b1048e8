"""POST /webhooks/stripe: events signed exactly as Stripe signs them are recorded once through
public.record_payment_event; anything unsigned, mis-signed, stale or malformed is a 400 and
writes nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
import stripe
from fastapi.testclient import TestClient

from mentorships.settings import Settings
from sync.app import create_app
from sync.settings import ServiceSettings
from sync.stripe.webhook import BODY_HINT, SIGNATURE_HINT
from testing.events import encode, sign_stripe, stripe_charge, stripe_checkout_session, stripe_event
from testing.fakes.http import StrictFake
from testing.services import (
    SERVICE_ROLE_KEY_AS_GIVEN,
    STRIPE_WEBHOOK_SECRET,
    Shop,
    changed,
    order_row,
    packs_of,
    place_order,
    with_fake_gateway,
)


def post(
    service: TestClient,
    body: bytes,
    *,
    secret: str = STRIPE_WEBHOOK_SECRET,
    timestamp: int | None = None,
    signature: str | None = "sign",
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["Stripe-Signature"] = sign_stripe(body, secret, timestamp)
    elif signature is not None:
        headers["Stripe-Signature"] = signature
    response: httpx.Response = service.post("/webhooks/stripe", content=body, headers=headers)
    return response


def completed(order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    session = stripe_checkout_session(
        order_id=order["id"],
        amount_total=overrides.pop("amount_total", order["amount_cents"]),
        currency=overrides.pop("currency", order["currency"]),
        payment_intent=overrides.pop("payment_intent", f"pi_{order['id'][:8]}"),
        session_id=order.get("provider_checkout_id") or None,
        **overrides,
    )
    return session


# --- signatures ----------------------------------------------------------------------------------


def test_our_signature_is_the_one_the_stripe_library_computes() -> None:
    body = encode(stripe_event("charge.refunded", {"id": "ch_1"}))
    header = sign_stripe(body, STRIPE_WEBHOOK_SECRET, 1_700_000_000)
    expected = stripe.WebhookSignature.generate_signature_header(
        body.decode(), STRIPE_WEBHOOK_SECRET, 1_700_000_000
    )
    assert header == expected


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no signature", "no such header"),
        ("signed with another secret", "no signature matches the payload"),
        ("signature of another body", "no signature matches the payload"),
        ("timestamp 301 s old", "its timestamp is more than 300 s old"),
        ("garbage header", "no t= timestamp and v1= signatures in it"),
        ("no v1 scheme", "no v1= signature in it"),
        ("not ASCII", "no signature matches the payload"),
    ],
)
def test_a_webhook_that_does_not_verify_is_refused_and_nothing_is_written(
    service: TestClient, inbox: Callable[[], int], case: str, reason: str
) -> None:
    body = encode(stripe_event("checkout.session.completed", {"id": "cs_test_x"}))
    before = inbox()
    if case == "no signature":
        response = post(service, body, signature=None)
    elif case == "signed with another secret":
        response = post(service, body, secret="whsec_someone_else")
    elif case == "signature of another body":
        other = encode(stripe_event("checkout.session.completed", {"id": "cs_test_y"}))
        response = post(service, body, signature=sign_stripe(other, STRIPE_WEBHOOK_SECRET))
    elif case == "timestamp 301 s old":
        response = post(service, body, timestamp=int(time.time()) - 301)
    elif case == "garbage header":
        response = post(service, body, signature="not a signature")
    elif case == "not ASCII":
        response = service.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": "t=1700000000,v1=caf\xe9".encode("latin-1")},
        )
    else:
        v0 = sign_stripe(body, STRIPE_WEBHOOK_SECRET).replace("v1=", "v0=")
        response = post(service, body, signature=v0)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "code": "SV400",
        "message": f"Stripe-Signature: {reason}",
        "details": "Stripe-Signature",
        "hint": SIGNATURE_HINT,
    }
    assert inbox() == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b'{"id": "evt_1", "type": "checkout.session.completed", ',
            "not a JSON event: Expecting property name enclosed in double quotes",
        ),
        (b"\xff\xfe not utf-8", "not UTF-8, so no signature matches it"),
        (b'["an", "array"]', "not a JSON event: the event is not a JSON object"),
        (b'{"object": "event", "data": {}}', "the event has no id or type"),
        (
            b'{"id": "evt_nan", "type": "x", "object": "event", "amount": NaN}',
            "not a JSON event: NaN is not valid JSON",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "not a JSON event: JSON nested too deeply to read"),
    ],
    ids=["truncated JSON", "not UTF-8", "not an object", "no id or type", "NaN", "too deep"],
)
def test_a_correctly_signed_body_that_is_not_an_event_is_refused(
    service: TestClient, inbox: Callable[[], int], body: bytes, reason: str
) -> None:
    before = inbox()
    headers = {
        "Stripe-Signature": sign_stripe(body, STRIPE_WEBHOOK_SECRET),
        "Content-Type": "application/json",
    }
    response = service.post("/webhooks/stripe", content=body, headers=headers)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert (answer["code"], answer["details"], answer["hint"]) == ("SV400", "body", BODY_HINT)
    assert answer["message"].startswith(f"body: {reason}"), answer
    assert inbox() == before


# --- one RPC call ------------------------------------------------------------------------------


@pytest.fixture
def fake_rest(
    service_settings: ServiceSettings, stripe_api: StrictFake, paypal_api: StrictFake
) -> Any:
    """The app with its database API replaced by a strict fake gateway, and keys of its own."""
    settings, gateway = with_fake_gateway(service_settings)
    with TestClient(create_app(settings)) as client:
        yield client, gateway, settings
    gateway.verify()
    gateway.close()


def test_a_verified_event_is_one_rpc_call_as_the_service_role_with_the_whole_event(
    fake_rest: Any,
) -> None:
    client, gateway, _ = fake_rest
    event = stripe_event(
        "checkout.session.completed",
        stripe_checkout_session(
            order_id="9b3c2f4e-0000-4000-8000-000000000001", amount_total=24000, currency="usd"
        ),
    )
    service_key = SERVICE_ROLE_KEY_AS_GIVEN  # sent as given, never minted
    gateway.expect(
        "POST",
        "/rest/v1/rpc/record_payment_event",
        headers={"apikey": service_key, "Authorization": f"Bearer {service_key}"},
        json={
            "provider": "stripe",
            "event_id": event["id"],
            "event_type": "checkout.session.completed",
            "payload": event,
        },
        response={"outcome": "fulfilled", "order_id": "9b3c2f4e-0000-4000-8000-000000000001"},
    )
    response = post(client, encode(event))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "outcome": "fulfilled",
        "order_id": "9b3c2f4e-0000-4000-8000-000000000001",
    }


@pytest.mark.parametrize("status", [500, 503])
def test_a_database_failure_is_a_502_so_stripe_delivers_again(fake_rest: Any, status: int) -> None:
    client, gateway, _ = fake_rest
    event = stripe_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    gateway.expect(
        "POST",
        "/rest/v1/rpc/record_payment_event",
        json={
            "provider": "stripe",
            "event_id": event["id"],
            "event_type": "charge.refunded",
            "payload": event,
        },
        status=status,
        response={"code": "XX000", "message": "boom"},
    )
    response = post(client, encode(event))
    assert response.status_code == 502, response.text
    assert response.json() == {
        "code": "SV502",
        "message": f"the database API failed ({status})",
        "details": None,
        "hint": "Deliver the event again later.",
    }


def recorded(event: dict[str, Any]) -> dict[str, Any]:
    """The one RPC call's body for a verified event."""
    return {
        "provider": "stripe",
        "event_id": event["id"],
        "event_type": event["type"],
        "payload": event,
    }


def test_a_refusal_of_the_database_reaches_stripe_as_it_came(fake_rest: Any) -> None:
    client, gateway, _ = fake_rest
    event = stripe_event("charge.refunded", {"id": "ch_3", "object": "charge"})
    refusal = {"code": "PT422", "message": "amount is wrong", "details": "payload", "hint": None}
    gateway.expect(
        "POST",
        "/rest/v1/rpc/record_payment_event",
        json=recorded(event),
        status=422,
        response=refusal,
    )
    response = post(client, encode(event))
    assert (response.status_code, response.json()) == (422, refusal)


def test_an_error_page_instead_of_postgrest_json_is_a_502(fake_rest: Any) -> None:
    """A 4xx that is not PostgREST's error shape (a proxy's page) is not passed on as is."""
    client, gateway, _ = fake_rest
    event = stripe_event("charge.refunded", {"id": "ch_4", "object": "charge"})
    gateway.expect(
        "POST",
        "/rest/v1/rpc/record_payment_event",
        json=recorded(event),
        status=413,
        response=b"<html>413 Request Entity Too Large</html>",
        content_type="text/html",
    )
    response = post(client, encode(event))
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "SV502"


def test_an_unreachable_database_api_is_a_502(
    service_settings: ServiceSettings, stripe_api: StrictFake, paypal_api: StrictFake
) -> None:
    gateway = StrictFake("gateway")
    port = int(gateway.url.rsplit(":", 1)[1])
    gateway.close()  # nothing listens there now
    settings = changed(service_settings, supabase_url=f"http://127.0.0.1:{port}")
    with TestClient(create_app(settings)) as client:
        response = post(client, encode(stripe_event("charge.refunded", {"id": "ch_2"})))
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "SV502"


# --- through the real database -----------------------------------------------------------------


def test_checkout_completed_fulfils_the_order_once(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
    inbox: Callable[[], int],
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    event = stripe_event("checkout.session.completed", completed(order))
    body = encode(event)
    before = inbox()

    first = post(service, body)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "fulfilled"
    assert first.json()["order_id"] == order["id"]
    assert order_row(conn, order["id"])["status"] == "paid"
    assert packs_of(conn, order["id"]) == [("active", 4)]

    again = post(service, body)  # Stripe delivers at least once
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "duplicate"
    assert packs_of(conn, order["id"]) == [("active", 4)]
    assert inbox() == before + 1


def test_a_delayed_payment_is_fulfilled_when_it_succeeds(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    pending = post(
        service,
        encode(
            stripe_event("checkout.session.completed", completed(order, payment_status="unpaid"))
        ),
    )
    assert pending.json()["outcome"] == "awaiting_payment", pending.text
    assert order_row(conn, order["id"])["status"] == "pending"

    paid = post(
        service,
        encode(stripe_event("checkout.session.async_payment_succeeded", completed(order))),
    )
    assert paid.json()["outcome"] == "fulfilled", paid.text
    assert packs_of(conn, order["id"]) == [("active", 4)]


@pytest.mark.parametrize(
    ("event_type", "status", "order_status"),
    [
        ("checkout.session.expired", "expired", "expired"),
        ("checkout.session.async_payment_failed", "complete", "canceled"),
    ],
)
def test_a_checkout_that_ends_unpaid_releases_the_order(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
    event_type: str,
    status: str,
    order_status: str,
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    session = completed(order, payment_status="unpaid", status=status, payment_intent=None)
    response = post(service, encode(stripe_event(event_type, session)))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "released"
    assert order_row(conn, order["id"])["status"] == order_status
    assert packs_of(conn, order["id"]) == []


def test_a_wrong_amount_flags_the_order_and_grants_nothing(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    event = stripe_event("checkout.session.completed", completed(order, amount_total=100))
    response = post(service, encode(event))
    assert response.json()["outcome"] == "flagged", response.text
    row = order_row(conn, order["id"])
    assert row["status"] == "flagged"
    assert row["flagged_reason"] == "paid 100 USD, expected 24000 USD"
    assert packs_of(conn, order["id"]) == []


def test_refunds_partial_then_full(
    service: TestClient,
    settings: Settings,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "stripe")
    intent = f"pi_{order['id'][:8]}"
    assert (
        post(service, encode(stripe_event("checkout.session.completed", completed(order)))).json()[
            "outcome"
        ]
        == "fulfilled"
    )

    def refunded(amount_refunded: int) -> dict[str, Any]:
        charge = stripe_charge(
            order_id=order["id"],
            amount=order["amount_cents"],
            amount_refunded=amount_refunded,
            currency=order["currency"],
            payment_intent=intent,
        )
        result: dict[str, Any] = post(
            service, encode(stripe_event("charge.refunded", charge))
        ).json()
        return result

    assert refunded(6000)["outcome"] == "partially_refunded"
    assert packs_of(conn, order["id"]) == [("active", 4)]
    assert refunded(24000)["outcome"] == "refunded"
    assert order_row(conn, order["id"])["status"] == "refunded"
    assert packs_of(conn, order["id"]) == [("refunded", 0)]


def test_an_event_type_we_do_not_handle_is_stored_and_ignored(
    service: TestClient, conn: psycopg.Connection
) -> None:
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    response = post(service, encode(event))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"
    row = conn.execute(
        "select event_type, payload from private.webhook_events"
        " where provider = 'stripe' and event_id = %s",
        (event["id"],),
    ).fetchone()
    assert row is not None
    assert row[0] == "customer.created"
    assert row[1] == json.loads(encode(event))
