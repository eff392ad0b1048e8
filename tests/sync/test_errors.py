"""The error shape, case by case (sync.errors, sync.handlers, sync.bodies, sync.server): every
answer that is not a success is {code, message, details, hint} with a standard status line and
Content-Type: application/json; the services' own codes are SV<status>."""

from __future__ import annotations

import json
import logging
import socket
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sync.app import create_app
from sync.bodies import EXAMPLE_UUID
from sync.handlers import BODY_LIMIT, WEBHOOK_BODY_LIMIT
from sync.settings import ServiceSettings
from sync.stripe.webhook import SIGNATURE_HINT
from testing.fakes.http import StrictFake
from testing.services import Shop

UUID_FORM = f'a UUID such as "{EXAMPLE_UUID}"'
CHECKOUT_EXAMPLE = f'{{"product_id": "{EXAMPLE_UUID}", "promo_code": "SPRING10"}}'
AUTH = {"Authorization": "Bearer not-checked-before-the-body"}


def refusal(response: httpx.Response, status: int) -> dict[str, Any]:
    """The answer's body, after checking what every refusal has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details", "hint"}, body
    return body


# --- the named cases ------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_a_422_naming_the_body(service: TestClient) -> None:
    response = service.post(
        "/checkout/stripe",
        content=b"product_id=0b7e59a4",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert refusal(response, 422) == {
        "code": "SV422",
        "message": (
            f"body: expected a JSON object such as {CHECKOUT_EXAMPLE}: got text that is not JSON"
            " (Expecting value at line 1 column 1)"
        ),
        "details": "body",
        "hint": f"Send a JSON object such as {CHECKOUT_EXAMPLE}.",
    }


def test_a_missing_product_id_is_a_422_naming_it(service: TestClient) -> None:
    response = service.post("/checkout/stripe", json={"promo_code": "SPRING10"}, headers=AUTH)
    assert refusal(response, 422) == {
        "code": "SV422",
        "message": f"product_id: expected {UUID_FORM}: got nothing (the key is missing)",
        "details": "product_id",
        "hint": f"Send product_id as {UUID_FORM}.",
    }


def test_an_unknown_route_is_a_404(service: TestClient) -> None:
    body = refusal(service.get("/checkout"), 404)
    assert body["code"] == "SV404"
    assert body["message"] == 'there is no endpoint GET "/checkout"'
    assert body["details"] is None
    assert body["hint"] == (
        "The services answer GET /health, GET /ping, POST /checkout/stripe, POST /webhooks/stripe,"
        " POST /checkout/paypal, POST /checkout/paypal/capture, POST /webhooks/paypal,"
        " POST /video/token, GET /video/{session_id}, GET /oauth/discord/start,"
        " GET /oauth/discord/callback, GET /oauth/google/start, GET /oauth/google/callback,"
        " POST /oauth/google/disconnect, POST /webhooks/google, GET /messages/unsubscribe,"
        " POST /messages/unsubscribe, GET /metrics, POST /errors."
    )


def test_a_wrong_method_is_a_405_saying_which_one_to_use(service: TestClient) -> None:
    response = service.get("/checkout/stripe")
    assert refusal(response, 405) == {
        "code": "SV405",
        "message": '"/checkout/stripe" does not take GET',
        "details": None,
        "hint": "Use POST.",
    }
    assert response.headers["allow"] == "POST"


def test_a_webhook_with_a_bad_signature_is_a_400(service: TestClient) -> None:
    response = service.post(
        "/webhooks/stripe",
        content=b'{"id": "evt_1", "type": "charge.refunded"}',
        headers={"Stripe-Signature": "t=1700000000,v1=" + "0" * 64},
    )
    assert refusal(response, 400) == {
        "code": "SV400",
        "message": "Stripe-Signature: no signature matches the payload",
        "details": "Stripe-Signature",
        "hint": SIGNATURE_HINT,
    }


def test_an_exception_in_a_handler_is_a_500_that_says_nothing_more(
    service_settings: ServiceSettings,
    stripe_api: StrictFake,
    paypal_api: StrictFake,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(service_settings)

    @app.post("/boom")
    async def boom() -> None:
        raise RuntimeError("the secret detail /srv/app.py line 7")

    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="sync.handlers"):
        response = client.post("/boom")
    assert refusal(response, 500) == {
        "code": "SV500",
        "message": "the services failed unexpectedly; the error is logged",
        "details": None,
        "hint": "Try again later; if it keeps failing, tell us when it happened.",
    }
    (record,) = [r for r in caplog.records if r.name == "sync.handlers"]
    assert record.getMessage() == "unhandled error"
    assert record.exc_info is not None and "the secret detail" in str(record.exc_info[1])
    assert record.__dict__["path"] == "/boom"


# --- more of the same shape -----------------------------------------------------------------------


def test_a_long_value_is_quoted_60_characters_at_most_without_control_characters(
    service: TestClient,
) -> None:
    value = "\x1b[31mred\r\nX-Injected: 1\x00" + "a" * 1_000_000
    response = service.post("/checkout/paypal", json={"product_id": value}, headers=AUTH)
    body = refusal(response, 422)
    quoted = '" [31mred  X-Injected: 1 ' + "a" * 35 + '…"'
    assert body["message"] == (
        f"product_id: expected {UUID_FORM}: got a string of {len(value)} characters ({quoted})"
    )
    assert len(quoted) == 62  # the quotes and 60 characters


@pytest.mark.parametrize(
    ("body", "details", "message"),
    [
        (
            {"product_id": EXAMPLE_UUID, "promocode": "SPRING10"},
            "promocode",
            "promocode: unknown key: expected only product_id and promo_code",
        ),
        (
            {"product_id": 2**63},
            "product_id",
            f"product_id: expected {UUID_FORM}: got the number {2**63}",
        ),
        (
            {"product_id": [EXAMPLE_UUID]},
            "product_id",
            f"product_id: expected {UUID_FORM}: got a list of 1 item",
        ),
        (
            {"product_id": EXAMPLE_UUID, "promo_code": "SPRING\n10"},
            "promo_code",
            'promo_code: expected a promotion code (text without control characters, such as "SPRING10")'
            ' or null: got a string of 9 characters ("SPRING 10")',
        ),
        (
            {"product_id": EXAMPLE_UUID, "promo_code": 10},
            "promo_code",
            'promo_code: expected a promotion code (text without control characters, such as "SPRING10")'
            " or null: got the number 10",
        ),
        (
            ["product_id"],
            "body",
            f"body: expected a JSON object such as {CHECKOUT_EXAMPLE}: got a list of 1 item",
        ),
    ],
    ids=["extra key", "2**63", "a list", "control character", "a number", "not an object"],
)
def test_what_is_wrong_is_named_with_the_form_it_takes(
    service: TestClient, body: Any, details: str, message: str
) -> None:
    answer = refusal(service.post("/checkout/stripe", json=body, headers=AUTH), 422)
    assert (answer["code"], answer["details"], answer["message"]) == ("SV422", details, message)


def test_a_lone_surrogate_is_quoted_as_a_space(service: TestClient) -> None:
    """JSON may escape half a UTF-16 pair ("\\ud800"); UTF-8 cannot carry it back (found by the
    fuzz: it was a 500)."""
    raw = b'{"product_id": "' + EXAMPLE_UUID.encode() + b'", "promo_code": "\\ud800 lone"}'
    response = service.post(
        "/checkout/stripe", content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    answer = refusal(response, 422)
    assert answer["message"] == (
        'promo_code: expected a promotion code (text without control characters, such as "SPRING10")'
        ' or null: got a string of 6 characters ("  lone")'
    )


@pytest.mark.parametrize(
    ("raw", "got"),
    [
        (b'{"product_id": NaN}', "text that is not JSON (NaN is not JSON)"),
        (b'{"product_id": 1' + b"0" * 5000 + b"}", None),
        (b"[" * 200_000, "JSON nested too deeply to read"),
        (b"\xff{}", "bytes that are not UTF-8 (at byte 0)"),
        (b"", "an empty body"),
    ],
    ids=["NaN", "5001 digits", "deep", "not UTF-8", "empty"],
)
def test_bodies_python_would_choke_on_are_422s(
    service: TestClient, raw: bytes, got: str | None
) -> None:
    response = service.post(
        "/checkout/stripe", content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    answer = refusal(response, 422)
    if got is None:
        assert answer["message"] == (
            f"product_id: expected {UUID_FORM}: got a number of 5001 digits"
        )
    else:
        assert answer["message"] == (
            f"body: expected a JSON object such as {CHECKOUT_EXAMPLE}: got {got}"
        )


def test_a_key_sent_twice_is_refused(service: TestClient) -> None:
    raw = json.dumps({"product_id": EXAMPLE_UUID})[:-1] + f', "product_id": "{EXAMPLE_UUID}"}}'
    response = service.post(
        "/checkout/stripe", content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    answer = refusal(response, 422)
    assert (answer["details"], answer["message"]) == (
        "product_id",
        "product_id: the key appears more than once",
    )


def test_a_body_not_sent_as_json_is_a_415(service: TestClient) -> None:
    response = service.post(
        "/checkout/stripe",
        content=f"product_id={EXAMPLE_UUID}",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = refusal(response, 415)
    assert answer["code"] == "SV415"
    assert answer["message"] == (
        'Content-Type: expected application/json: got "application/x-www-form-urlencoded"'
    )


def test_without_a_token_it_is_a_401_before_the_body_is_read(service: TestClient) -> None:
    response = service.post("/checkout/stripe", content=b"not json")
    answer = refusal(response, 401)
    assert (answer["code"], answer["details"]) == ("SV401", "Authorization")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_a_413(service: TestClient, chunked: bool) -> None:
    raw = b" " * (BODY_LIMIT + 1)
    content: Any = iter([raw[:1000], raw[1000:]]) if chunked else raw
    response = service.post(
        "/checkout/stripe", content=content, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert refusal(response, 413) == {
        "code": "SV413",
        "message": "the body is larger than 1 MiB",
        "details": "body",
        "hint": "Send at most 1 MiB.",
    }
    webhook = service.post("/webhooks/stripe", content=b" " * (WEBHOOK_BODY_LIMIT + 1))
    assert refusal(webhook, 413)["message"] == "the body is larger than 4 MiB"


def test_a_trailing_slash_is_a_404_not_a_redirect(service: TestClient) -> None:
    response = service.post("/checkout/stripe/", json={}, headers={"Host": "evil.example"})
    assert refusal(response, 404)["code"] == "SV404"
    assert "location" not in response.headers


def test_a_validation_error_of_fastapi_itself_has_the_shape_too(
    service_settings: ServiceSettings, stripe_api: StrictFake, paypal_api: StrictFake
) -> None:
    app = create_app(service_settings)

    @app.get("/count")
    async def count(limit: int) -> dict[str, int]:
        return {"limit": limit}

    with TestClient(app) as client:
        response = client.get("/count", params={"limit": "ten\r\n"})
    answer = refusal(response, 422)
    assert answer["code"] == "SV422"
    assert answer["details"] == "query.limit"
    assert answer["message"].startswith("query.limit: input should be a valid integer")
    assert answer["message"].endswith('got a string of 5 characters ("ten  ")')


def test_a_refusal_of_postgrest_is_passed_through_unchanged(
    service: TestClient, shop: Callable[..., Shop], stripe_api: StrictFake
) -> None:
    s = shop()
    response = service.post(
        "/checkout/stripe",
        json={"product_id": "00000000-0000-4000-8000-00000000dead"},
        headers=s.auth,
    )
    answer = refusal(response, 404)
    assert answer["code"] != "SV404"  # PostgREST's own code
    assert "00000000-0000-4000-8000-00000000dead" in answer["message"]
    assert stripe_api.requests == []


def test_a_request_uvicorn_cannot_parse_is_refused_in_the_shape_too(served: str) -> None:
    """A control character in a header value: no HTTP client sends one, so a raw socket does."""
    url = urllib.parse.urlsplit(served)
    assert url.hostname is not None and url.port is not None
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            b"POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nStripe-Signature: a\x01b\r\n"
            b"Content-Length: 2\r\n\r\n{}"
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, payload = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert set(headers) == {"date", "content-type", "content-length", "connection"}
    assert (headers["content-type"], headers["connection"]) == ("application/json", "close")
    assert json.loads(payload) == {
        "code": "SV400",
        "message": "the request is not valid HTTP/1.1",
        "details": None,
        "hint": "Check the request line and the headers: no control characters in header values.",
    }
