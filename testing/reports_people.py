"""The people-and-seats reports' scenario (mentor_roster, instructor_overview, renewals,
seat_occupancy_daily): one mentor's March 2032 played through the real rules over the gateway,
then `dbt build` once from scratch, once incrementally after one more day and once more from
scratch (what the incremental build must equal). Shared by the
tests in tests/reports/ through the session fixture `people`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.api import Api, ok
from testing.clock import Clock
from testing.dbt import dbt
from testing.factories import Scenario
from testing.payments import deliver, order, stripe_paid, stripe_refunded

UTC = dt.UTC
MARTS = ("mentor_roster", "instructor_overview", "renewals", "seat_occupancy_daily")
# Later than every other test's clock, so the incremental watermarks are this scenario's.
T0 = dt.datetime(2032, 3, 1, 8, 0, tzinfo=UTC)  # a Monday
REPORT_AT = dt.datetime(2032, 3, 8, 12, 0, tzinfo=UTC)
NEXT_REPORT_AT = dt.datetime(2032, 3, 9, 11, 30, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2032, 3, day, hour, minute, tzinfo=UTC)


@dataclass
class People:
    """Ids of the scenario and each mart's rows for its mentor, after each build."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    first: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    second: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rebuilt: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # full, after second
    seats_now: dict[str, int] = field(default_factory=dict)


class Play:
    def __init__(self, scenario: Scenario, clock: Clock, service: Api) -> None:
        self.s, self.clock, self.service = scenario, clock, service

    def buy(self, student: uuid.UUID, product: uuid.UUID, **args: Any) -> dict[str, Any]:
        o = order(self.s, student, product, **args)
        deliver(self.service, "stripe", stripe_paid(o))
        return o

    def pack_of(self, o: dict[str, Any]) -> uuid.UUID:
        pack: uuid.UUID = self.s.one(
            "select id from public.session_packs where order_id = %s", o["id"]
        )
        return pack

    def book(self, student: uuid.UUID, pack: uuid.UUID, starts: dt.datetime) -> str:
        session: str = ok(self.s.api(student).rpc("book_session", pack_id=pack, starts_at=starts))[
            "id"
        ]
        return session


