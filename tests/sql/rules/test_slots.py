"""private.slot_fits is the one rule of what a slot is; the availability listing
(private.working_slots, sql/rules/availability.sql) must be exactly the instants it accepts.
Checked for random zones (DST, half-hour and 45-minute offsets, clocks that change at midnight),
working windows, grids and ranges (any minute, 1 minute to 36 hours) around DST changes, and for
every 2026 clock change of those zones with windows that open or close inside the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from mentorships.settings import Settings
from testing.factories import Scenario

ZONES = [
    "America/New_York",
    "America/Santiago",  # falls back at midnight (00:00 -> 23:00 the day before)
    "Asia/Beirut",  # springs forward and falls back at midnight
    "America/Havana",  # springs forward at midnight
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
    dt.date(2026, 9, 6),
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
        # working_slots called on its own, outside mentor_availability (which plans it without
        # JIT): generate_series' default row estimates would have every query JIT-compiled.
        conn.execute("set jit = off")
        try:
            yield conn
        finally:
            conn.rollback()


# Listed (working_slots) and accepted (slot_fits, tried at every minute) starts of each mentor in
# [frm, to); the mentors are rows built from JSON, never stored.
LISTED_AND_ACCEPTED = """
    select c.label,
           array(select s.starts_at from private.working_slots(x.m, c.frm, c.to_) s),
           array(select t from generate_series(c.frm, c.to_ - interval '1 minute', interval '1 minute') t
                  where private.slot_fits(x.m, t) order by t)
      from jsonb_to_recordset(%s) as c (label text, mentor jsonb, frm timestamptz, to_ timestamptz)
     cross join lateral (select jsonb_populate_record(null::public.mentors, c.mentor) as m) x
"""


def listed_and_accepted(
    conn: psycopg.Connection, cases: list[dict[str, Any]]
) -> list[tuple[str, list[dt.datetime], list[dt.datetime]]]:
    """cases: {label, mentor: {time_zone, working_hours, slot_minutes, slot_grid_minutes}, frm, to_}."""
    rows = conn.execute(
        LISTED_AND_ACCEPTED,
        (Jsonb([{**c, "frm": c["frm"].isoformat(), "to_": c["to_"].isoformat()} for c in cases]),),
    ).fetchall()
    return [(str(label), list(listed), list(accepted)) for label, listed, accepted in rows]


@given(
    zone=st.sampled_from(ZONES),
    hours=windows(),
    grid=st.sampled_from([5, 15, 20, 30, 60]),
    slot=st.sampled_from([15, 30, 45, 60, 90, 120]),
    day=st.sampled_from(DAYS),
    offset_min=st.integers(-12 * 60, 12 * 60),
    length_min=st.integers(1, 36 * 60),
)
@example(
    zone="Europe/London",
    hours=[{"weekday": 7, "start": "00:00", "end": "04:00"}],
    grid=60,
    slot=60,
    day=dt.date(2026, 3, 29),
    offset_min=-360,
    length_min=36 * 60,
)  # spring forward: local 01:xx does not exist
@example(
    zone="America/New_York",
    hours=[{"weekday": 7, "start": "00:00", "end": "04:00"}],
    grid=30,
    slot=60,
    day=dt.date(2026, 11, 1),
    offset_min=0,
    length_min=36 * 60,
)  # fall back: local 01:xx happens twice
@example(
    zone="Europe/London",
    hours=[{"weekday": 7, "start": "00:00", "end": "01:30"}],
    grid=5,
    slot=15,
    day=dt.date(2026, 3, 29),
    offset_min=-60,
    length_min=6 * 60,
)  # the window ends at 01:30, which does not exist: Postgres reads it as 02:30 BST (01:30Z), so
# slots start until 02:15 BST (the listing before availability.sql stopped at 00:55)
@example(
    zone="America/New_York",
    hours=[{"weekday": 7, "start": "00:00", "end": "01:30"}],
    grid=15,
    slot=90,
    day=dt.date(2026, 11, 1),
    offset_min=0,
    length_min=12 * 60,
)  # the window ends in the repeated hour, read as its second pass (01:30 EST): slots start until
# 00:45 EDT, later than end minus slot length in wall time (the old listing stopped at 00:00)
@example(
    zone="America/Santiago",
    hours=[{"weekday": 6, "start": "22:00", "end": "24:00"}],
    grid=30,
    slot=30,
    day=dt.date(2026, 4, 5),
    offset_min=-12 * 60,
    length_min=24 * 60,
)  # falls back at midnight: the window's end (24:00 Saturday) is read as 00:00 Sunday, 23:00 twice
@example(
    zone="America/New_York",
    hours=[{"weekday": 3, "start": "09:00", "end": "17:00"}],
    grid=30,
    slot=60,
    day=dt.date(2026, 6, 17),
    offset_min=13 * 60 + 10,
    length_min=15,
)  # 15 minutes from 09:10 New York: no slot (the next starts at 09:30)
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
    offset_min: int,
    length_min: int,
) -> None:
    frm = dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(minutes=offset_min)
    to = frm + dt.timedelta(minutes=length_min)
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


def clock_changes(zone: str, year: int) -> list[dt.datetime]:
    """The instants the zone's UTC offset changes in the year (found at 15-minute steps)."""
    tz = ZoneInfo(zone)
    t = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    changes = []
    while t.year == year:
        nxt = t + dt.timedelta(minutes=15)
        if nxt.astimezone(tz).utcoffset() != t.astimezone(tz).utcoffset():
            changes.append(nxt)
        t = nxt
    return changes


# Windows, every day of the week, that open or close inside a change somewhere in ZONES, span it,
# or end at midnight, with a grid and slot length each that fit them differently.
EDGE_WINDOWS = [("00:00", "24:00"), ("00:00", "01:30"), ("00:30", "02:30"), ("01:15", "03:45"),
                ("22:30", "24:00")]  # fmt: skip
EDGE_GRIDS = [(15, 60), (5, 90)]  # (grid, slot)


def test_windows_around_every_clock_change(tx: psycopg.Connection) -> None:
    """Every 2026 clock change of ZONES (at 01:00, 02:00, 02:45 local, at midnight, by 30 minutes),
    12 hours either side, for windows that open or close inside it: listed = accepted."""
    cases = [
        {
            "label": f"{zone} {change:%m-%d %H:%MZ} {opens}-{closes} grid {grid} slot {slot}",
            "mentor": {
                "time_zone": zone,
                "working_hours": [
                    {"weekday": d, "start": opens, "end": closes} for d in range(1, 8)
                ],
                "slot_minutes": slot,
                "slot_grid_minutes": grid,
            },
            "frm": change - dt.timedelta(hours=12),
            "to_": change + dt.timedelta(hours=12),
        }
        for zone in ZONES
        for change in clock_changes(zone, 2026)
        for opens, closes in EDGE_WINDOWS
        for grid, slot in EDGE_GRIDS
    ]
    assert len(cases) >= 9 * 2 * len(EDGE_WINDOWS) * len(EDGE_GRIDS)
    with tx.transaction(force_rollback=True):
        results = listed_and_accepted(tx, cases)
    assert [label for label, listed, accepted in results if listed != accepted] == []
    assert sum(len(accepted) for _, _, accepted in results) > 1000  # not vacuously equal
