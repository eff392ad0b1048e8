"""The API contract through the real gateway: no input reaches a status line or a header, every
refusal is PostgREST's JSON shape with a 4xx, and a refusal writes nothing.

Hypothesis sends every RPC argument and every client-writable column strings with CR, LF, NUL
and other control characters, 1 MB strings, integer and date bounds, wrong JSON types, missing
and extra keys. The two header-injection reports are named regression tests."""

from __future__ import annotations

import datetime as dt
import http
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentorships.settings import Settings
from testing.api import Api
from testing.clock import Clock
from testing.factories import Scenario

NOW = dt.datetime(2027, 3, 1, 13, 0, tzinfo=dt.UTC)  # a Monday
INJECTION = "E2E\r\nX-Injected: promo\r\nSet-Cookie: e2e=1"

# Every header an answer may carry (nginx, PostgREST); anything else is a leak.
ALLOWED_HEADERS = {
    "server",
    "date",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-range",
    "content-location",
    "location",
    "preference-applied",
    "www-authenticate",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
}

# What the gateway always says in its CORS headers.
FIXED_HEADER_TEXT = (
    "authorization, apikey, content-type, prefer, range, range-unit, accept-profile, "
    "content-profile, x-client-info, accept, x-upsert; content-range, content-profile, "
    "preference-applied; GET, POST, PATCH, PUT, DELETE, OPTIONS"
)

# Tables a call could touch, counted before and after a refusal.
COUNTED = (
    "public.orders",
    "public.seat_reservations",
    "public.session_packs",
    "public.sessions",
    "public.session_credit_ledger",
    "public.notifications",
    "public.audit_log",
    "public.payments",
    "public.mentorship_products",
    "public.promotion_codes",
    "private.webhook_events",
)

NASTY_TEXT = st.sampled_from(
    [
        INJECTION,
        "a\r\nb",
        "\n",
        "\x00",
        "a\x00b",
        "\x1b[31mred",
        "\u2028\u2029\u0085",
        "x" * 5_000,
        "x" * 1_000_000,
        "",
        " ",
        "tomorrow",
        "now",
        "epoch",
        "infinity",
        "-infinity",
        "2026-12-03T10:00:00",
        "2026-02-30T10:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59+14:00",
        "2027-03-02T14:00:00Z",
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
        "stripe",
        "paypal",
        "student",
        "mentor",
        "Europe/Berlin",
        "Mars/Olympus",
        "UTC+5",
        "https://example.test/x",
    ]
)
ANY_TEXT = st.text(max_size=40)
NUMBERS = st.one_of(
    st.sampled_from(
        [0, 1, -1, 52, 53, -52, -53, 2**31 - 1, 2**31, -(2**31), 2**63, -(2**63), 10**30]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
ODD_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
NASTY = st.one_of(NASTY_TEXT, ANY_TEXT, NUMBERS, ODD_JSON)


@dataclass
class Cast:
    mentor: uuid.UUID
    student: uuid.UUID
    admin: uuid.UUID
    product: uuid.UUID
    pack: uuid.UUID
    session: uuid.UUID
    order: uuid.UUID
    promo: uuid.UUID


@pytest.fixture(scope="module")
def cast(conn: psycopg.Connection, settings: Settings) -> Iterator[tuple[Cast, Scenario]]:
    """Isolated people and rows: a call the fuzz gets right changes only these."""
    s = Scenario(conn, settings)
    mentor = s.mentor()
    student = s.person()
    admin = s.person("admin")
    product = s.product(mentor)
    pack = s.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=1))
    session = uuid.uuid4()
    starts = NOW + dt.timedelta(days=3)
    conn.execute(
        "insert into public.sessions (id, pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)"
        " values (%s, %s, %s, %s, %s, %s, %s)",
        (
            session,
            pack,
            mentor,
            student,
            starts,
            starts + dt.timedelta(hours=1),
            starts + dt.timedelta(minutes=75),
        ),
    )
    conn.execute(
        "insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta)"
        " values (%s, %s, %s, %s, 'session_booked', -1)",
        (pack, mentor, student, session),
    )
    order = conn.execute(
        "insert into public.orders (student_id, mentor_id, product_id, provider, amount_cents, currency,"
        " list_price_cents, status, expires_at) values (%s, %s, %s, 'paypal', 24000, 'usd', 24000, 'canceled', %s)"
        " returning id",
        (student, mentor, product, NOW),
    ).fetchone()
    assert order is not None
    promo = conn.execute(
        "insert into public.promotion_codes (code, percent_off, mentor_id) values (%s, 10, %s) returning id",
        (f"FUZZ-{mentor.hex[:8].upper()}", mentor),
    ).fetchone()
    assert promo is not None
    try:
        yield Cast(mentor, student, admin, product, pack, session, order[0], promo[0]), s
    finally:
        s.close()


