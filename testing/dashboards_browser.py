"""The dashboards in a real browser: Debian's chromium (Playwright, never a downloaded browser)
against the app the stack serves (`Dashboards`), signed in through the local sign-in page as a
person would, and the page's render awaited as Streamlit reports it.

    page = open_app(browser, dashboards.address)
    sign_in(page, "student", email)
    go(page, "Book a session")       # a sidebar link; waits until the page has rendered
    shoot(page, "student-booked")    # a screenshot in the test run's output folder
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from mentorships.settings import PROJECT_DIR

RENDER_TIMEOUT_MS = 30_000
# Streamlit marks its app with the script's state: "running" while a page's script runs.
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def output_dir() -> Path:
    """Where the browser tests put their screenshots (not committed): MENTORSHIPS_TEST_OUTPUT, or
    .local/test-output/."""
    base = os.environ.get("MENTORSHIPS_TEST_OUTPUT") or str(PROJECT_DIR / ".local" / "test-output")
    path = Path(base) / "dashboards"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_app(browser: Browser, address: str, zone: str = "Europe/Berlin") -> Page:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="en-GB", timezone_id=zone
    )
    page = context.new_page()
    page.set_default_timeout(RENDER_TIMEOUT_MS)
    page.goto(address + "/")
    settled(page)
    return page


def settled(page: Page) -> None:
    """Waits until the page's script has finished and nothing on it is stale."""
    page.wait_for_selector(IDLE, state="attached")
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')", timeout=RENDER_TIMEOUT_MS
    )


def sign_in(page: Page, role: str, email: str) -> None:
    """Local sign-in: the role, the account found by its email, the button."""
    page.get_by_test_id("stRadio").get_by_text(role, exact=True).click()
    settled(page)
    search = page.get_by_label("Search by email or name")
    search.fill(email)
    search.press("Enter")
    settled(page)
    expect(page.get_by_role("combobox", name="Account")).to_have_value(re.compile(re.escape(email)))
    page.get_by_role("button", name="Sign in").click()
    settled(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Sign out")


def go(page: Page, title: str) -> None:
    """Opens a page by its sidebar link and waits for its render."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.wait_for_url(re.compile(".*"))
    settled(page)


def shoot(page: Page, name: str) -> Path:
    path = output_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