def play(scenario: Scenario, clock: Clock, service: Api) -> dict[str, uuid.UUID]:
    """A (promotion code, complete, student no-show, late and early cancel, depleted, renewed in
    grace at a grandfathered price, mentor no-show), B (partial refund), C (full refund), D
    (depleted, renewed after grace), E (a live checkout hold at the report)."""
    p, s, conn = Play(scenario, clock, service), scenario, scenario.conn
    clock.freeze(T0)
    mentor = s.mentor("UTC", capacity=5, notice=60)
    product = s.product(mentor, price_cents=24000)
    single = s.product(mentor, price_cents=9000, sessions=1, title="One session")
    a, b, c, d, e = (s.person("student") for _ in range(5))
    code = f"PEOPLE{uuid.uuid4().hex[:8].upper()}"
    conn.execute(
        "insert into public.promotion_codes (code, percent_off, mentor_id, valid_from) values (%s, 25, %s, %s)",
        (code, mentor, T0 - dt.timedelta(days=1)),
    )
    oa1 = p.buy(a, product, promo_code=code)
    ob = p.buy(b, product)
    oc = p.buy(c, product)
    od1 = p.buy(d, single)
    a1, b1, d1 = p.pack_of(oa1), p.pack_of(ob), p.pack_of(od1)
    s1, s2, s3, s4 = (p.book(a, a1, t) for t in (at(2, 10), at(2, 12), at(3, 10), at(4, 10)))
    s7 = p.book(b, b1, at(2, 14))
    s9 = p.book(d, d1, at(2, 16))
    clock.freeze(at(1, 9))
    deliver(service, "stripe", stripe_refunded(oc, 24000))  # full: pack refunded, seat released
    clock.freeze(at(2, 17, 30))
    m = s.api(mentor)
    for done in (s1, s7, s9):  # D's only session: D's pack is used up, the seat enters grace
        ok(m.rpc("complete_session", session_id=done))
    ok(m.rpc("mark_no_show", session_id=s2, who="student"))
    clock.freeze(at(3, 9, 30))
    ok(s.api(a).rpc("cancel_session", session_id=s3))  # 30 min before: late
    ok(s.api(a).rpc("cancel_session", session_id=s4))  # a day ahead: credit back
    s5 = p.book(a, a1, at(5, 10))
    clock.freeze(at(5, 11, 30))
    ok(m.rpc("complete_session", session_id=s5))  # A's first pack used up: grace until 8th 11:30
    clock.freeze(at(6, 10))
    deliver(service, "stripe", stripe_refunded(ob, 10000))  # partial: recorded only
    conn.execute(
        "update public.mentorship_products set price_cents = 30000 where id = %s", (product,)
    )
    oa2 = p.buy(a, product)  # within grace, at A's earlier (grandfathered) price
    # after D's grace ended (on the 5th, 17:30); no job ran (they are global: they would touch the
    # other tests' rows at this clock), so D's seat is renewed rather than taken anew
    od2 = p.buy(d, single)
    a2 = p.pack_of(oa2)
    s6 = p.book(a, a2, at(8, 10))
    clock.freeze(at(8, 11, 30))
    ok(m.rpc("mark_no_show", session_id=s6, who="mentor"))
    clock.freeze(at(8, 11, 50))
    order(s, e, product)  # a checkout left open: the hold lives until 12:20
    s8 = p.book(b, b1, at(9, 10))
    clock.freeze(REPORT_AT)
    return {
        "mentor": mentor, "a": a, "b": b, "c": c, "d": d, "e": e,
        "a1": a1, "a2": a2, "b1": b1, "c1": p.pack_of(oc), "d1": d1, "d2": p.pack_of(od2),
        "s8": uuid.UUID(s8), "oa2": uuid.UUID(oa2["id"]),
    }  # fmt: skip


def rows(conn: psycopg.Connection, mentor: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    order_by = {
        "mentor_roster": "first_purchased_at, student_id",
        "instructor_overview": "mentor_id",
        "renewals": "ended_at",
        "seat_occupancy_daily": "day",
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return {
            mart: cur.execute(
                f"select * from analytics.{mart} where mentor_id = %s order by {order_by[mart]}",
                (mentor,),
            ).fetchall()
            for mart in MARTS
        }


def build(settings: Settings, *extra: str) -> None:
    selection = ["staging", *(f"+{mart}" for mart in MARTS)]
    dbt(settings, "build", "--select", *selection, *extra)


@pytest.fixture(scope="session")
def people(stack: Stack, conn: psycopg.Connection, settings: Settings) -> Iterator[People]:
    scenario, clock = Scenario(conn, settings), Clock(conn)
    key = jwt.service_role_key(settings)
    service = Api(settings, key, apikey=key)
    try:
        ids = play(scenario, clock, service)
        result = People(ids=ids)
        build(settings, "--full-refresh")
        result.first = rows(conn, ids["mentor"])
        with conn.cursor(row_factory=dict_row) as cur:
            seats = cur.execute(
                "select count(*) filter (where status = 'hold' and hold_expires_at > private.clock_now()) as held,"
                " count(*) filter (where status = 'active') as active,"
                " count(*) filter (where status = 'grace') as in_grace"
                " from public.seat_reservations where mentor_id = %s",
                (ids["mentor"],),
            ).fetchone()
        assert seats is not None
        result.seats_now = dict(seats)
        # one more day: B's session completed; the incremental build picks it up
        clock.freeze(NEXT_REPORT_AT)
        ok(scenario.api(ids["mentor"]).rpc("complete_session", session_id=ids["s8"]))
        build(settings)
        result.second = rows(conn, ids["mentor"])
        # the same rows rebuilt from scratch: what the incremental build must have made
        build(settings, "--full-refresh")
        result.rebuilt = rows(conn, ids["mentor"])
    finally:
        clock.unfreeze()  # the tests after these run at the real clock
        service.http.close()
        scenario.close()
    yield result
