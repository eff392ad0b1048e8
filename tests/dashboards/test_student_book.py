"""Book a session: the mentors of the student's live packs, a week of free slots in the student's
zone with the mentor's beside, the week navigator, a slot booked (the session and its credit in
the database), and a refused booking's message shown."""

from __future__ import annotations

import datetime as dt

import psycopg

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import texts
from testing.dashboards_student import FIRST_SLOT, NOW, mentor_name, page, student_world
from testing.factories import Scenario, booked_session

TUESDAY = "Tue 5 Jan 2027"


def slots_table(at: object) -> list[dict[str, str]]:
    frame = at.dataframe[0].value  # type: ignore[attr-defined]
    rows: list[dict[str, str]] = frame.to_dict("records")
    return rows


def test_week_of_slots_in_my_zone_and_navigator(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock
) -> None:
    w = student_world(scenario, clock)
    # A mentor the student has no live pack with is not offered.
    stranger = scenario.mentor()
    at = page(w.student, "student_book.py")
    mentors = at.selectbox(key="book_mentor")
    assert mentors.options == [f"{mentor_name(scenario, w.mentor)} (4 sessions left)"]
    assert str(stranger) not in str(mentors.options)
    text = texts(at)
    assert "Week of Mon 4 Jan 2027 to Sun 10 Jan 2027" in text
    assert (
        "Your times in Europe/Berlin" in text and "the mentor's times in America/New_York" in text
    )
    rows = slots_table(at)
    # Monday's slots are inside the 12 h notice; Tuesday to Friday, 09:00-16:00 in New York, are
    # 15:00-22:00 in Berlin; each cell shows the mentor's day and time.
    assert list(rows[0]) == [
        "Your time (Europe/Berlin)", TUESDAY, "Wed 6 Jan 2027", "Thu 7 Jan 2027", "Fri 8 Jan 2027"
    ]  # fmt: skip
    assert [r["Your time (Europe/Berlin)"] for r in rows][:3] == ["15:00", "15:30", "16:00"]
    assert rows[-1]["Your time (Europe/Berlin)"] == "22:00" and len(rows) == 15
    assert rows[0][TUESDAY] == "Tue 09:00" and rows[-1]["Fri 8 Jan 2027"] == "Fri 16:00"
    assert at.button(key="book_prev").disabled

    at.button(key="book_next").click().run()
    assert not at.exception, at.exception
    assert "Week of Mon 11 Jan 2027 to Sun 17 Jan 2027" in texts(at)
    rows = slots_table(at)
    assert list(rows[0])[1] == "Mon 11 Jan 2027"
    at.button(key="book_prev").click().run()
    assert "Week of Mon 4 Jan 2027" in texts(at)


def test_book_a_slot_shown_on_the_page(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    at = page(w.student, "student_book.py")
    at.pills(key="book_day_0").set_value(TUESDAY).run()
    times = at.pills(key=f"book_slot_0_{TUESDAY}")
    assert times.options[0] == "15:00 (09:00 theirs)"
    slot = FIRST_SLOT + dt.timedelta(hours=1)  # 16:00 in Berlin
    times.set_value(slot.isoformat()).run()
    assert not at.exception, at.exception
    assert "Tue 5 Jan 2027, 16:00 CET (Europe/Berlin) to 17:00" in texts(at)
    assert "Uses 1 of the 4 session(s) left" in texts(at)
    at.button(key="book_confirm").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == [
        f"Booked with {mentor_name(scenario, w.mentor)}: Tue 5 Jan 2027, 16:00 CET (Europe/Berlin)."
    ]
    row = conn.execute(
        "select pack_id, status::text, starts_at from public.sessions where student_id = %s",
        (w.student,),
    ).fetchall()
    assert row == [(w.pack, "scheduled", slot)]
    left = scenario.one("select remaining_sessions from public.session_packs where id = %s", w.pack)
    assert left == 3
    # The slot is gone from the week now (and the hour around it, the mentor's buffer).
    rows = {r["Your time (Europe/Berlin)"]: r[TUESDAY] for r in slots_table(at)}
    assert rows["16:00"] == "" and rows["15:00"] == "" and rows["17:30"] == "Tue 11:30"


def test_refused_booking_shows_its_message(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    at = page(w.student, "student_book.py")
    at.pills(key="book_day_0").set_value(TUESDAY).run()
    at.pills(key=f"book_slot_0_{TUESDAY}").set_value(FIRST_SLOT.isoformat()).run()
    # Meanwhile another student of the mentor takes that slot.
    other = scenario.person("student")
    other_pack = scenario.pack(w.mentor, other, purchased_at=NOW - dt.timedelta(days=1))
    booked_session(conn=conn, pack=other_pack, mentor=w.mentor, student=other, starts=FIRST_SLOT)
    at.button(key="book_confirm").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Not booked: "), errors
    assert "taken" in errors[0] or "busy" in errors[0], errors
    count = scenario.one("select count(*) from public.sessions where student_id = %s", w.student)
    assert count == 0
    assert (
        scenario.one("select remaining_sessions from public.session_packs where id = %s", w.pack)
        == 4
    )


def test_no_live_pack_says_what_to_do(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock, sessions=1)
    booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student, starts=FIRST_SLOT)
    at = page(w.student, "student_book.py")
    assert "You have no sessions left to book" in texts(at)
    assert not at.selectbox
