"""What the booking rule tests (tests/sql/rules/booking/) share: a fixed instant, New York
wall-clock times, and the booked world (a New York mentor, a Tokyo student with a pack)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from testing.clock import Clock
from testing.factories import Scenario

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
# Monday 2026-11-02 12:00 UTC (07:00 in New York, standard time since the day before).
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def ny(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A New York wall-clock time in November 2026, as an aware datetime."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=NY)


def booked_world(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A New York mentor (Mon-Fri 09-17, 60-min slots on a 30-min grid, 15-min buffer, 12 h notice),
    a Tokyo student with a 4-session pack bought a week ago; the clock frozen at NOW."""
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    student = scenario.person("student", "Asia/Tokyo", discord=True)
    pack = scenario.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=7))
    return {"mentor": mentor, "student": student, "pack": pack}
