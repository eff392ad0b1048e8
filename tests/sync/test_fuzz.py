"""Every endpoint of the services, fuzzed over real HTTP: bodies with CR, LF, NUL and other
control characters, 1 MB strings, integers at and past 32 and 64 bits, floats, the wrong JSON
types, missing and extra keys, bodies that are not JSON, and odd header values. Whatever comes
in, the answer is

- never a 5xx (the one exception: the test stack's own services on placeholder provider keys
  refuse a checkout with 503 SV503, as they should),
- a standard status line, only the headers in ALLOWED_HEADERS, none carrying fuzzed text,
- for a refusal, a JSON body {code, message, details, hint} and nothing written: the rows of
  every table a call could touch are counted before and after.

Two targets: the test stack's services process (`python -m sync`, as `mentorships up` runs it,
with the stack's local provider secrets) and the app served by uvicorn the same way with its
providers the strict fakes (a checkout there reaches create_order)."""

from __future__ import annotations

import email.utils
import http
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import event, given, reject
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import PayPalSigner, Stack
from sync.observability.requests import WELL_FORMED
from testing.events import sign_stripe
from testing.factories import Scenario
from testing.fakes import paypal as paypal_fake
from testing.fakes.http import StrictFake
from testing.services import PAYPAL_WEBHOOK_ID, STRIPE_WEBHOOK_SECRET

# Every header an answer of the services may carry; all but Date (uvicorn's) are checked for
# their exact values. Connection: close comes with the refusal of a request that is not HTTP.
ALLOWED_HEADERS = {
    "content-type",
    "content-length",
    "date",
    "allow",
    "www-authenticate",
    "connection",
    # Ours (sync.observability.requests): a new id, or the caller's well-formed one.
    "x-request-id",
}

# Per endpoint and target: 60 calls per endpoint in all, 420 for the suite (about 12 s).
EXAMPLES = 30

# What a call could write.
COUNTS = """
    select (select count(*) from public.orders), (select count(*) from public.seat_reservations),
           (select count(*) from public.payments), (select count(*) from public.session_packs),
           (select count(*) from private.webhook_events)
"""

# The values our headers take (besides Date and Content-Length). Fuzzed text that is part of
# one of them (Hypothesis borrows words from the code it runs: "applic") cannot be told apart.
OUR_VALUES = ("application/json", "GET", "POST", "Bearer", "close")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    kind: str  # "checkout", "capture", "stripe", "paypal", "get"


ENDPOINTS = [
    Endpoint("POST", "/checkout/stripe", "checkout"),
    Endpoint("POST", "/checkout/paypal", "checkout"),
    Endpoint("POST", "/checkout/paypal/capture", "capture"),
    Endpoint("POST", "/webhooks/stripe", "stripe"),
    Endpoint("POST", "/webhooks/paypal", "paypal"),
    Endpoint("GET", "/health", "get"),
    Endpoint("GET", "/ping", "get"),
]


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    stripe_secret: str
    paypal_signer: PayPalSigner
    paypal_cert_url: str
    paypal_webhook_id: str
    placeholder_keys: bool  # checkout refused with 503 SV503


@pytest.fixture(params=["stack", "served"])
def target(request: pytest.FixtureRequest, settings: Settings, stack: Stack) -> Iterator[Target]:
    if request.param == "stack":
        services = stack.services
        services.start()  # a no-op when running, as the stack fixture left it
        effective = services.effective_settings()
        local = services.local_paypal_signer()
        assert local is not None and effective.stripe_webhook_secret is not None
        assert effective.paypal_webhook_id is not None
        yield Target(
            "stack",
            settings.services_url,
            effective.stripe_webhook_secret.get_secret_value(),
            local.signer,
            local.cert_url,
            effective.paypal_webhook_id,
            placeholder_keys=True,
        )
    else:
        url: str = request.getfixturevalue("served")
        paypal_api: StrictFake = request.getfixturevalue("paypal_api")
        signer: PayPalSigner = request.getfixturevalue("paypal_signer")
        yield Target(
            "served",
            url,
            STRIPE_WEBHOOK_SECRET,
            signer,
            f"{paypal_api.url}{paypal_fake.CERT_PATH}",
            PAYPAL_WEBHOOK_ID,
            placeholder_keys=False,
        )


