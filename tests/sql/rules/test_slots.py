"""private.slot_fits is the one rule of what a slot is; the availability listing
(private.working_slots) must be exactly the instants it accepts. Checked for random zones
(DST, half-hour and 45-minute offsets), working windows, grids and ranges around DST changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from mentorships.settings import Settings
from tests.scenario import Scenario

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
    "Pacific/Chatham",
    "UTC",
    "Europe/Berlin",
]
# Days with a DST change in at least one of the zones, and one without.
DAYS = [
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 29),
    dt.date(2026, 4, 5),
    dt.date(2026, 9, 27),
    dt.date(2026, 10, 4),
    dt.date(2026, 10, 25),
    dt.date(2026, 11, 1),
    dt.date(2026, 6, 17),
]


@st.composite
def windows(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for weekday in draw(st.sets(st.integers(1, 7), min_size=1, max_size=7)):
        start = draw(st.integers(0, 22 * 4)) * 15
        end = draw(st.integers(start // 15 + 1, 24 * 4)) * 15
        out.append(
            {
                "weekday": weekday,
                "start": f"{start // 60:02d}:{start % 60:02d}",
                "end": "24:00" if end == 1440 else f"{end // 60:02d}:{end % 60:02d}",
            }
        )
    return out


@pytest.fixture(scope="module")
def tx(stack: object, settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.dsn()) as conn:
        try:
            yield conn
        finally:
            conn.rollback()


@given(
    zone=st.sampled_from(ZONES),
    hours=windows(),
    grid=st.sampled_from([5, 15, 20, 30, 60]),
    slot=st.sampled_from([15, 30, 45, 60, 90, 120]),
    day=st.sampled_from(DAYS),
    offset_h=st.integers(-12, 12),
)
@example(
    zone="Europe/London",
    hours=[{"weekday": 7, "start": "00:00", "end": "04:00"}],
    grid=60,
    slot=60,
    day=dt.date(2026, 3, 29),
    offset_h=-6,
)  # spring forward: local 01:xx does not exist
@example(
    zone="America/New_York",
    hours=[{"weekday": 7, "start": "00:00", "end": "04:00"}],
    grid=30,
    slot=60,
    day=dt.date(2026, 11, 1),
    offset_h=0,
)  # fall back: local 01:xx happens twice
@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_listing_is_exactly_what_the_rule_accepts(
    tx: psycopg.Connection,
    settings: Settings,
    zone: str,
    hours: list[dict[str, Any]],
    grid: int,
    slot: int,
    day: dt.date,
    offset_h: int,
) -> None:
    frm = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(hours=offset_h)
    to = frm + dt.timedelta(hours=36)
    with tx.transaction(force_rollback=True):
        mentor = Scenario(tx, settings).mentor(zone, working_hours=hours, slot=slot, grid=grid)
        tx.execute(
            "update public.mentors set working_hours = %s where id = %s", (Jsonb(hours), mentor)
        )
        listed, accepted = tx.execute(
            """
            select array(select s.starts_at from public.mentors m, private.working_slots(m, %(frm)s, %(to)s) s
                          where m.id = %(id)s),
                   array(select t from public.mentors m, generate_series(%(frm)s, %(to)s - interval '1 minute',
                                                                         interval '1 minute') t
                          where m.id = %(id)s and private.slot_fits(m, t) order by t)
            """,
            {"frm": frm, "to": to, "id": mentor},
        ).fetchone()  # type: ignore[misc]
    assert listed == accepted
