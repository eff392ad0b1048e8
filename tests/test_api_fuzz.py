"""The API contract, fuzzed through the real gateway: Hypothesis sends every RPC argument, every
client-writable column and the public calendar's query string strings with CR, LF, NUL and other
control characters, 1 MB strings, integer and date bounds, wrong JSON types, missing and extra
keys. Every answer passes testing.contract.check_answer, and a refusal writes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testing.api import Api
from testing.clock import Clock
from testing.contract import (
    ANY_TEXT,
    INJECTION,
    NASTY,
    NASTY_TEXT,
    NOW,
    Cast,
    caller,
    check_answer,
    fingerprint,
    valid,
)
from testing.factories import Scenario

RPCS: dict[str, tuple[str, dict[str, str]]] = {
    "mentor_availability": (
        "anon",
        {"mentor_id": "mentor", "from_at": "instant", "to_at": "instant"},
    ),
    "book_session": ("student", {"pack_id": "pack", "starts_at": "instant"}),
    "cancel_session": ("student", {"session_id": "session", "reason": "text"}),
    "reschedule_session": ("student", {"session_id": "session", "starts_at": "instant"}),
    "complete_session": (
        "mentor",
        {"session_id": "session", "notes": "text", "recording_url": "text"},
    ),
    "mark_no_show": ("mentor", {"session_id": "session", "who": "who"}),
    "adjust_pack_sessions": ("admin", {"pack_id": "pack", "delta": "int", "reason": "text"}),
    "video_session_access": ("student", {"session_id": "session"}),
    "create_order": (
        "student",
        {"product_id": "product", "provider": "provider", "promo_code": "text"},
    ),
    "attach_order_checkout": ("service", {"order_id": "order", "provider_checkout_id": "text"}),
    "order_for_capture": ("student", {"order_id": "order"}),
    "record_payment_event": (
        "service",
        {"provider": "provider", "event_id": "text", "event_type": "text", "payload": "json"},
    ),
    "choose_google_calendars": (
        "mentor",
        {"busy_calendar_ids": "json", "events_calendar_id": "text"},
    ),
    "claim_google_state": ("service", {"nonce": "text", "mentor_id": "mentor"}),
    "google_connected": (
        "service",
        {
            "mentor_id": "mentor",
            "refresh_token_sealed": "text",
            "key_version": "int",
            "scopes": "json",
            "calendars": "json",
        },
    ),
    "store_google_calendars": ("service", {"mentor_id": "mentor", "calendars": "json"}),
    "google_revoked": ("service", {"revocation_id": "int"}),
    "reseal_google_token": (
        "service",
        {
            "kind": "text",
            "id": "text",
            "previous_sealed": "text",
            "refresh_token_sealed": "text",
            "key_version": "int",
        },
    ),
}


def _body(draw: st.DrawFn, args: dict[str, str], c: Cast) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, kind in args.items():
        choice = draw(st.sampled_from(["valid", "nasty", "nasty", "missing"]))
        if choice == "valid":
            body[name] = draw(valid(kind, c))
        elif choice == "nasty":
            body[name] = draw(NASTY)
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        body[draw(st.sampled_from(["extra", "apikey", "select", INJECTION]))] = draw(NASTY)
    return body


@pytest.mark.parametrize("rpc", list(RPCS))
def test_fuzzed_rpc_arguments_get_a_clean_4xx_and_write_nothing(
    rpc: str,
    cast: tuple[Cast, Scenario],
    actors: dict[str, Api],
    conn: psycopg.Connection,
    clock: Clock,
) -> None:
    c, s = cast
    clock.freeze(NOW)
    who, args = RPCS[rpc]
    api = caller(who, c, s, actors)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def call(data: st.DataObject) -> None:
        body = data.draw(st.composite(lambda draw: _body(draw, args, c))())
        before = fingerprint(conn, c)
        response = api.http.post(f"/rpc/{rpc}", content=json.dumps(body))
        check_answer(response, body)
        if response.status_code >= 400:
            assert fingerprint(conn, c) == before, "a refused call changed the database"

    call()


def test_fuzzed_query_strings_of_the_public_calendar_get_a_clean_4xx(
    cast: tuple[Cast, Scenario], clock: Clock
) -> None:
    """GET /rpc/mentor_availability, the read every booking screen makes, as anon."""
    c, s = cast
    clock.freeze(NOW)
    api = s.api(None)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def call(data: st.DataObject) -> None:
        params: dict[str, str] = {}
        for name, kind in RPCS["mentor_availability"][1].items():
            choice = data.draw(st.sampled_from(["valid", "nasty", "missing"]))
            if choice == "valid":
                params[name] = str(data.draw(valid(kind, c)))
            elif choice == "nasty":
                value = data.draw(st.one_of(NASTY_TEXT, ANY_TEXT))
                params[name] = value[:4000]  # a URI over 8 KB is the gateway's 414
        response = api.http.get("/rpc/mentor_availability", params=params)
        check_answer(response, params)

    call()


# Direct writes: method, table, actor, the columns the actor may write, a valid value of each.
WRITES: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "PATCH",
        "profiles",
        "student",
        {
            "display_name": "Sam",
            "time_zone": "Europe/Berlin",
        },
    ),
    (
        "PATCH",
        "mentors",
        "mentor",
        {
            "public_name": "Mira",
            "headline": "Painter",
            "bio": "Oil and\nwater",
            "avatar_url": "https://example.test/a.png",
            "portfolio_url": "https://example.test",
            "time_zone": "Asia/Tokyo",
            "working_hours": [{"weekday": 2, "start": "10:00", "end": "12:00"}],
            "accepting_students": False,
        },
    ),
    (
        "POST",
        "mentorship_products",
        "mentor",
        {
            "title": "Eight",
            "description": "",
            "sessions_count": 8,
            "validity_days": 120,
            "price_cents": 40000,
            "currency": "eur",
            "is_active": True,
        },
    ),
    (
        "PATCH",
        "mentorship_products",
        "mentor",
        {
            "title": "Four",
            "description": "d",
            "sessions_count": 4,
            "validity_days": 90,
            "price_cents": 24000,
            "is_active": True,
        },
    ),
    (
        "POST",
        "promotion_codes",
        "admin",
        {
            "code": "FUZZ-NEW",
            "percent_off": 10,
            "valid_from": "2027-01-01T00:00:00Z",
            "valid_until": "2027-06-01T00:00:00Z",
            "max_redemptions": 5,
            "is_active": True,
        },
    ),
    (
        "PATCH",
        "promotion_codes",
        "admin",
        {"valid_until": "2027-06-01T00:00:00Z", "max_redemptions": 5, "is_active": False},
    ),
    (
        "POST",
        "notification_preferences",
        "student",
        {"kind": "session_reminder_24h", "channel": "email", "enabled": False},
    ),
    (
        "PATCH",
        "notification_preferences",
        "student",
        {"kind": "renewal_reminder", "channel": "email", "enabled": True},
    ),
    (
        "PATCH",
        "platform_settings",
        "admin",
        {
            "seat_hold_minutes": 30,
            "grace_period_hours": 72,
            "grace_warning_hours": 12,
            "cancel_notice_hours": 24,
            "default_currency": "usd",
        },
    ),
]

RESTORE = {
    "profiles": ("id", "student"),
    "mentors": ("id", "mentor"),
    "mentorship_products": ("id", "product"),
    "promotion_codes": ("id", "promo"),
    "platform_settings": ("id", None),
    "notification_preferences": ("id", "preference"),
}
# Who a new row belongs to: (column, the cast member).
OWNER = {
    "mentorship_products": ("mentor_id", "mentor"),
    "promotion_codes": ("mentor_id", "mentor"),
    "notification_preferences": ("user_id", "student"),
}


@pytest.mark.parametrize("write", WRITES, ids=[f"{w[0]} {w[1]}" for w in WRITES])
def test_fuzzed_direct_writes_get_a_clean_4xx_and_write_nothing(
    write: tuple[str, str, str, dict[str, Any]],
    cast: tuple[Cast, Scenario],
    actors: dict[str, Api],
    conn: psycopg.Connection,
) -> None:
    c, s = cast
    method, table, who, columns = write
    api = caller(who, c, s, actors)
    key, label = RESTORE[table]
    row_id: Any = True if label is None else getattr(c, label)
    path = f"/{table}" if method == "POST" else f"/{table}?{key}=eq.{str(row_id).lower()}"

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def call(data: st.DataObject) -> None:
        body: dict[str, Any] = {}
        for name, good in columns.items():
            choice = data.draw(st.sampled_from(["valid", "nasty", "nasty", "missing"]))
            if choice == "valid":
                body[name] = good
            elif choice == "nasty":
                body[name] = data.draw(NASTY)
        if method == "POST":
            column, member = OWNER[table]
            body[column] = str(getattr(c, member))
            if table == "promotion_codes" and "code" in body and body["code"] == "FUZZ-NEW":
                body["code"] = f"FUZZ-{uuid.uuid4().hex[:8].upper()}"
        if not body:
            return
        saved = conn.execute(
            f"select to_jsonb(t) from public.{table} t where {key} = %s",
            (row_id,),
        ).fetchone()
        before = fingerprint(conn, c)
        response = api.http.request(
            method, path, content=json.dumps(body), headers={"Prefer": "return=representation"}
        )
        check_answer(response, body)
        if response.status_code >= 400:
            assert fingerprint(conn, c) == before, "a refused write changed the database"
        elif method == "POST":
            ids = [r["id"] for r in response.json()]
            conn.execute(f"delete from public.{table} where id = any(%s::uuid[])", (ids,))
        elif saved is not None:
            cols = ", ".join(columns)
            conn.execute(
                f"update public.{table} t set ({cols}) = (select {cols} from jsonb_populate_record(null::public.{table}, %s))"
                f" where t.{key} = %s",
                (json.dumps(saved[0]), row_id),
            )

    call()
