"""The call page's fixtures: one headless Chromium for the module's tests (testing.browser), a
fresh context per test, and a session booked into an open call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from testing.booking import NOW, ny
from testing.browser import AGORA_RECORDER, launch
from testing.clock import Clock
from testing.factories import Scenario, booked_session

STARTS = ny(3, 9)  # a Tuesday, 09:00 in New York


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (no sessionStorage) in Berlin, in British English, with Agora's network
    edge recorded (testing.browser.AGORA_RECORDER)."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    context.add_init_script(AGORA_RECORDER)
    yield context
    context.close()


@pytest.fixture
def call(scenario: Scenario, clock: Clock, conn: psycopg.Connection) -> dict[str, Any]:
    """A New York mentor, a Tokyo student with a pack, and their session at STARTS (booked with
    testing.factories.booked_session); the database clock at NOW, before the call opens."""
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    student = scenario.person("student", "Asia/Tokyo")
    pack = scenario.pack(mentor, student, purchased_at=NOW - dt.timedelta(days=7))
    session = booked_session(conn, pack=pack, mentor=mentor, student=student, starts=STARTS)
    channel = scenario.one("select video_channel from public.sessions where id = %s", session)
    return {
        "mentor": mentor,
        "student": student,
        "session": str(session),
        "channel": channel,
    }
