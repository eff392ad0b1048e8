"""The mentor's week (dashboards/views/mentor_week.py): sessions and working hours on the week's
grid in the mentor's zone, and the week navigator."""

from __future__ import annotations

import pytest

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario
from testing.mentor_pages import MentorWorld, mentor_world

PAGE = "mentor_week.py"


@pytest.fixture
def world(scenario: Scenario, clock: Clock) -> MentorWorld:
    return mentor_world(scenario, clock)


def test_a_session_at_its_local_time_among_working_hours(
    dashboards: DashboardSettings, world: MentorWorld
) -> None:
    at = open_page(app(world.mentor), PAGE)
    assert not at.exception, at.exception
    grid = at.dataframe[0].value
    assert list(grid.columns)[:3] == ["Mon 2 Nov", "Tue 3 Nov", "Wed 4 Nov"]
    name = world.name(world.student)
    # 15:00 UTC is 10:00 in New York (standard time since 1 Nov)
    assert grid.loc["10:00", "Wed 4 Nov"] == f"10:00 {name}"
    assert grid.loc["09:00", "Wed 4 Nov"] == "working"
    assert grid.loc["10:00", "Tue 3 Nov"] == "working"
    assert grid.loc["10:00", "Sat 7 Nov"] == ""
    assert f"Wed 4 Nov, 10:00-11:00 EST · {name} · scheduled" in texts(at)
    assert world.name(world.other_student) not in texts(at)


def test_the_navigator_moves_by_weeks(dashboards: DashboardSettings, world: MentorWorld) -> None:
    at = open_page(app(world.mentor), PAGE)
    at.button(key="week_next").click().run()
    assert "Mon 9 Nov 2026" in texts(at) and "No sessions this week." in texts(at)
    at.button(key="week_prev").click().run()
    at.button(key="week_prev").click().run()
    # the week of Fri 30 Oct (daylight time then): the past session at 10:00 New York
    assert "Fri 30 Oct, 10:00-11:00 EDT" in texts(at)
    at.button(key="week_this").click().run()
    assert "Wed 4 Nov, 10:00-11:00 EST" in texts(at)
