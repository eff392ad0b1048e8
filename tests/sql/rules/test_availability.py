"""mentor_availability (sql/rules/availability.sql) over the gateway: ranges that start or end
inside a slot, sessions and calendar busy times outside the asked range that still take slots
inside it, touching edges, canceled sessions, and a long range that equals its pieces (cut at
local midnights and anywhere else, across a DST change)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from testing.api import Api, ok
from testing.clock import Clock
from testing.factories import Scenario

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
# Monday 2026-11-02 12:00 UTC (07:00 in New York, standard time since the day before).
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def ny(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    """A New York wall-clock time in 2026, as an aware datetime."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=NY)


def starts(api: Api, mentor: object, frm: dt.datetime, to: dt.datetime) -> list[dt.datetime]:
    slots = ok(api.rpc("mentor_availability", mentor_id=mentor, from_at=frm, to_at=to))
    return [dt.datetime.fromisoformat(s["starts_at"]) for s in slots]


@pytest.fixture
def mentor(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A New York mentor (Mon-Fri 09-17, 60-min slots on a 30-min grid, 15-min buffer, 12 h notice)
    and a student with a pack."""
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    student = scenario.person("student")
    pack = scenario.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=7))
    return {"mentor": mentor, "student": student, "pack": pack}


def test_a_range_that_starts_or_ends_inside_a_slot(
    scenario: Scenario, mentor: dict[str, Any]
) -> None:
    """Slots that start in [from_at, to_at): a slot may end after to_at, and one that started
    before from_at is not listed."""
    anon, m = scenario.api(None), mentor["mentor"]
    assert starts(anon, m, ny(3, 9, 10), ny(3, 10, 40)) == [ny(3, 9, 30), ny(3, 10), ny(3, 10, 30)]
    assert starts(anon, m, ny(3, 9, 10), ny(3, 9, 25)) == []
    assert starts(anon, m, ny(3, 9, 30), ny(3, 9, 31)) == [ny(3, 9, 30)]
    assert starts(anon, m, ny(3, 16, 1), ny(3, 18)) == []  # 16:30 would end after 17:00
    assert starts(anon, m, ny(3, 15, 59), ny(3, 16, 1)) == [ny(3, 16)]


def test_sessions_and_busy_times_outside_the_range_take_slots_inside_it(
    scenario: Scenario, mentor: dict[str, Any]
) -> None:
    anon, m = scenario.api(None), mentor["mentor"]
    ok(
        scenario.api(mentor["student"]).rpc(
            "book_session", pack_id=mentor["pack"], starts_at=ny(3, 11)
        )
    )  # 11:00-12:00, the mentor busy until 12:15
    # the session starts after to_at, yet 10:00 (with its buffer until 11:15) runs into it
    assert starts(anon, m, ny(3, 9), ny(3, 10, 30)) == [ny(3, 9), ny(3, 9, 30)]
    # the session started before from_at, yet its buffer takes 12:00
    assert starts(anon, m, ny(3, 12), ny(3, 13)) == [ny(3, 12, 30)]
    # a calendar busy time from 14:15: 13:00 with its buffer ends exactly then and stays
    scenario.conn.execute(
        "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at) values (%s, %s, %s)",
        (m, ny(3, 14, 15), ny(3, 14, 45)),
    )
    assert starts(anon, m, ny(3, 13), ny(3, 13, 1)) == [ny(3, 13)]
    assert starts(anon, m, ny(3, 13, 30), ny(3, 14, 40)) == []
    assert starts(anon, m, ny(3, 14, 40), ny(3, 16)) == [ny(3, 15), ny(3, 15, 30)]
    # a busy time that began the day before and ends at 09:40 takes 09:00 and 09:30
    scenario.conn.execute(
        "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at) values (%s, %s, %s)",
        (m, ny(3, 20), ny(4, 9, 40)),
    )
    assert starts(anon, m, ny(4, 0), ny(4, 11)) == [ny(4, 10), ny(4, 10, 30)]
    # another mentor's session and busy time take nothing
    other = scenario.mentor("America/New_York")
    scenario.conn.execute(
        "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at) values (%s, %s, %s)",
        (other, ny(5, 9), ny(5, 17)),
    )
    assert len(starts(anon, m, ny(5, 0), ny(6, 0))) == 15


def test_canceled_sessions_free_their_slots(scenario: Scenario, mentor: dict[str, Any]) -> None:
    anon, m = scenario.api(None), mentor["mentor"]
    student = scenario.api(mentor["student"])
    before = starts(anon, m, ny(4, 0), ny(5, 0))
    session = ok(student.rpc("book_session", pack_id=mentor["pack"], starts_at=ny(4, 11)))
    taken = set(before) - set(starts(anon, m, ny(4, 0), ny(5, 0)))
    assert taken == {ny(4, 10), ny(4, 10, 30), ny(4, 11), ny(4, 11, 30), ny(4, 12)}
    ok(student.rpc("cancel_session", session_id=session["id"], reason="moved"))
    assert starts(anon, m, ny(4, 0), ny(5, 0)) == before


def test_four_weeks_equal_their_pieces_across_a_dst_change(
    scenario: Scenario, clock: Clock
) -> None:
    """Four weeks over New York's fall back (2026-11-01) with sessions and busy times: one request
    equals the same range asked day by day (local midnights) and in 17-hour pieces."""
    now = clock.freeze(dt.datetime(2026, 10, 19, 12, 0, tzinfo=UTC))
    m = scenario.mentor(
        "America/New_York",
        working_hours=[
            {"weekday": 7, "start": "00:00", "end": "04:00"},
            {"weekday": 1, "start": "09:00", "end": "12:00"},
            {"weekday": 1, "start": "13:00", "end": "17:30"},
            *({"weekday": d, "start": "08:00", "end": "20:00"} for d in range(2, 7)),
        ],
        slot=45,
        grid=30,  # under PostgREST's 1000 rows (db-max-rows) for the whole range
        buffer=10,
        notice=0,
    )
    student = scenario.person("student")
    pack = scenario.pack(m, student, sessions=8, purchased_at=now)
    # 01:00 EST on the Sunday of the change: the second pass of the repeated hour (the first,
    # 01:00 EDT, is no slot)
    for at in (ny(21, 9, month=10), dt.datetime(2026, 11, 1, 6, 0, tzinfo=UTC), ny(3, 19)):
        ok(scenario.api(student).rpc("book_session", pack_id=pack, starts_at=at))
    scenario.conn.execute(
        "insert into private.calendar_busy_intervals (mentor_id, starts_at, ends_at) values (%s, %s, %s), (%s, %s, %s)",
        (m, ny(23, 11, month=10), ny(24, 9, month=10), m, ny(6, 12), ny(6, 12, 5)),
    )
    anon = scenario.api(None)
    frm, to = ny(20, 0, month=10), ny(17, 0)  # 28 local days, 28 days and an hour of real time
    whole = starts(anon, m, frm, to)
    assert len(whole) > 500
    days = [frm + dt.timedelta(days=d) for d in range(29)]  # aware arithmetic: local midnights
    by_day = [s for a, b in itertools.pairwise(days) for s in starts(anon, m, a, b)]
    assert by_day == whole
    cuts = [frm + dt.timedelta(hours=17 * k) for k in range(40)] + [to]
    by_piece = [s for a, b in itertools.pairwise(cuts) for s in starts(anon, m, a, b)]
    assert by_piece == whole
    # the Sunday of the change: 00:00 EDT to 04:00 EST is five real hours; 01:00 and 01:30 EDT
    # (the first pass) are no slots, 01:00 EST is booked and takes 01:30 EST with it, the last
    # slot starts at 03:00 EST
    sunday = [s.astimezone(UTC) for s in whole if s.astimezone(NY).date() == dt.date(2026, 11, 1)]
    assert [f"{s:%H:%M}" for s in sunday] == ["04:00", "04:30", "07:00", "07:30", "08:00"]
