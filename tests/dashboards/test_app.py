"""The app's frame: signed out, the sign-in page; local sign-in lists the stack's accounts and
signs one in; each role gets its own pages."""

from __future__ import annotations

import pytest

from dashboards.settings import DashboardSettings
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario


def test_signed_out_sees_local_sign_in(dashboards: DashboardSettings, scenario: Scenario) -> None:
    mentor = scenario.mentor()
    at = app().run()
    assert not at.exception
    assert "Local sign-in" in texts(at)
    at.radio(key="role").set_value("mentor").run()
    at.text_input(key="account_search").input(f"{mentor}@").run()
    labels = at.selectbox(key="account").options
    assert labels and all("(mentor)" in label for label in labels)
    assert any(f"{mentor}@scenario.test" in label for label in labels)
    at.selectbox(key="account").set_value(
        next(label for label in labels if str(mentor) in label)
    ).run()
    at.button(key="local_sign_in").click().run()
    assert not at.exception
    signed = at.session_state["signed_in"]
    assert signed.user_id == str(mentor) and signed.role == "mentor"
    assert signed.zone == "America/New_York"


def test_local_sign_in_search_finds_nobody(
    dashboards: DashboardSettings, scenario: Scenario
) -> None:
    at = app().run()
    at.text_input(key="account_search").input("no-such-person-anywhere").run()
    assert "No student account matches" in texts(at)
    assert not at.selectbox


def test_each_role_its_pages(dashboards: DashboardSettings, scenario: Scenario) -> None:
    """Each role lands on its first page and its sidebar lists its own pages, not another's."""
    for role, title in (
        ("student", "My mentors"),
        ("mentor", "Overview"),
        ("admin", "Instructors"),
    ):
        person = scenario.mentor() if role == "mentor" else scenario.person(role)
        at = app(person).run()
        assert not at.exception, at.exception
        assert at.session_state["signed_in"].role == role
        assert [t.value for t in at.title] == [title]
        # a page of another role is not in this role's navigation
        other = {
            "student": "admin_reports.py",
            "mentor": "student_book.py",
            "admin": "mentor_week.py",
        }
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            open_page(at, other[role])
        assert [t.value for t in open_page(at, "account.py").title] == ["My account"]