# --- strategies --------------------------------------------------------------------------------

ODD = "\r\n\x00\t\x0b\x0c\x1b\x7f\x85\xa0\u2028\u2029\ufeff\"'\\<>{}%;:,= aZé字😀"
MEGABYTE = 1_000_000

texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(ODD), min_size=1, max_size=40),
    st.sampled_from(
        [
            "",
            "\r\nX-Injected: 1",
            "line\nbreak",
            "nul\x00byte",
            "\ud800 lone surrogate",
            "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b\n",
            " 0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b",
            "SPRING10",
            "x" * 65,
        ]
    ),
    st.sampled_from(["a", "\n", "\x00", "é", "😀"]).map(lambda c: c * MEGABYTE),
)
numbers = st.one_of(
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 10**40]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=8,
)
not_json = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"not json",
            b"NaN",
            b'{"product_id": NaN}',
            b'{"product_id": Infinity, "order_id": -Infinity}',
            b'{"product_id": 1' + b"0" * 5000 + b"}",
            b'{"order_id": 1' + b"0" * 5000 + b"}",
            b'{"product_id": "\\ud800"}',
            b'{"product_id": "raw\ncontrol"}',
            b'{"a": 1, "a": 2}',
            b"[" * 100_000,
            b"\xef\xbb\xbf{}",
            b"\xff\xfe{\x00}\x00",
        ]
    ),
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
)


def often(value: bool, times: int = 3) -> st.SearchStrategy[bool]:
    """value `times` times out of times + 1 (Hypothesis leans to the first of sampled_from)."""
    return st.sampled_from([value] * times + [not value])


