"""The dashboards as the stack serves them: started, healthy in `status`, stopped; a person signs
in through the local sign-in page in Chromium and lands on their role's first page."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from mentorships.settings import Settings
from mentorships.stack import Dashboards, Stack
from testing.dashboards_browser import open_app, shoot, sign_in
from testing.factories import Scenario


def test_status_reports_the_dashboards(settings: Settings, served: Dashboards) -> None:
    rows = Stack(settings.model_copy(update={"dashboards": True})).status()
    row = next(r for r in rows if r.name == "dashboards")
    assert row.healthy and row.address == f"{served.address}/"
    assert "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY" not in served.env_file.read_text()
    assert f"pid {served.pid()}" in row.detail
    assert not [r for r in Stack(settings).status() if r.name == "dashboards"]


def test_sign_in_in_the_browser(browser: Browser, served: Dashboards, scenario: Scenario) -> None:
    mentor = scenario.mentor("Asia/Tokyo")
    page = open_app(browser, served.address)
    expect(page.get_by_text("Local sign-in")).to_be_visible()
    sign_in(page, "mentor", f"{mentor}@scenario.test")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("mentor · Asia/Tokyo")
    shoot(page, "signed-in-mentor")
    page.context.close()
