"""The browser flows' fixtures: the dashboards served by the test stack (its own port,
MENTORSHIPS_TEST_PORTS + 11) and one headless Chromium for the module (testing.browser)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from mentorships.settings import Settings
from mentorships.stack import Dashboards, Stack
from testing.browser import launch


@pytest.fixture(scope="session")
def served(settings: Settings, stack: Stack) -> Iterator[Dashboards]:
    dashboards = Dashboards(settings.model_copy(update={"dashboards": True}))
    dashboards.stop()  # a leftover of an interrupted run
    dashboards.start()
    try:
        yield dashboards
    finally:
        dashboards.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()
