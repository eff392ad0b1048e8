"""Concurrency over real PostgREST with real parallel connections, counted in the database
afterwards: a lost race is a 409, never a 500."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from mentorships.settings import Settings
from testing.api import race
from testing.clock import Clock
from testing.factories import Scenario

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def test_thirty_clients_overlapping_slots_across_an_hour(
    scenario: Scenario, settings: Settings, clock: Clock
) -> None:
    """09:30, 10:00 and 10:30 (60 min + 15 min buffer) all overlap each other, though they start
    in different hours: one booking wins, every other answer is a 409."""
    clock.freeze(NOW)
    mentor = scenario.mentor(capacity=60)
    students = [scenario.person() for _ in range(30)]
    packs = [scenario.pack(mentor, s, purchased_at=NOW - dt.timedelta(days=1)) for s in students]
    slots = [
        dt.datetime(2026, 11, 4, h, m, tzinfo=NY).isoformat()
        for h, m in ((9, 30), (10, 0), (10, 30))
    ]
    statuses = race(
        settings,
        "book_session",
        [
            (s, {"pack_id": str(p), "starts_at": slots[i % 3]})
            for i, (s, p) in enumerate(zip(students, packs, strict=True))
        ],
    )
    assert statuses == Counter({200: 1, 409: 29})
    assert scenario.one("select count(*) from public.sessions where mentor_id = %s", mentor) == 1


def test_fifty_clients_one_slot(scenario: Scenario, settings: Settings, clock: Clock) -> None:
    clock.freeze(NOW)
    mentor = scenario.mentor(capacity=60)
    students = [scenario.person() for _ in range(50)]
    packs = [scenario.pack(mentor, s, purchased_at=NOW - dt.timedelta(days=1)) for s in students]
    slot = dt.datetime(2026, 11, 4, 10, tzinfo=NY).isoformat()
    statuses = race(
        settings,
        "book_session",
        [(s, {"pack_id": str(p), "starts_at": slot}) for s, p in zip(students, packs, strict=True)],
    )
    assert statuses == Counter({200: 1, 409: 49})
    assert scenario.one("select count(*) from public.sessions where mentor_id = %s", mentor) == 1
    assert (
        scenario.one(
            "select count(*) from public.session_credit_ledger where mentor_id = %s", mentor
        )
        == 1
    )
    assert (
        scenario.one(
            "select sum(remaining_sessions) from public.session_packs where mentor_id = %s", mentor
        )
        == 50 * 4 - 1
    )


def test_thirty_bookings_on_a_four_credit_pack(
    scenario: Scenario, settings: Settings, clock: Clock
) -> None:
    clock.freeze(NOW)
    mentor = scenario.mentor(capacity=5, buffer=0)
    student = scenario.person()
    pack = scenario.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=1))
    # 30 distinct slots: Tue-Fri, 09:00-16:00 hourly (8 a day)
    slots = [
        dt.datetime(2026, 11, day, hour, tzinfo=NY) for day in (3, 4, 5, 6) for hour in range(9, 17)
    ][:30]
    statuses = race(
        settings,
        "book_session",
        [(student, {"pack_id": str(pack), "starts_at": s.isoformat()}) for s in slots],
    )
    assert statuses == Counter({200: 4, 409: 26})
    assert (
        scenario.one(
            "select count(*) from public.sessions where pack_id = %s and status = 'scheduled'", pack
        )
        == 4
    )
    assert (
        scenario.one("select remaining_sessions from public.session_packs where id = %s", pack) == 0
    )
