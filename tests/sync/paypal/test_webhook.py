"""POST /webhooks/paypal: events signed as PayPal signs them (SHA256withRSA over
"<transmission id>|<time>|<webhook id>|<crc32>", certificate from the PayPal API host) are
recorded once; anything else is a 400 and writes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from mentorships.settings import Settings
from mentorships.stack import PayPalSigner
from sync.app import create_app
from sync.paypal.webhook import SIGNATURE_HINT, Rejected, check_cert_url
from sync.settings import ServiceSettings
from testing.events import (
    encode,
    paypal_capture,
    paypal_checkout_order,
    paypal_event,
    paypal_refund,
    paypal_transmission_time,
)
from testing.fakes import paypal as fake
from testing.fakes.http import StrictFake
from testing.services import (
    PAYPAL_WEBHOOK_ID,
    SERVICE_ROLE_KEY_AS_GIVEN,
    Shop,
    order_row,
    packs_of,
    place_order,
    with_fake_gateway,
)


def post(
    service: TestClient,
    paypal_api: StrictFake,
    signer: PayPalSigner,
    body: bytes,
    *,
    webhook_id: str = PAYPAL_WEBHOOK_ID,
    cert_url: str | None = None,
    change: Callable[[dict[str, str]], None] | None = None,
    **kw: Any,
) -> httpx.Response:
    headers = signer.headers(
        body,
        webhook_id=webhook_id,
        cert_url=cert_url or f"{paypal_api.url}{fake.CERT_PATH}",
        **kw,
    )
    if change:
        change(headers)
    response: httpx.Response = service.post("/webhooks/paypal", content=body, headers=headers)
    return response


def capture_completed(order: dict[str, Any], paypal_api: StrictFake, **kw: Any) -> dict[str, Any]:
    return paypal_event(
        "PAYMENT.CAPTURE.COMPLETED",
        paypal_capture(
            order_id=order["id"],
            paypal_order_id=order.get("provider_checkout_id") or fake.order_id(),
            amount_cents=kw.pop("amount_cents", order["amount_cents"]),
            currency=kw.pop("currency", order["currency"]),
            api_base=paypal_api.url,
            **kw,
        ),
        resource_type="capture",
        summary="Payment completed for $ 240.0 USD",
        api_base=paypal_api.url,
    )


def some_event(paypal_api: StrictFake) -> bytes:
    order = {"id": "6f1c0dd3-0000-4000-8000-000000000001", "amount_cents": 24000, "currency": "usd"}
    return encode(capture_completed(order, paypal_api))


# --- refusals ------------------------------------------------------------------------------------


def drop(name: str) -> Callable[[dict[str, str]], None]:
    def change(headers: dict[str, str]) -> None:
        del headers[name]

    return change


def set_(name: str, value: str) -> Callable[[dict[str, str]], None]:
    def change(headers: dict[str, str]) -> None:
        headers[name] = value

    return change


NO_MATCH = "PAYPAL-TRANSMISSION-SIG: no signature matches the payload"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no transmission id", "PAYPAL-TRANSMISSION-ID: no such header"),
        ("no transmission time", "PAYPAL-TRANSMISSION-TIME: no such header"),
        ("no signature", "PAYPAL-TRANSMISSION-SIG: no such header"),
        ("no cert url", "PAYPAL-CERT-URL: no such header"),
        ("no auth algo", "PAYPAL-AUTH-ALGO: no such header"),
        ("another algorithm", 'PAYPAL-AUTH-ALGO: "SHA1withRSA" is not SHA256withRSA'),
        ("signature not base64", "PAYPAL-TRANSMISSION-SIG: not base64"),
        ("another transmission id", NO_MATCH),
        ("signed for another webhook id", NO_MATCH),
        ("time 310 s ago", "PAYPAL-TRANSMISSION-TIME: * is more than 300 s from now"),
        ("time 310 s ahead", "PAYPAL-TRANSMISSION-TIME: * is more than 300 s from now"),
        ("time not ISO 8601", "PAYPAL-TRANSMISSION-TIME: not an ISO 8601 time"),
        ("time without zone", "PAYPAL-TRANSMISSION-TIME: no time zone"),
        ("signed by another key", NO_MATCH),
        ("body changed after signing", NO_MATCH),
    ],
)
def test_a_webhook_that_does_not_verify_is_refused_and_nothing_is_written(
    service: TestClient,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    inbox: Callable[[], int],
    case: str,
    message: str,
) -> None:
    body = some_event(paypal_api)
    now = dt.datetime.now(dt.UTC)
    signer, kw = paypal_signer, {}
    change: Callable[[dict[str, str]], None] | None = None
    if case.startswith("no "):
        change = drop(
            {
                "no transmission id": "PAYPAL-TRANSMISSION-ID",
                "no transmission time": "PAYPAL-TRANSMISSION-TIME",
                "no signature": "PAYPAL-TRANSMISSION-SIG",
                "no cert url": "PAYPAL-CERT-URL",
                "no auth algo": "PAYPAL-AUTH-ALGO",
            }[case]
        )
    elif case == "another algorithm":
        kw = {"auth_algo": "SHA1withRSA"}
    elif case == "signature not base64":
        change = set_("PAYPAL-TRANSMISSION-SIG", "not*base64!")
    elif case == "another transmission id":
        change = set_("PAYPAL-TRANSMISSION-ID", "0f0f0f0f-0000-4000-8000-000000000000")
    elif case == "signed for another webhook id":
        kw = {"webhook_id": "9SOMEONE8ELSE7"}
    elif case.startswith("time 310 s"):
        # The header has whole seconds (the fraction is dropped) and the app reads its clock a
        # little later: 301 s ahead could arrive 299.x s ahead. 10 s clear of 300 either way.
        ahead = dt.timedelta(seconds=310 if case.endswith("ahead") else -310)
        kw = {"transmission_time": paypal_transmission_time(now + ahead)}
    elif case == "time not ISO 8601":
        kw = {"transmission_time": now.strftime("%a, %d %b %Y %H:%M:%S GMT")}
    elif case == "time without zone":
        kw = {"transmission_time": now.strftime("%Y-%m-%dT%H:%M:%S")}
    elif case == "signed by another key":
        signer = PayPalSigner.generate()  # its certificate is not the one PayPal's host serves
    else:
        signed = body
        body = body.replace(b"240.00", b"2.40")
        assert body != signed
        change = set_(
            "PAYPAL-TRANSMISSION-SIG",
            paypal_signer.headers(
                signed,
                webhook_id=PAYPAL_WEBHOOK_ID,
                cert_url=f"{paypal_api.url}{fake.CERT_PATH}",
                transmission_id="fixed",
                transmission_time=paypal_transmission_time(now),
            )["PAYPAL-TRANSMISSION-SIG"],
        )
        kw = {"transmission_id": "fixed", "transmission_time": paypal_transmission_time(now)}
    before = inbox()

    response = post(service, paypal_api, signer, body, change=change, **kw)

    assert response.status_code == 400, response.text
    answer = response.json()
    header = message.split(":", 1)[0]
    assert (answer["code"], answer["details"], answer["hint"]) == ("SV400", header, SIGNATURE_HINT)
    assert fnmatch.fnmatchcase(answer["message"], message), answer["message"]
    assert inbox() == before


@pytest.mark.parametrize("seconds", [-290, 290], ids=["290 s ago", "290 s ahead"])
def test_a_transmission_time_within_300_s_either_way_is_accepted(
    service: TestClient, paypal_api: StrictFake, paypal_signer: PayPalSigner, seconds: int
) -> None:
    """The other side of the 310 s refusals, as clear of 300 s (whole-second header)."""
    event = paypal_event(
        "CHECKOUT.ORDER.APPROVED",
        paypal_checkout_order(
            order_id="6f1c0dd3-0000-4000-8000-000000000004",
            paypal_order_id=fake.order_id(),
            amount_cents=24000,
            currency="usd",
        ),
        resource_type="checkout-order",
        summary="An order has been approved by buyer",
    )
    sent = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    response = post(
        service,
        paypal_api,
        paypal_signer,
        encode(event),
        transmission_time=paypal_transmission_time(sent),
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://attacker.example/v1/notifications/certs/CERT-test",
        "http://localhost:{port}/v1/notifications/certs/CERT-test",
        "http://127.0.0.1:1/v1/notifications/certs/CERT-test",
        "http://user@127.0.0.1:{port}/v1/notifications/certs/CERT-test",
        "ftp://127.0.0.1:{port}/v1/notifications/certs/CERT-test",
        "/v1/notifications/certs/CERT-test",
        "http://127.0.0.1:{port}/v1/oauth2/token",
    ],
)
def test_a_certificate_url_off_the_paypal_api_host_is_never_fetched(
    service: TestClient,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    inbox: Callable[[], int],
    cert_url: str,
) -> None:
    port = paypal_api.url.rsplit(":", 1)[1]
    before = inbox()
    response = post(
        service,
        paypal_api,
        paypal_signer,
        some_event(paypal_api),
        cert_url=cert_url.format(port=port),
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "SV400"
    assert response.json()["details"] == "PAYPAL-CERT-URL"
    assert inbox() == before
    assert paypal_api.requests == []


def test_https_only_when_the_api_base_is_https() -> None:
    base = "https://api-m.paypal.com"
    with pytest.raises(Rejected, match="must be https"):
        check_cert_url("http://api-m.paypal.com/v1/notifications/certs/CERT-1", base)
    with pytest.raises(Rejected, match="not the PayPal API host"):
        check_cert_url("https://api-m.paypal.com.evil.example/v1/notifications/certs/X", base)
    with pytest.raises(Rejected, match="not the PayPal API host"):
        check_cert_url("https://api-m.paypal.com:8443/v1/notifications/certs/X", base)
    with pytest.raises(Rejected, match="not under /v1/notifications/certs/"):
        check_cert_url("https://api-m.paypal.com/v1/oauth2/token", base)
    with pytest.raises(Rejected, match="not under /v1/notifications/certs/"):
        check_cert_url("https://api-m.paypal.com/v1/notifications/certs/../../v2/x", base)
    check_cert_url("https://api-m.paypal.com/v1/notifications/certs/CERT-1", base)
    check_cert_url("https://API-M.paypal.com/v1/notifications/certs/CERT-1", base)


def test_paypal_names_the_older_host_of_the_same_environment_in_its_cert_urls() -> None:
    # As real deliveries do: the REST base is api-m.*, the certificate is on api.*.
    sandbox, live = "https://api-m.sandbox.paypal.com", "https://api-m.paypal.com"
    real = "/v1/notifications/certs/CERT-360caa42-fca2a594-90621ecd"
    check_cert_url(f"https://api.sandbox.paypal.com{real}", sandbox)
    check_cert_url(f"https://api.paypal.com{real}", live)
    with pytest.raises(Rejected, match="not the PayPal API host"):
        check_cert_url(f"https://api.paypal.com{real}", sandbox)
    with pytest.raises(Rejected, match="not the PayPal API host"):
        check_cert_url(f"https://api.sandbox.paypal.com{real}", live)


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", ',
        b'["an", "array"]',
        b'{"id": "WH-2", "resource": {}}',
        b"\xff\xfe\x00not utf-8",
    ],
    ids=["truncated JSON", "not an object", "no event_type", "not UTF-8"],
)
def test_a_correctly_signed_body_that_is_not_an_event_is_refused(
    service: TestClient,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    inbox: Callable[[], int],
    body: bytes,
) -> None:
    before = inbox()
    response = post(service, paypal_api, paypal_signer, body)
    assert response.status_code == 400, response.text
    assert inbox() == before


def test_the_certificate_is_downloaded_once(
    service: TestClient,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
) -> None:
    for _ in range(3):
        event = paypal_event(
            "CHECKOUT.ORDER.APPROVED",
            paypal_checkout_order(
                order_id="6f1c0dd3-0000-4000-8000-000000000002",
                paypal_order_id=fake.order_id(),
                amount_cents=24000,
                currency="usd",
            ),
            resource_type="checkout-order",
            summary="An order has been approved by buyer",
        )
        response = post(service, paypal_api, paypal_signer, encode(event))
        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "ignored"
    downloads = [r for r in paypal_api.requests if r.path == fake.CERT_PATH]
    assert len(downloads) == 1


def test_a_verified_event_is_one_rpc_call_as_the_service_role(
    service_settings: ServiceSettings,
    paypal_signer: PayPalSigner,
    stripe_api: StrictFake,
    paypal_api: StrictFake,
) -> None:
    settings, gateway = with_fake_gateway(service_settings)
    event = capture_completed(
        {"id": "6f1c0dd3-0000-4000-8000-000000000003", "amount_cents": 1500, "currency": "jpy"},
        paypal_api,
    )
    key = SERVICE_ROLE_KEY_AS_GIVEN  # sent as given, never minted
    gateway.expect(
        "POST",
        "/rest/v1/rpc/record_payment_event",
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        json={
            "provider": "paypal",
            "event_id": event["id"],
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "payload": event,
        },
        response={"outcome": "flagged"},
    )
    try:
        with TestClient(create_app(settings)) as client:
            response = post(client, paypal_api, paypal_signer, encode(event))
        assert response.status_code == 200, response.text
        assert response.json() == {"outcome": "flagged"}
        gateway.verify()
    finally:
        gateway.close()


# --- through the real database -------------------------------------------------------------------


def test_capture_completed_fulfils_the_order_once(
    service: TestClient,
    settings: Settings,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
    inbox: Callable[[], int],
) -> None:
    s = shop()
    order = place_order(settings, s, "paypal")
    body = encode(capture_completed(order, paypal_api))
    before = inbox()

    first = post(service, paypal_api, paypal_signer, body)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "fulfilled"
    assert order_row(conn, order["id"])["status"] == "paid"
    assert packs_of(conn, order["id"]) == [("active", 4)]

    again = post(service, paypal_api, paypal_signer, body)  # a redelivery, newly signed
    assert again.json()["outcome"] == "duplicate", again.text
    assert packs_of(conn, order["id"]) == [("active", 4)]
    assert inbox() == before + 1


def test_a_zero_decimal_currency_is_paid_in_whole_units(
    service: TestClient,
    settings: Settings,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop(price_cents=15000, currency="jpy")
    order = place_order(settings, s, "paypal")
    event = capture_completed(order, paypal_api)
    assert event["resource"]["amount"] == {"currency_code": "JPY", "value": "15000"}
    response = post(service, paypal_api, paypal_signer, encode(event))
    assert response.json()["outcome"] == "fulfilled", response.text
    assert order_row(conn, order["id"])["status"] == "paid"


def test_capture_refunded_in_full_ends_the_pack(
    service: TestClient,
    settings: Settings,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "paypal")
    completed = capture_completed(order, paypal_api)
    capture_id = completed["resource"]["id"]
    assert post(service, paypal_api, paypal_signer, encode(completed)).json()["outcome"] == (
        "fulfilled"
    )

    def refund(amount: int, total: int) -> str:
        event = paypal_event(
            "PAYMENT.CAPTURE.REFUNDED",
            paypal_refund(
                order_id=order["id"],
                capture_id=capture_id,
                amount_cents=amount,
                total_refunded_cents=total,
                currency="usd",
                api_base=paypal_api.url,
            ),
            resource_type="refund",
            summary="A $ 240.0 USD capture payment was refunded",
        )
        outcome: str = post(service, paypal_api, paypal_signer, encode(event)).json()["outcome"]
        return outcome

    assert refund(4000, 4000) == "partially_refunded"
    assert packs_of(conn, order["id"]) == [("active", 4)]
    assert refund(20000, 24000) == "refunded"
    assert order_row(conn, order["id"])["status"] == "refunded"
    assert packs_of(conn, order["id"]) == [("refunded", 0)]


def test_a_denied_capture_grants_nothing(
    service: TestClient,
    settings: Settings,
    paypal_api: StrictFake,
    paypal_signer: PayPalSigner,
    conn: psycopg.Connection,
    shop: Callable[..., Shop],
) -> None:
    s = shop()
    order = place_order(settings, s, "paypal")
    event = paypal_event(
        "PAYMENT.CAPTURE.DENIED",
        paypal_capture(
            order_id=order["id"],
            paypal_order_id=fake.order_id(),
            amount_cents=order["amount_cents"],
            currency=order["currency"],
            status="DECLINED",
        ),
        resource_type="capture",
        summary="A payment capture for $ 240.0 USD was Denied",
    )
    response = post(service, paypal_api, paypal_signer, encode(event))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"
    assert order_row(conn, order["id"])["status"] == "pending"
    assert packs_of(conn, order["id"]) == []


def test_our_signature_verifies_with_the_certificate_alone(paypal_signer: PayPalSigner) -> None:
    """The scheme, checked independently of the service: the signature in the headers is
    PKCS#1 v1.5 SHA-256 over the documented message, verifiable with the certificate's key."""
    import zlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    body = b'{"id":"WH-1","event_type":"X"}'
    headers = paypal_signer.headers(
        body,
        webhook_id="WEBHOOK1",
        cert_url="https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1",
        transmission_id="tid-1",
        transmission_time="2026-01-01T00:00:00Z",
    )
    message = f"tid-1|2026-01-01T00:00:00Z|WEBHOOK1|{zlib.crc32(body)}".encode()
    key = x509.load_pem_x509_certificate(paypal_signer.cert_pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(
        base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"]),
        message,
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
