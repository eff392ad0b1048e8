"""The world the mentor's dashboard tests share: a New York mentor with two students (one with
sessions past and future, one down to their last session), and another mentor with a student and
a session of their own that the first must never see. The clock is frozen at NOW."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from testing.clock import Clock
from testing.factories import Scenario, booked_session

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
# Monday 2026-11-02 12:00 UTC, 07:00 in New York.
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def ny(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=NY)


@dataclass(frozen=True)
class MentorWorld:
    mentor: uuid.UUID
    student: uuid.UUID
    pack: uuid.UUID
    past: uuid.UUID  # Fri 30 Oct 10:00 New York, still scheduled: to close
    future: uuid.UUID  # Wed 4 Nov 10:00 New York
    last_one: uuid.UUID  # a student with one session left and none booked
    other_mentor: uuid.UUID
    other_student: uuid.UUID
    other_session: uuid.UUID

    def name(self, person: uuid.UUID) -> str:
        return f"student {str(person)[:8]}"


def mentor_world(scenario: Scenario, clock: Clock) -> MentorWorld:
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York", capacity=5)
    student = scenario.person("student", "Asia/Tokyo")
    pack = scenario.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=10))
    past = booked_session(
        scenario.conn,
        pack=pack,
        mentor=mentor,
        student=student,
        starts=dt.datetime(2026, 10, 30, 10, 0, tzinfo=NY),
    )
    future = booked_session(
        scenario.conn, pack=pack, mentor=mentor, student=student, starts=ny(4, 10)
    )
    last_one = scenario.person("student", "Europe/Paris")
    scenario.pack(mentor, last_one, sessions=1, purchased_at=NOW - dt.timedelta(days=3))
    other_mentor = scenario.mentor("Europe/Berlin")
    other_student = scenario.person("student")
    other_pack = scenario.pack(other_mentor, other_student, purchased_at=NOW - dt.timedelta(days=5))
    other_session = booked_session(
        scenario.conn,
        pack=other_pack,
        mentor=other_mentor,
        student=other_student,
        starts=ny(3, 9),
    )
    return MentorWorld(
        mentor, student, pack, past, future, last_one, other_mentor, other_student, other_session
    )