@st.composite
def checkout_object(draw: st.DrawFn, keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys a body takes, each missing, well formed (a UUID no product or order has) or
    fuzzed, and sometimes extra keys."""
    body: dict[str, Any] = {}
    for key in keys:
        choice = draw(st.sampled_from(["good", "good", "missing", "fuzz"]))
        if choice == "good":
            body[key] = str(uuid.uuid4()) if key != "promo_code" else draw(st.none() | texts)
        elif choice == "fuzz":
            body[key] = draw(json_values)
    if draw(often(False)):
        body.update(draw(st.dictionaries(texts, json_values, min_size=1, max_size=2)))
    return body


@st.composite
def event_object(draw: st.DrawFn, type_key: str, types: list[str]) -> dict[str, Any]:
    """Something like a provider's event: an id, a type, a payload, any of them fuzzed."""
    event: dict[str, Any] = draw(st.dictionaries(st.text(max_size=12), json_values, max_size=3))
    if draw(often(True)):
        event["id"] = draw(st.one_of(texts, json_values))
    if draw(often(True)):
        event[type_key] = draw(st.one_of(st.sampled_from(types), texts, json_values))
    event["data" if type_key == "type" else "resource"] = draw(json_values)
    return event


def encode(value: Any, draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return json.dumps(value).encode()
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@dataclass
class Call:
    method: str
    path: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunked: bool
    fuzzed: list[str]  # the fuzzed text that went into the call


def header_text(draw: st.DrawFn, fuzzed: list[str]) -> str:
    text = draw(texts)
    fuzzed.append(text)
    return text


@st.composite
def calls(draw: st.DrawFn, endpoint: Endpoint, target: Target, tokens: dict[str, str]) -> Call:
    fuzzed: list[str] = []
    method = endpoint.method
    if draw(often(False, times=9)):
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    path = endpoint.path
    if draw(often(False, times=9)):
        extra = header_text(draw, fuzzed)
        path = draw(st.sampled_from([path + "/", path + "/x", "/"])) + urllib.parse.quote(
            extra.encode("utf-8", "surrogatepass")[:200]
        )

    # The body
    if endpoint.kind in ("checkout", "capture"):
        keys = ("product_id", "promo_code") if endpoint.kind == "checkout" else ("order_id",)
        value: Any = draw(st.one_of(checkout_object(keys), checkout_object(keys), json_values))
        body = draw(st.one_of(st.just(encode(value, draw)), not_json))
    elif endpoint.kind == "stripe":
        value = draw(event_object("type", ["checkout.session.completed", "charge.refunded"]))
        body = draw(st.one_of(st.just(encode(value, draw)), not_json))
    elif endpoint.kind == "paypal":
        value = draw(event_object("event_type", ["PAYMENT.CAPTURE.COMPLETED"]))
        body = draw(st.one_of(st.just(encode(value, draw)), not_json))
    else:
        value = None
        body = draw(st.one_of(st.just(b""), not_json))
    fuzzed.extend(_strings(value))

    # The headers
    headers: dict[str, str] = {}
    content_type = draw(
        st.sampled_from(
            [
                "application/json",
                "application/json",
                "application/json",
                "application/json; charset=utf-8",
                "application/merge-patch+json",
                "text/plain",
                "application/x-www-form-urlencoded",
                None,
                "fuzz",
            ]
        )
    )
    if content_type == "fuzz":
        headers["Content-Type"] = header_text(draw, fuzzed)
    elif content_type is not None:
        headers["Content-Type"] = content_type
    if endpoint.kind in ("checkout", "capture"):
        auth = draw(
            st.sampled_from(
                ["student", "student", "student", "mentor", "none", "bearer fuzz", "fuzz", "empty"]
            )
        )
        if auth in tokens:
            headers["Authorization"] = f"Bearer {tokens[auth]}"
        elif auth == "bearer fuzz":
            headers["Authorization"] = "Bearer " + header_text(draw, fuzzed)
        elif auth == "fuzz":
            headers["Authorization"] = header_text(draw, fuzzed)
        elif auth == "empty":
            headers["Authorization"] = "Bearer "
    elif endpoint.kind == "stripe":
        choice = draw(
            st.sampled_from(
                ["signed", "signed", "signed", "other secret", "stale", "none", "fuzz", "t=v1"]
            )
        )
        if choice == "signed":
            headers["Stripe-Signature"] = sign_stripe(body, target.stripe_secret)
        elif choice == "other secret":
            headers["Stripe-Signature"] = sign_stripe(body, "whsec_someone_else")
        elif choice == "stale":
            headers["Stripe-Signature"] = sign_stripe(
                body, target.stripe_secret, int(time.time()) - 301
            )
        elif choice == "fuzz":
            headers["Stripe-Signature"] = header_text(draw, fuzzed)
        elif choice == "t=v1":
            t, v1 = header_text(draw, fuzzed), header_text(draw, fuzzed)
            headers["Stripe-Signature"] = f"t={t},v1={v1}"
    elif endpoint.kind == "paypal":
        choice = draw(
            st.sampled_from(["signed", "signed", "signed", "one header fuzzed", "none", "fuzz"])
        )
        signed = target.paypal_signer.headers(
            body, webhook_id=target.paypal_webhook_id, cert_url=target.paypal_cert_url
        )
        del signed["Content-Type"]
        if choice == "signed":
            headers.update(signed)
        elif choice == "one header fuzzed":
            signed[draw(st.sampled_from(sorted(signed)))] = header_text(draw, fuzzed)
            headers.update(signed)
        elif choice == "fuzz":
            headers.update({name: header_text(draw, fuzzed) for name in signed})
    if draw(st.booleans()):
        name = draw(st.sampled_from(["Accept", "X-Request-Id", "Accept-Language", "Origin"]))
        headers[name] = header_text(draw, fuzzed)

    encoded = [
        (name.encode(), value.encode("utf-8", "surrogatepass")) for name, value in headers.items()
    ]
    return Call(method, path, encoded, body, draw(st.booleans()), fuzzed)


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value (keys too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    return []


# --- the property ------------------------------------------------------------------------------


def check(response: httpx.Response, call: Call, endpoint: Endpoint, target: Target) -> bool:
    """The answer's status line, headers and body; whether it is a refusal."""
    status = response.status_code
    assert response.reason_phrase == http.HTTPStatus(status).phrase, response.reason_phrase
    names = {name.lower() for name in response.headers}
    assert names <= ALLOWED_HEADERS, names - ALLOWED_HEADERS
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"].isdigit()
    assert email.utils.parsedate_to_datetime(response.headers["date"])
    assert response.headers.get("www-authenticate", "Bearer") == "Bearer"
    assert response.headers.get("allow", "GET") in ("GET", "POST")
    assert response.headers.get("connection", "close") == "close"
    # A new id, or the caller's own when well-formed (8-128 of A-Z a-z 0-9 . _ -: nothing that
    # could shape an answer); none on uvicorn's own 400.
    request_id = response.headers.get("x-request-id")
    sent = [v for n, v in call.headers if n.lower() == b"x-request-id"]
    assert (
        request_id is None
        or re.fullmatch("[0-9a-f]{32}", request_id)
        or (sent[:1] == [request_id.encode()] and WELL_FORMED.match(request_id))
    ), (request_id, sent)
    values = [
        v
        for k, v in response.headers.items()
        if k.lower() not in ("date", "content-length", "x-request-id")
    ]
    for text in call.fuzzed:
        if text.strip() and not any(text in ours for ours in OUR_VALUES):
            for value in values:
                assert text not in value, (text, value)
    if status < 400:
        return False
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"code", "message", "details", "hint"}, body
    assert isinstance(body["code"], str) and isinstance(body["message"], str), body
    assert all(body[key] is None or isinstance(body[key], str) for key in ("details", "hint"))
    placeholder_refusal = (
        target.placeholder_keys
        and endpoint.kind == "checkout"
        and (status, body["code"]) == (503, "SV503")
    )
    assert status < 500 or placeholder_refusal, (status, body)
    return True


def send(client: httpx.Client, call: Call) -> httpx.Response:
    content: bytes | Iterator[bytes] = call.body
    if call.chunked and call.body:
        content = iter([call.body[: len(call.body) // 2], call.body[len(call.body) // 2 :]])
    try:
        return client.request(call.method, call.path, content=content, headers=call.headers)
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        reject()  # a header value no HTTP client sends (CR, LF, NUL, ...)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{e.method} {e.path}" for e in ENDPOINTS])
def test_whatever_comes_in_the_answer_keeps_the_contract(
    target: Target,
    endpoint: Endpoint,
    conn: psycopg.Connection,
    scenario: Scenario,
    settings: Settings,
) -> None:
    student, mentor = scenario.person("student"), scenario.mentor()
    tokens = {
        "student": jwt.user_token(settings, student, None),
        "mentor": jwt.user_token(settings, mentor, None),
    }

    def counts() -> tuple[int, ...]:
        row = conn.execute(COUNTS).fetchone()
        assert row is not None
        return tuple(row)

    with httpx.Client(base_url=target.url, timeout=60) as client:

        @hsettings(max_examples=EXAMPLES, deadline=None)
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            call = data.draw(calls(endpoint, target, tokens), label="call")
            before = counts()
            response = send(client, call)
            code = response.json().get("code") if response.status_code >= 400 else "ok"
            event(f"{response.status_code} {code}")  # pytest --hypothesis-show-statistics
            if check(response, call, endpoint, target):
                assert counts() == before, f"{response.status_code} {response.text[:300]}"

        run()
