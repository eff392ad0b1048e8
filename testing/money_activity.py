"""The money and activity marts' story (tests/reports/): one mentor's first week of January 2001,
played through the real rules at a frozen clock (before anything another test writes, so the days
and weeks of 2001 hold only these rows), then one dbt build of the four marts, read back as dicts.

The week: four students buy a pack on Monday (two with a 20 % code, one through PayPal, one in
euros), a fifth order is flagged; nine sessions are booked; sessions are completed, missed by
either side, canceled early, late and by the mentor; the euro payment is refunded in two parts,
one code redemption in full; the first student renews at a grandfathered price after the price
went up. The outbox's Monday messages are claimed: half delivered at once, half after one retry."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api, ok
from testing.clock import Clock
from testing.dbt import dbt
from testing.factories import Scenario
from testing.payments import deliver, order, paypal_captured, stripe_paid, stripe_refunded

UTC = dt.UTC
MARTS = ("revenue_daily", "session_outcomes", "promotion_performance", "message_delivery")
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
MONDAY = dt.datetime(2001, 1, 1, 9, 0, tzinfo=UTC)  # 2001-01-01 was a Monday


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """An instant in January 2001 (UTC)."""
    return dt.datetime(2001, 1, day, hour, minute, tzinfo=UTC)


def build(
    settings: Settings, *marts: str, full_refresh: bool = False, command: str = "build"
) -> list[dict[str, Any]]:
    """dbt build (or run: no tests) of the marts and what they are built from; with build, the
    tests whose parents are all built."""
    selected = [f"+{m}" for m in marts or MARTS]
    args = [command, "--select", *selected]
    if command == "build":
        args += ["--indirect-selection", "buildable"]
    return dbt(settings, *args, *(["--full-refresh"] if full_refresh else []))


def rows(conn: psycopg.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


@dataclass
class Story:
    mentor: uuid.UUID
    students: dict[str, uuid.UUID]
    promo: uuid.UUID
    unused: uuid.UUID
    sessions: dict[str, str] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)


def _book(s: Scenario, student: uuid.UUID, pack: str, starts: dt.datetime) -> str:
    session: str = ok(
        s.api(student).rpc("book_session", pack_id=pack, starts_at=starts.isoformat())
    )["id"]
    return session


def _pack_of(s: Scenario, o: dict[str, Any]) -> str:
    return str(s.one("select id from public.session_packs where order_id = %s", o["id"]))


def _deliver_monday_messages(s: Scenario, service: Api, clock: Clock) -> None:
    """Claims Monday's due messages 30 s after they were queued: session_booked ones alternately
    delivered and failed (retried and delivered 10 minutes after queueing); the rest delivered."""
    clock.freeze(MONDAY + dt.timedelta(seconds=30))
    claimed = ok(service.rpc("claim_notifications", worker="reports-test", max_messages="1000"))
    booked = sorted(m["id"] for m in claimed if m["kind"] == "session_booked")
    retry = set(booked[1::2])
    for m in claimed:
        if m["id"] in retry:
            ok(service.rpc("notification_failed", notification_id=str(m["id"]), error="timeout"))
        else:
            ok(service.rpc("notification_sent", notification_id=str(m["id"])))
    clock.freeze(MONDAY + dt.timedelta(minutes=10))
    again = ok(service.rpc("claim_notifications", worker="reports-test", max_messages="1000"))
    assert sorted(m["id"] for m in again) == sorted(retry), "only the failed messages are due again"
    for m in again:
        ok(service.rpc("notification_sent", notification_id=str(m["id"])))


def play(s: Scenario, service: Api, clock: Clock) -> Story:
    """The week of January 2001 (see the module's docstring)."""
    clock.freeze(MONDAY)
    mentor = s.mentor("UTC", working_hours=ALL_DAY, capacity=10, notice=60)
    usd = s.product(mentor, price_cents=10000, currency="usd")
    eur = s.product(mentor, price_cents=5000, currency="eur")
    tag = uuid.uuid4().hex[:8].upper()
    promo = s.one(
        "insert into public.promotion_codes (code, percent_off, valid_from) values (%s, 20, %s) returning id",
        f"JAN20-{tag}",
        MONDAY - dt.timedelta(days=1),
    )
    unused = s.one(
        "insert into public.promotion_codes (code, amount_off_cents, currency, valid_from)"
        " values (%s, 500, 'usd', %s) returning id",
        f"UNUSED-{tag}",
        MONDAY - dt.timedelta(days=1),
    )
    students = {name: s.person("student") for name in ("a", "b", "c", "d", "f")}
    story = Story(mentor, students, promo, unused)

    # Monday 09:00: four packs paid, one order flagged (Stripe paid a PayPal order)
    code = f"JAN20-{tag}"
    o_a = order(s, students["a"], usd, promo_code=code)
    o_d = order(s, students["d"], usd, promo_code=code)
    o_b = order(s, students["b"], usd, provider="paypal")
    o_c = order(s, students["c"], eur)
    o_f = order(s, students["f"], usd, provider="paypal")
    deliver(service, "stripe", stripe_paid(o_a))
    deliver(service, "stripe", stripe_paid(o_d))
    assert deliver(service, "paypal", paypal_captured(o_b, "100.00"))["outcome"] == "fulfilled"
    deliver(service, "stripe", stripe_paid(o_c))
    assert deliver(service, "stripe", stripe_paid(o_f))["outcome"] == "flagged"
    pack = {k: _pack_of(s, o) for k, o in (("a", o_a), ("b", o_b), ("c", o_c), ("d", o_d))}

    # nine sessions, the week of Monday 1 January and Monday 8 January 00:00
    plan = {
        "a1": ("a", at(2, 10)),
        "a2": ("a", at(3, 10)),
        "a3": ("a", at(4, 10)),
        "a4": ("a", at(5, 10)),
        "b1": ("b", at(8, 0)),
        "b2": ("b", at(2, 12)),
        "c1": ("c", at(3, 14)),
        "d1": ("d", at(6, 10)),
    }
    for name, (who, starts) in plan.items():
        story.sessions[name] = _book(s, students[who], pack[who], starts)
    ok(s.api(students["a"]).rpc("cancel_session", session_id=story.sessions["a4"]))  # early
    story.sessions["a5"] = _book(s, students["a"], pack["a"], at(7, 10))
    _deliver_monday_messages(s, service, clock)

    me = s.api(mentor)
    clock.freeze(at(2, 11, 30))
    ok(me.rpc("complete_session", session_id=story.sessions["a1"]))
    ok(me.rpc("cancel_session", session_id=story.sessions["b2"]))
    clock.freeze(at(3, 11))
    ok(me.rpc("mark_no_show", session_id=story.sessions["a2"], who="student"))
    assert deliver(service, "stripe", stripe_refunded(o_c, 1500))["outcome"] == "partially_refunded"
    clock.freeze(at(4, 11))
    ok(me.rpc("mark_no_show", session_id=story.sessions["a3"], who="mentor"))
    clock.freeze(at(5, 9))
    assert deliver(service, "stripe", stripe_refunded(o_c, 5000))["outcome"] == "refunded"
    assert deliver(service, "stripe", stripe_refunded(o_d, 8000))["outcome"] == "refunded"
    clock.freeze(at(6, 10, 30))
    ok(
        s.api(students["a"]).rpc("cancel_session", session_id=story.sessions["a5"])
    )  # late: 23.5 h ahead
    # the price goes up; the first student renews at the old price, without the code
    s.conn.execute(
        "update public.mentorship_products set price_cents = 12000 where id = %s", (usd,)
    )
    renewal = order(s, students["a"], usd)
    assert (renewal["list_price_cents"], renewal["amount_cents"]) == (12000, 10000)
    deliver(service, "stripe", stripe_paid(renewal))
    return story


@functools.cache
def played(settings: Settings) -> Story:
    """The story played and the four marts built from scratch, once per test run."""
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        scenario = Scenario(conn, settings)
        clock = Clock(conn)
        key = jwt.service_role_key(settings)
        service = Api(settings, key, apikey=key)
        try:
            story = play(scenario, service, clock)
        finally:
            clock.unfreeze()
            service.http.close()
            scenario.close()
    story.results = build(settings, full_refresh=True)
    return story
