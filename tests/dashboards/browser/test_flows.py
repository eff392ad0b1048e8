"""One whole flow per role in Chromium, against the dashboards the test stack serves, signed in
through the local sign-in page: the student books a slot, sees it upcoming and cancels it; the
mentor completes a past session; the admin adjusts a pack and downloads the CSV, whose rows are
checked. Each step leaves a screenshot in the test output folder (.local/test-output/dashboards/,
or MENTORSHIPS_TEST_OUTPUT)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import psycopg
from playwright.sync_api import Browser, Page, expect

from mentorships.stack import Dashboards
from testing.clock import Clock
from testing.dashboards_browser import go, open_app, settled, shoot, sign_in
from testing.dashboards_student import FIRST_SLOT, NOW, student_world
from testing.factories import Scenario, booked_session


def click(page: Page, name: str | re.Pattern[str]) -> None:
    page.get_by_role("button", name=name).first.click()
    settled(page)


def pill(page: Page, text: str | re.Pattern[str]) -> None:
    """A choice of an st.pills group (its buttons carry no button role)."""
    page.get_by_test_id("stButtonGroup").locator("button").filter(has_text=text).first.click()
    settled(page)


def test_student_books_sees_it_upcoming_and_cancels(
    browser: Browser, served: Dashboards, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    page = open_app(browser, served.address, zone="Europe/Berlin")
    sign_in(page, "student", f"{w.student}@scenario.test")
    expect(page.get_by_text("4 of 4 sessions left")).to_be_visible()
    shoot(page, "student-1-my-mentors")

    go(page, "Book a session")
    shoot(page, "student-2-book")
    pill(page, "Tue 5 Jan 2027 (15)")
    pill(page, "15:00 (09:00 theirs)")
    expect(page.get_by_text("Tue 5 Jan 2027, 15:00 CET (Europe/Berlin)").first).to_be_visible()
    shoot(page, "student-2-slot-picked")
    click(page, "Book this session")
    expect(page.get_by_text("Booked", exact=False).first).to_be_visible()
    shoot(page, "student-3-booked")
    session = conn.execute(
        "select id, status from public.sessions where student_id = %s", (w.student,)
    ).fetchall()
    assert len(session) == 1 and session[0][1] == "scheduled"
    assert (
        scenario.one("select starts_at from public.sessions where student_id = %s", w.student)
        == FIRST_SLOT
    )

    go(page, "My sessions")
    expect(page.get_by_text("Tue 5 Jan 2027, 15:00").first).to_be_visible()
    shoot(page, "student-4-upcoming")
    click(page, "Cancel")
    expect(page.get_by_text("credit", exact=False).first).to_be_visible()
    shoot(page, "student-5-cancel-terms")
    page.get_by_label("Reason (optional, your mentor sees it)").fill("Something came up")
    click(page, "Yes, cancel the session")
    shoot(page, "student-6-canceled")
    row = conn.execute(
        "select s.status, s.cancel_reason, p.remaining_sessions from public.sessions s"
        " join public.session_packs p on p.id = s.pack_id where s.student_id = %s",
        (w.student,),
    ).fetchone()
    assert row == ("canceled", "Something came up", 4)  # a day ahead: the credit is back
    page.context.close()


def test_mentor_completes_a_past_session(
    browser: Browser, served: Dashboards, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    held = NOW - dt.timedelta(days=1)  # Sunday 3 January, 12:00 UTC: yesterday
    session = booked_session(conn, pack=w.pack, mentor=w.mentor, student=w.student, starts=held)
    page = open_app(browser, served.address, zone="America/New_York")
    sign_in(page, "mentor", f"{w.mentor}@scenario.test")
    go(page, "Sessions")
    expect(page.get_by_text("To close (1)")).to_be_visible()
    shoot(page, "mentor-1-to-close")
    page.get_by_label("Notes (the student sees them)").fill("Gesture drawing: keep the line loose.")
    page.get_by_label("Recording link (https://…)").fill("https://video.example.com/rec/42")
    click(page, "Mark completed")
    expect(page.get_by_text("Completed the session of").first).to_be_visible()
    expect(page.get_by_text("To close (0)")).to_be_visible()
    shoot(page, "mentor-2-completed")
    row = conn.execute(
        "select status, notes, recording_url from public.sessions where id = %s", (session,)
    ).fetchone()
    assert row == (
        "completed",
        "Gesture drawing: keep the line loose.",
        "https://video.example.com/rec/42",
    )
    page.context.close()


def test_admin_adjusts_a_pack_and_downloads_the_csv(
    browser: Browser, served: Dashboards, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    name = f'Ana "Pinsel", {str(w.student)[:6]}'
    conn.execute("update public.profiles set display_name = %s where id = %s", (name, w.student))
    booked_session(conn, pack=w.pack, mentor=w.mentor, student=w.student, starts=FIRST_SLOT)
    admin = scenario.person("admin", "Asia/Tokyo")
    page = open_app(browser, served.address, zone="Asia/Tokyo")
    sign_in(page, "admin", f"{admin}@scenario.test")
    go(page, "Pack adjustments")
    search = page.get_by_label("Find packs by student or mentor (name or email)")
    search.fill(str(w.student))
    search.press("Enter")
    settled(page)
    shoot(page, "admin-1-pack-found")
    page.get_by_label("Sessions to add (negative to remove)").fill("2")
    page.get_by_label("Reason").fill("Goodwill: the mentor was ill")
    click(page, "Adjust the pack")
    expect(page.get_by_text("Adjusted by +2: now 5 sessions left").first).to_be_visible()
    shoot(page, "admin-2-adjusted")
    assert (
        scenario.one("select remaining_sessions from public.session_packs where id = %s", w.pack)
        == 5
    )
    reason = scenario.one(
        "select reason from public.session_credit_ledger where pack_id = %s and kind = 'admin_adjustment'",
        w.pack,
    )
    assert reason == "Goodwill: the mentor was ill"

    go(page, "Instructors")
    click(page, "Prepare the CSV")
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile(r"^Download \d+ relationships? \(CSV\)")).click()
    shoot(page, "admin-3-csv")
    data = (download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: spreadsheets read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    mine = [r for r in rows if name in r.values()]
    assert len(mine) == 1, mine
    header = list(rows[0])
    assert any("(Asia/Tokyo)" in h for h in header), header
    assert "5" in mine[0].values()  # the sessions left after the adjustment
    page.context.close()
