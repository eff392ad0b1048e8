"""The API contract, case by case, through the real gateway: the two header-injection reports as
regression tests, and the refusals that name the bad argument or column and the accepted form."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from testing.clock import Clock
from testing.contract import (
    INJECTION,
    NOW,
    Cast,
    fingerprint,
)
from testing.factories import Scenario


def test_a_promotion_code_with_crlf_sets_no_header(
    cast: tuple[Cast, Scenario], conn: psycopg.Connection, clock: Clock
) -> None:
    """Regression: create_order quoted the code in a PT422 reason phrase, and nginx passed
    `X-Injected` and `Set-Cookie` on as headers."""
    c, s = cast
    clock.freeze(NOW)
    before = fingerprint(conn, c)
    buyer = s.person()  # no open order (create_order returns an open one as it is)
    response = s.api(buyer).http.post(
        "/rpc/create_order",
        json={"product_id": str(c.product), "provider": "stripe", "promo_code": INJECTION},
    )
    assert response.status_code == 422
    assert response.reason_phrase == "Unprocessable Entity"
    assert "x-injected" not in response.headers and "set-cookie" not in response.headers
    body = response.json()
    assert body["code"] == "PT422" and body["details"] == "promo_code"
    assert (
        body["message"] == 'promotion code "E2E  X-INJECTED: PROMO  SET-COOKIE: E2E=1" is unknown'
    )
    assert fingerprint(conn, c) == before


def test_a_stored_mentor_name_with_crlf_is_refused_and_sets_no_header(
    cast: tuple[Cast, Scenario], conn: psycopg.Connection, clock: Clock
) -> None:
    """Regression: a mentor could store `public_name` with CRLF, and every student whose
    create_order was refused for that mentor got its Set-Cookie from the API's origin."""
    c, s = cast
    clock.freeze(NOW)
    mentor = s.api(c.mentor)
    stored = mentor.http.patch(
        f"/mentors?id=eq.{c.mentor}",
        json={"public_name": "Mentor Two\r\nSet-Cookie: e2e=stored", "accepting_students": False},
    )
    assert stored.status_code == 422, stored.text
    assert stored.json()["details"] == "public_name"
    assert "set-cookie" not in stored.headers
    # Even a name stored around the API (an old row, written with the checks off) reaches no header.
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        conn.execute(
            "update public.mentors set public_name = %s, accepting_students = false where id = %s",
            ("Mentor Two\r\nSet-Cookie: e2e=stored", c.mentor),
        )
    try:
        other = s.person()
        response = s.api(other).http.post(
            "/rpc/create_order", json={"product_id": str(c.product), "provider": "stripe"}
        )
        assert response.status_code == 409
        assert response.reason_phrase == "Conflict"
        assert "set-cookie" not in response.headers
        assert response.json()["message"] == (
            "Mentor Two  Set-Cookie: e2e=stored is not taking new students right now"
        )
    finally:
        conn.execute(
            "update public.mentors set public_name = 'Scenario Mentor', accepting_students = true"
            " where id = %s",
            (c.mentor,),
        )


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {
                "pack_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b",
                "delta": -2147483648,
                "reason": "x",
            },
            "delta",
            'delta: "-2147483648" is outside -52 to 52',
        ),
        (
            {"pack_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b", "delta": 2**63, "reason": "x"},
            "delta",
            f'delta: "{2**63}" is outside -52 to 52',
        ),
        (
            {"pack_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b", "delta": 1.5, "reason": "x"},
            "delta",
            'delta: "1.5" is not a whole number',
        ),
        (
            {"pack_id": "nope", "delta": 1, "reason": "x"},
            "pack_id",
            'pack_id: "nope" is not a UUID',
        ),
        ({"delta": 1, "reason": "x"}, "pack_id", "pack_id is required"),
    ],
)
def test_adjust_pack_sessions_names_the_bad_argument(
    cast: tuple[Cast, Scenario], body: dict[str, Any], field: str, message: str
) -> None:
    c, s = cast
    response = s.api(c.admin).http.post("/rpc/adjust_pack_sessions", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["details"] == field
    assert response.json()["message"] == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tomorrow", 'starts_at: "tomorrow" is not an instant with a UTC offset'),
        ("epoch", 'starts_at: "epoch" is not an instant with a UTC offset'),
        ("infinity", 'starts_at: "infinity" is not an instant with a UTC offset'),
        (
            "2027-03-02T14:00:00",
            'starts_at: "2027-03-02T14:00:00" is not an instant with a UTC offset',
        ),
        (
            "1970-01-01T00:00:00Z",
            'starts_at: "1970-01-01T00:00:00Z" is outside the years 2000 to 2199',
        ),
        ("2027-02-30T10:00:00Z", 'starts_at: "2027-02-30T10:00:00Z" is not a valid date and time'),
    ],
)
def test_instants_need_an_offset_and_a_sensible_year(
    cast: tuple[Cast, Scenario], value: str, message: str
) -> None:
    c, s = cast
    response = s.api(c.student).http.post(
        "/rpc/book_session", json={"pack_id": str(c.pack), "starts_at": value}
    )
    assert response.status_code == 422, response.text
    assert response.json()["details"] == "starts_at"
    assert response.json()["message"] == message


@pytest.mark.parametrize(
    ("table", "who", "body", "field", "message"),
    [
        (
            "profiles",
            "student",
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            'time_zone: "Mars/Olympus" is not an IANA time zone name such as "Europe/Berlin"',
        ),
        (
            "profiles",
            "student",
            {"time_zone": "UTC+5"},
            "time_zone",
            'time_zone: "UTC+5" is not an IANA time zone name such as "Europe/Berlin"',
        ),
        (
            "profiles",
            "student",
            {"display_name": "x" * 1_000_000},
            "display_name",
            "display_name must be 0 to 100 characters long (got 1000000)",
        ),
        (
            "mentors",
            "mentor",
            {"working_hours": {"monday": "9-5"}},
            "working_hours",
            'working_hours must be a list of {"weekday", "start", "end"} windows',
        ),
        ("mentors", "mentor", {"bio": "a\x07b"}, "bio", "bio contains control characters"),
        (
            "mentors",
            "mentor",
            {"avatar_url": "http://x"},
            "avatar_url",
            'avatar_url: "http://x" is not an https:// URL',
        ),
        (
            "mentorship_products",
            "mentor",
            {"title": "a\nb"},
            "title",
            "title contains control characters or line breaks",
        ),
        (
            "mentorship_products",
            "mentor",
            {"price_cents": -1},
            "price_cents",
            "price_cents must be a whole number from 0 to 100000000 (got -1)",
        ),
        (
            "notification_preferences",
            "student",
            {"kind": "refund_processed", "enabled": False},
            "kind",
            "kind: refund_processed messages may not be turned off",
        ),
    ],
)
def test_direct_writes_name_the_column_and_the_form(
    cast: tuple[Cast, Scenario],
    conn: psycopg.Connection,
    table: str,
    who: str,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    c, s = cast
    row = {
        "profiles": c.student,
        "mentors": c.mentor,
        "mentorship_products": c.product,
        "notification_preferences": c.preference,
    }[table]
    before = fingerprint(conn, c)
    response = s.api(getattr(c, who)).http.patch(f"/{table}?id=eq.{row}", json=body)
    assert response.status_code == 422, response.text
    assert response.reason_phrase == "Unprocessable Entity"
    assert response.json()["code"] == "PT422"
    assert response.json()["details"] == field
    assert response.json()["message"] == message
    assert response.json()["hint"]
    assert fingerprint(conn, c) == before
