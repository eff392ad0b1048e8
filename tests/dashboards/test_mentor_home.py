"""The mentor's Overview (dashboards/views/mentor_home.py) against the test stack: the numbers,
their own students only (with sessions left and the last session), the one-session-left list and
the next sessions with a link to join the call."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario, booked_session
from testing.mentor_pages import MentorWorld, mentor_world, ny

PAGE = "mentor_home.py"


@pytest.fixture
def world(scenario: Scenario, clock: Clock) -> MentorWorld:
    return mentor_world(scenario, clock)


def metrics(at: object) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}  # type: ignore[attr-defined]


def test_the_numbers(
    dashboards: DashboardSettings,
    world: MentorWorld,
    scenario: Scenario,
    conn: psycopg.Connection,
) -> None:
    # one more this month, completed (Mon 2 Nov 06:00 New York, before NOW)
    done = booked_session(
        conn, pack=world.pack, mentor=world.mentor, student=world.student, starts=ny(2, 6)
    )
    conn.execute(
        "update public.sessions set status = 'completed', completed_at = %s where id = %s",
        (ny(2, 7), done),
    )
    at = open_page(app(world.mentor), PAGE)
    assert not at.exception, at.exception
    assert metrics(at) == {
        "Active students": "2",
        "Free seats": "3 of 5",
        "Upcoming sessions": "1",
        # November in New York: the completed one and the upcoming one (the past one is October's)
        "Sessions in November": "2",
        "Completed in November": "1",
    }
    assert "1 session(s) to close." in texts(at)


def test_own_students_only_with_sessions_left_and_renewal(
    dashboards: DashboardSettings, world: MentorWorld
) -> None:
    at = open_page(app(world.mentor), PAGE)
    table = at.dataframe[0].value
    assert set(table["Student"]) == {world.name(world.student), world.name(world.last_one)}
    row = table[table["Student"] == world.name(world.student)].iloc[0]
    # 4 bought, two booked
    assert row["Sessions left"] == 2
    assert row["Next session (America/New_York)"] == "Wed 4 Nov 2026, 10:00"
    assert row["Seat"] == "active"
    assert world.name(world.other_student) not in texts(at)
    # the one-session-left list names the student down to their last session, and only them
    renew = [m.value for m in at.markdown if "has one session left" in m.value]
    assert renew == [
        f"**{world.name(world.last_one)}** has one session left and none booked: a good moment "
        "to suggest a new pack."
    ]


def test_next_sessions_link_to_the_call_page(
    dashboards: DashboardSettings, world: MentorWorld
) -> None:
    at = open_page(app(world.mentor), PAGE)
    assert "Wed 4 Nov 2026, 10:00 EST (America/New_York)" in texts(at)
    signed = at.session_state["signed_in"]
    links = [e.proto.url for e in at.get("link_button")]
    assert links == [
        f"{dashboards.dashboards_services_url}/video/{world.future}"
        f"#access_token={signed.access_token}"
    ]


def test_a_new_mentor_is_told_what_to_do(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock
) -> None:
    clock.freeze(dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC))
    at = open_page(app(scenario.mentor()), PAGE)
    assert not at.exception, at.exception
    assert "No students yet" in texts(at) and "No upcoming sessions." in texts(at)
    assert metrics(at)["Free seats"] == "5 of 5"
