"""A student's world for the dashboards' tests: the clock frozen on a Monday in January 2027 (no
clock change near), a mentor in New York (Mon-Fri 09-17 there, 12 h notice, 60 days horizon), a
student in Berlin with a pack from them, and a helper to open a page signed in as someone.

    w = student_world(scenario, clock)
    at = page(w.student, "student_book.py")
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from streamlit.testing.v1 import AppTest

from testing.clock import Clock
from testing.dashboards import app, open_page
from testing.factories import Scenario

UTC = dt.UTC
# Monday 4 January 2027, 12:00 UTC: 07:00 in New York (EST), 13:00 in Berlin (CET).
NOW = dt.datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
# The first slot the mentor offers: Tuesday 5 January 09:00 EST = 14:00 UTC = 15:00 CET (Monday's
# slots are all inside the 12 h notice).
FIRST_SLOT = dt.datetime(2027, 1, 5, 14, 0, tzinfo=UTC)


@dataclass
class StudentWorld:
    mentor: uuid.UUID
    student: uuid.UUID
    pack: uuid.UUID


def student_world(
    scenario: Scenario, clock: Clock, *, sessions: int = 4, discord: bool = False
) -> StudentWorld:
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    scenario.conn.execute(
        "update public.mentors set public_name = %s where id = %s",
        (f"Mentor {str(mentor)[:6]}", mentor),
    )
    student = scenario.person("student", "Europe/Berlin", discord=discord)
    pack = scenario.pack(
        mentor, student, sessions=sessions, purchased_at=NOW - dt.timedelta(days=1)
    )
    return StudentWorld(mentor, student, pack)


def mentor_name(scenario: Scenario, mentor: uuid.UUID) -> str:
    name: str = scenario.one("select public_name from public.mentors where id = %s", mentor)
    return name


def page(person: uuid.UUID, file: str) -> AppTest:
    """The app signed in as `person`, on one of the pages, run."""
    at = app(person).run()
    assert not at.exception, at.exception
    at = open_page(at, file)
    assert not at.exception, at.exception
    return at
