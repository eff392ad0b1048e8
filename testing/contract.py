"""What the API contract tests share: the hostile values Hypothesis draws from, the isolated cast
a fuzzed call may change, the fingerprint that shows a refusal wrote nothing, and the checks every
answer must pass (status < 500, standard reason phrase, allow-listed headers without the sent text,
PostgREST's JSON shape)."""

from __future__ import annotations

import datetime as dt
import http
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from hypothesis import strategies as st

from testing.api import Api
from testing.factories import Scenario, booked_session

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
    # PostgREST names the schema it answered from when it serves more than one (public, analytics):
    # one of its db-schemas, never the request's text (another profile is refused, 406 PGRST106).
    "content-profile",
    "content-location",
    "location",
    "preference-applied",
    "www-authenticate",
    "access-control-allow-origin",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    # The gateway's: its request id (32 hex digits: a client's is kept only from a trusted
    # address, none here) and a 429's wait in seconds.
    "x-request-id",
    "retry-after",
}

# What the gateway always says in its CORS headers, and the content type of every answer (a
# fuzzed "json" is in it, as Hypothesis borrows words from the code it runs).
FIXED_HEADER_TEXT = (
    "authorization, apikey, content-type, prefer, range, range-unit, accept-profile, "
    "content-profile, x-client-info, accept, x-upsert; content-range, content-profile, "
    "preference-applied, x-request-id, retry-after; GET, POST, PATCH, PUT, DELETE, OPTIONS; "
    "application/json; charset=utf-8; "
    "public, analytics"
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
    "public.notification_preferences",
    "private.webhook_events",
    "public.mentor_calendars",
    "private.google_credentials",
    "private.google_oauth_states",
    "private.google_revocations",
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
    preference: uuid.UUID


def build_cast(s: Scenario) -> Cast:
    """Isolated people and rows: a call the fuzz gets right changes only these."""
    conn = s.conn
    mentor = s.mentor()
    student = s.person()
    admin = s.person("admin")
    product = s.product(mentor)
    pack = s.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=1))
    session = booked_session(
        conn, pack=pack, mentor=mentor, student=student, starts=NOW + dt.timedelta(days=3)
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
    preference = conn.execute(
        "insert into public.notification_preferences (user_id, kind, channel, enabled)"
        " values (%s, 'one_session_left', 'discord', false) returning id",
        (student,),
    ).fetchone()
    assert preference is not None
    return Cast(mentor, student, admin, product, pack, session, order[0], promo[0], preference[0])


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
            ("public.notification_preferences", "user_id", c.student),
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
    # The request id is the gateway's own: random hex digits, which a short sent text can match.
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers.get("x-request-id", "")), response.headers
    header_text = "\n".join(v for k, v in response.headers.items() if k != "x-request-id")
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


def valid(kind: str, c: Cast) -> st.SearchStrategy[Any]:
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


def caller(who: str, c: Cast, s: Scenario, actors: dict[str, Api]) -> Api:
    return {
        "anon": lambda: s.api(None),
        "student": lambda: s.api(c.student),
        "mentor": lambda: s.api(c.mentor),
        "admin": lambda: s.api(c.admin),
        "service": lambda: actors["service"],
    }[who]()
