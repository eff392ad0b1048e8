"""exactly once: every event three times shuffled, concurrent deliveries, refunds racing their
payments; record_payment_event as the service role over real PostgREST, with a frozen clock."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from typing import Any

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api, race
from testing.factories import Scenario
from testing.payments import (
    count,
    deliver,
    order,
    stripe_expired,
    stripe_paid,
    stripe_refunded,
)


def test_every_event_three_times_shuffled_is_applied_once(
    scenario: Scenario, shop: dict[str, Any], service: Api
) -> None:
    scenario.conn.execute(
        "update public.mentors set seat_capacity = 20 where id = %s", (shop["mentor"],)
    )
    students = [scenario.person() for _ in range(6)]
    orders = [order(scenario, s, shop["product"]) for s in students]
    events = [stripe_paid(o) for o in orders]
    events.append(stripe_refunded(orders[0], 24000))  # full refund
    events.append(stripe_refunded(orders[1], 1000))  # partial
    events.append(stripe_expired(orders[2]))  # expiry notice of a paid order
    deliveries = events * 3
    random.Random(4).shuffle(deliveries)
    outcomes = Counter(deliver(service, "stripe", e)["outcome"] for e in deliveries)
    assert outcomes["duplicate"] == 2 * len(events)
    ids = [o["id"] for o in orders]
    assert scenario.conn.execute(
        "select count(*), count(distinct order_id) from public.session_packs where order_id = any(%s::uuid[])",
        (ids,),
    ).fetchone() == (6, 6)
    assert (
        count(
            scenario, "select count(*) from public.payments where order_id = any(%s::uuid[])", ids
        )
        == 6
    )
    assert (
        count(
            scenario,
            "select count(*) from public.notifications where kind = 'pack_purchased' and payload ->> 'order_id' = any(%s)",
            ids,
        )
        == 12  # student and mentor, email only
    )
    status = "select status::text from public.session_packs where order_id = %s"
    assert [scenario.one(status, i) for i in ids[:3]] == ["refunded", "active", "active"]


def test_twenty_concurrent_deliveries_of_one_event_make_one_pack(
    scenario: Scenario, shop: dict[str, Any], settings: Settings
) -> None:
    o = order(scenario, shop["student"], shop["product"])
    event = stripe_paid(o)
    body = {
        "provider": "stripe",
        "event_id": event["id"],
        "event_type": event["type"],
        "payload": event,
    }
    statuses = race(settings, "record_payment_event", [(jwt.service_role_key(settings), body)] * 20)
    assert statuses == Counter({200: 20})
    assert (
        count(scenario, "select count(*) from public.session_packs where order_id = %s", o["id"])
        == 1
    )
    assert (
        count(
            scenario, "select count(*) from private.webhook_events where event_id = %s", event["id"]
        )
        == 1
    )


def test_refunds_racing_their_payments_are_never_left_waiting(
    scenario: Scenario, shop: dict[str, Any], settings: Settings
) -> None:
    """A refund that finds no payment is parked; a payment applies the parked refunds. Sent at
    the same instant, neither may miss the other (they take turns per provider payment)."""
    scenario.conn.execute(
        "update public.mentors set seat_capacity = 40 where id = %s", (shop["mentor"],)
    )
    orders = [order(scenario, scenario.person(), shop["product"]) for _ in range(15)]
    key = jwt.service_role_key(settings)
    calls: list[tuple[uuid.UUID | str, dict[str, Any]]] = []
    for o in orders:
        for event in (stripe_paid(o), stripe_refunded(o, o["amount_cents"])):
            body = {"provider": "stripe", "event_id": event["id"], "event_type": event["type"]}
            calls.append((key, body | {"payload": event}))
    assert race(settings, "record_payment_event", calls) == Counter({200: 30})
    ids = [o["id"] for o in orders]
    assert scenario.conn.execute(
        "select count(*) filter (where status = 'refunded'), count(*) from public.session_packs"
        " where order_id = any(%s::uuid[])",
        (ids,),
    ).fetchone() == (15, 15)
    assert (
        count(
            scenario,
            "select count(*) from private.webhook_events where payment_ref = any(%s) and outcome = 'deferred'",
            [f"pi_{i[:8]}" for i in ids],
        )
        == 0
    )