def fingerprint(conn: psycopg.Connection, c: Cast) -> dict[str, Any]:
    """Row counts of every table a call could touch, and the cast's own rows as text."""
    counts = {t: conn.execute(f"select count(*) from {t}").fetchone() for t in COUNTED}
    rows = {
        t: conn.execute(
            f"select md5(coalesce(string_agg(x::text, ',' order by x.id), '')) from {t} x where {k} = %s",
            (v,),
        ).fetchone()
        for t, k, v in [
            ("public.sessions", "mentor_id", c.mentor),
            ("public.session_packs", "mentor_id", c.mentor),
            ("public.seat_reservations", "mentor_id", c.mentor),
            ("public.orders", "mentor_id", c.mentor),
            ("public.mentors", "id", c.mentor),
            ("public.mentorship_products", "mentor_id", c.mentor),
            ("public.promotion_codes", "mentor_id", c.mentor),
            ("public.profiles", "id", c.student),
            ("public.platform_settings", "id", True),
        ]
    }
    return {**counts, **{f"rows of {t}": v for t, v in rows.items()}}


def texts(value: Any) -> list[str]:
    """The strings a request carried (to look for them in the answer's headers)."""
    if isinstance(value, str):
        return [value] if len(value.strip()) >= 4 else []
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in texts(k) + texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def check_answer(response: httpx.Response, sent: Any) -> None:
    status = response.status_code
    assert status < 500, f"{status} {response.text[:500]}"
    assert response.reason_phrase == http.HTTPStatus(status).phrase, response.reason_phrase
    leaked = set(response.headers.keys()) - ALLOWED_HEADERS
    assert not leaked, f"headers outside the allow-list: {leaked}"
    header_text = "\n".join(response.headers.values())
    for text in texts(sent):
        if text in FIXED_HEADER_TEXT:  # e.g. "apikey": the gateway's CORS lists name it anyway
            continue
        assert text not in header_text, f"request text in a header: {text[:60]!r}"
    if status >= 400:
        body = response.json()
        assert isinstance(body, dict), body
        assert isinstance(body.get("code"), str) and body["code"], body
        assert isinstance(body.get("message"), str) and body["message"], body
        assert {"details", "hint"} <= set(body), body
        if body["code"].startswith("PT"):  # ours; Postgres's cast errors quote the whole value
            assert len(body["message"]) <= 1000, body["message"][:200]


def _valid(kind: str, c: Cast) -> st.SearchStrategy[Any]:
    return {
        "mentor": st.just(str(c.mentor)),
        "pack": st.just(str(c.pack)),
        "session": st.just(str(c.session)),
        "product": st.just(str(c.product)),
        "order": st.just(str(c.order)),
        "uuid": st.uuids().map(str),
        "instant": st.datetimes(
            min_value=dt.datetime(2026, 1, 1),
            max_value=dt.datetime(2028, 1, 1),
            timezones=st.just(dt.UTC),
        ).map(dt.datetime.isoformat),
        "int": st.integers(min_value=-60, max_value=60),
        "text": st.text(max_size=20),
        "provider": st.sampled_from(["stripe", "paypal"]),
        "who": st.sampled_from(["student", "mentor"]),
        "json": st.just({"id": "evt_x", "type": "ping"}),
    }[kind]


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
}


def _body(draw: st.DrawFn, args: dict[str, str], c: Cast) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, kind in args.items():
        choice = draw(st.sampled_from(["valid", "nasty", "nasty", "missing"]))
        if choice == "valid":
            body[name] = draw(_valid(kind, c))
        elif choice == "nasty":
            body[name] = draw(NASTY)
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        body[draw(st.sampled_from(["extra", "apikey", "select", INJECTION]))] = draw(NASTY)
    return body


def _caller(who: str, c: Cast, s: Scenario, actors: dict[str, Api]) -> Api:
    return {
        "anon": lambda: s.api(None),
        "student": lambda: s.api(c.student),
        "mentor": lambda: s.api(c.mentor),
        "admin": lambda: s.api(c.admin),
        "service": lambda: actors["service"],
    }[who]()


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
    api = _caller(who, c, s, actors)

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
                params[name] = str(data.draw(_valid(kind, c)))
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
            "discord_user_id": "80351110224678912",
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
    api = _caller(who, c, s, actors)
    key, label = RESTORE[table]
    row_id: Any = True if label is None else getattr(c, label)
    path = f"/{table}" if method == "POST" else f"/{table}?{key}=eq.{str(row_id).lower()}"

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def call(data: st.DataObject) -> None:
        body: dict[str, Any] = {}
        for name, valid in columns.items():
            choice = data.draw(st.sampled_from(["valid", "nasty", "nasty", "missing"]))
            if choice == "valid":
                body[name] = valid
            elif choice == "nasty":
                body[name] = data.draw(NASTY)
        if method == "POST":
            body["mentor_id"] = str(c.mentor)
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
            "profiles",
            "student",
            {"discord_user_id": "abc"},
            "discord_user_id",
            'discord_user_id: "abc" is not a Discord user id',
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
    row = {"profiles": c.student, "mentors": c.mentor, "mentorship_products": c.product}[table]
    before = fingerprint(conn, c)
    response = s.api(getattr(c, who)).http.patch(f"/{table}?id=eq.{row}", json=body)
    assert response.status_code == 422, response.text
    assert response.reason_phrase == "Unprocessable Entity"
    assert response.json()["code"] == "PT422"
    assert response.json()["details"] == field
    assert response.json()["message"] == message
    assert response.json()["hint"]
    assert fingerprint(conn, c) == before
