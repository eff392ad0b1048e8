"""Rows take the business clock (sql/rules/timestamps.sql): at a frozen clock every row the RPCs,
the jobs and the API roles' direct writes make is stamped with the frozen instant (created_at,
updated_at, received_at, requested_at); unfrozen, with the transaction's time as before. Over
real PostgREST with real JWTs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api, ok
from testing.booking import NOW, booked_world, ny
from testing.clock import Clock
from testing.factories import Scenario
from testing.payments import deliver, order, stripe_paid


@pytest.fixture
def service(settings: Settings) -> Iterator[Api]:
    api = Api(settings, jwt.service_role_key(settings), apikey=jwt.service_role_key(settings))
    yield api
    api.http.close()


def stamps(conn: psycopg.Connection, sql: str, *params: Any) -> set[dt.datetime]:
    """The distinct instants a query returns (one column)."""
    return {r[0] for r in conn.execute(sql, params).fetchall()}


def test_a_booking_stamps_every_row_it_writes_with_the_frozen_instant(
    scenario: Scenario, clock: Clock
) -> None:
    booked = booked_world(scenario, clock)  # frozen at NOW, weeks before the wall clock
    at = clock.advance(dt.timedelta(minutes=7))  # not the instant the factories wrote at
    session = ok(
        scenario.api(booked["student"]).rpc(
            "book_session", pack_id=booked["pack"], starts_at=ny(3, 9)
        )
    )
    c, sid = scenario.conn, session["id"]
    assert stamps(c, "select created_at from public.sessions where id = %s", sid) == {at}
    assert stamps(c, "select updated_at from public.sessions where id = %s", sid) == {at}
    assert stamps(
        c, "select created_at from public.session_credit_ledger where session_id = %s", sid
    ) == {at}
    assert stamps(c, "select created_at from public.notifications where session_id = %s", sid) == {
        at
    }
    assert stamps(c, "select created_at from public.audit_log where row_id = %s", sid) == {at}
    assert stamps(
        c, "select requested_at from private.calendar_jobs where session_id = %s", sid
    ) == {at}
    # the pack's remaining_sessions went down: the updated_at trigger
    assert stamps(
        c, "select updated_at from public.session_packs where id = %s", booked["pack"]
    ) == {at}


def test_an_order_and_its_payment_event_are_stamped_at_their_own_instants(
    scenario: Scenario, clock: Clock, service: Api
) -> None:
    ordered_at = clock.freeze(NOW)
    mentor = scenario.mentor(capacity=3)
    product = scenario.product(mentor)
    student = scenario.person("student")
    o = order(scenario, student, product)
    c = scenario.conn
    assert c.execute(
        "select created_at, updated_at from public.orders where id = %s", (o["id"],)
    ).fetchone() == (ordered_at, ordered_at)
    assert c.execute(
        "select created_at, updated_at from public.seat_reservations where id = %s",
        (o["seat_reservation_id"],),
    ).fetchone() == (ordered_at, ordered_at)

    paid_at = clock.advance(dt.timedelta(minutes=5))
    event = stripe_paid(o)
    assert deliver(service, "stripe", event)["outcome"] == "fulfilled"
    assert stamps(
        c, "select received_at from private.webhook_events where event_id = %s", event["id"]
    ) == {paid_at}
    assert c.execute(
        "select created_at, updated_at from public.orders where id = %s", (o["id"],)
    ).fetchone() == (ordered_at, paid_at)
    assert c.execute(
        "select created_at, updated_at from public.seat_reservations where id = %s",
        (o["seat_reservation_id"],),
    ).fetchone() == (ordered_at, paid_at)
    assert stamps(
        c,
        "select created_at from public.payments where order_id = %s"
        " union all select updated_at from public.payments where order_id = %s"
        " union all select created_at from public.session_packs where order_id = %s"
        " union all select updated_at from public.session_packs where order_id = %s",
        o["id"],
        o["id"],
        o["id"],
        o["id"],
    ) == {paid_at}
    assert stamps(
        c,
        "select created_at from public.notifications where payload ->> 'order_id' = %s",
        o["id"],
    ) == {paid_at}


def test_a_job_stamps_updated_at_with_the_frozen_instant(scenario: Scenario, clock: Clock) -> None:
    clock.freeze(NOW)
    mentor = scenario.mentor(capacity=3)
    product = scenario.product(mentor)
    o = order(scenario, scenario.person("student"), product)
    ran_at = clock.advance(dt.timedelta(minutes=33))  # the hold (32 minutes for Stripe) ran out
    c = scenario.conn
    assert c.execute("select private.expire_holds() >= 1").fetchone() == (True,)
    assert c.execute(
        "select status::text, updated_at from public.seat_reservations where id = %s",
        (o["seat_reservation_id"],),
    ).fetchone() == ("released", ran_at)
    assert c.execute(
        "select status::text, updated_at from public.orders where id = %s", (o["id"],)
    ).fetchone() == ("expired", ran_at)


def test_a_mentors_own_product_writes_are_stamped(scenario: Scenario, clock: Clock) -> None:
    """The authenticated role may neither read the clock nor call private.clock_now(): the
    default and the trigger stamp for it."""
    created_at = clock.freeze(NOW)
    mentor = scenario.mentor()
    api = scenario.api(mentor)
    r = api.request(
        "POST",
        "/mentorship_products",
        json={
            "mentor_id": str(mentor),
            "title": "Clock pack",
            "sessions_count": 4,
            "validity_days": 90,
            "price_cents": 12000,
            "currency": "usd",
        },
    )
    assert r.status_code == 201, r.text
    product = r.json()[0]
    assert dt.datetime.fromisoformat(product["created_at"]) == created_at
    assert dt.datetime.fromisoformat(product["updated_at"]) == created_at

    changed_at = clock.advance(dt.timedelta(hours=2))
    r = api.request(
        "PATCH", f"/mentorship_products?id=eq.{product['id']}", json={"title": "Clock pack 2"}
    )
    assert r.status_code == 200, r.text
    assert [
        (dt.datetime.fromisoformat(p["created_at"]), dt.datetime.fromisoformat(p["updated_at"]))
        for p in r.json()
    ] == [(created_at, changed_at)]


def test_unfrozen_rows_take_the_transaction_time(scenario: Scenario, clock: Clock) -> None:
    clock.unfreeze()
    mentor = scenario.mentor()
    c = scenario.conn
    with c.transaction():
        product = uuid.uuid4()
        c.execute(
            "insert into public.mentorship_products (id, mentor_id, title, sessions_count,"
            " validity_days, price_cents, currency) values (%s, %s, 'Now pack', 4, 90, 100, 'usd')",
            (product, mentor),
        )
        assert c.execute(
            "select created_at = now(), updated_at = now() from public.mentorship_products"
            " where id = %s",
            (product,),
        ).fetchone() == (True, True)
    with c.transaction():
        c.execute(
            "update public.mentorship_products set title = 'Now pack 2' where id = %s", (product,)
        )
        assert c.execute(
            "select updated_at = now(), created_at < now() from public.mentorship_products"
            " where id = %s",
            (product,),
        ).fetchone() == (True, True)


def test_explicit_values_still_win_over_the_defaults(scenario: Scenario, clock: Clock) -> None:
    """Factories backdate rows on purpose; the stamp is only a default."""
    clock.freeze(NOW)
    mentor = scenario.mentor()
    long_ago = NOW - dt.timedelta(days=400)
    product = uuid.uuid4()
    scenario.conn.execute(
        "insert into public.mentorship_products (id, mentor_id, title, sessions_count, validity_days,"
        " price_cents, currency, created_at, updated_at) values (%s, %s, 'Old pack', 4, 90, 100, 'usd', %s, %s)",
        (product, mentor, long_ago, long_ago),
    )
    assert scenario.conn.execute(
        "select created_at, updated_at from public.mentorship_products where id = %s", (product,)
    ).fetchone() == (long_ago, long_ago)
