"""The mentor's Sessions page (dashboards/views/mentor_sessions.py) against the test stack: only
their own sessions; closing a past one (completed with notes and a recording link, refused for one
that has not started, no-shows both ways); cancel after its terms; reschedule into a free slot;
a session the calendar sync flagged, resolved."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario, booked_session
from testing.mentor_pages import NOW, MentorWorld, mentor_world

PAGE = "mentor_sessions.py"


@pytest.fixture
def world(scenario: Scenario, clock: Clock) -> MentorWorld:
    return mentor_world(scenario, clock)


def remaining(conn: psycopg.Connection, world: MentorWorld) -> int:
    row = conn.execute(
        "select remaining_sessions from public.session_packs where id = %s", (world.pack,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def session(conn: psycopg.Connection, sid: object) -> tuple[object, ...]:
    row = conn.execute(
        "select status::text, notes, recording_url, starts_at from public.sessions where id = %s",
        (sid,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_the_mentor_sees_their_own_sessions_only(
    dashboards: DashboardSettings, world: MentorWorld
) -> None:
    at = open_page(app(world.mentor), PAGE)
    assert not at.exception, at.exception
    text = "\n".join([texts(at), *(e.label for e in at.expander)])
    assert "To close (1)" in text and "Upcoming (1)" in text
    # both in the mentor's zone, named
    assert "Fri 30 Oct 2026, 10:00 EDT (America/New_York)" in text
    assert "Wed 4 Nov 2026, 10:00 EST (America/New_York)" in text
    assert world.name(world.student) in text
    assert world.name(world.other_student) not in text
    history = at.dataframe[0].value
    assert len(history) == 2 and set(history["Student"]) == {world.name(world.student)}
    assert f"complete_{world.other_session}" not in [b.key for b in at.button]


def test_complete_a_past_session_with_notes_and_recording(
    dashboards: DashboardSettings, world: MentorWorld, conn: psycopg.Connection
) -> None:
    at = open_page(app(world.mentor), PAGE)
    at.text_area(key=f"complete_notes_{world.past}").set_value("Worked on values")
    at.text_input(key=f"complete_url_{world.past}").set_value("https://rec.example/1")
    at.button(key=f"complete_{world.past}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    status, notes, url, _ = session(conn, world.past)
    assert (status, notes, url) == ("completed", "Worked on values", "https://rec.example/1")
    assert "Completed the session of" in texts(at)
    assert "To close (0)" in texts(at)


def test_completing_a_session_not_started_is_refused_with_its_message(
    dashboards: DashboardSettings, world: MentorWorld, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(dt.datetime(2026, 11, 4, 15, 30, tzinfo=dt.UTC))  # the future one started
    at = open_page(app(world.mentor), PAGE)
    assert "To close (2)" in texts(at)
    clock.freeze(NOW)  # ... the page is older than the rules' clock: it has not started
    at.button(key=f"complete_{world.future}").click().run()
    assert any("the session has not started yet" in e.value for e in at.error)
    assert session(conn, world.future)[0] == "scheduled"


@pytest.mark.parametrize(("who", "credit_back"), [("student", 0), ("mentor", 1)])
def test_no_show_either_side(
    dashboards: DashboardSettings,
    world: MentorWorld,
    conn: psycopg.Connection,
    who: str,
    credit_back: int,
) -> None:
    before = remaining(conn, world)
    at = open_page(app(world.mentor), PAGE)
    at.button(key=f"noshow_{who}_{world.past}").click().run()
    assert ("uses the session" if who == "student" else "gives the student the session back") in (
        texts(at)
    )
    assert session(conn, world.past)[0] == "scheduled"  # nothing until confirmed
    at.button(key=f"noshow_confirm_{world.past}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert session(conn, world.past)[0] == f"{who}_no_show"
    assert remaining(conn, world) == before + credit_back


def test_cancel_shows_the_terms_then_cancels_with_the_credit_back(
    dashboards: DashboardSettings, world: MentorWorld, conn: psycopg.Connection
) -> None:
    before = remaining(conn, world)
    at = open_page(app(world.mentor), PAGE)
    at.button(key=f"cancel_{world.future}").click().run()
    assert "the student gets the session back on their pack" in texts(at)
    assert session(conn, world.future)[0] == "scheduled"
    at.text_input(key=f"cancel_reason_{world.future}").set_value("I am ill")
    at.button(key=f"cancel_confirm_{world.future}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert session(conn, world.future)[0] == "canceled"
    assert remaining(conn, world) == before + 1
    assert "Upcoming (0)" in texts(at)


def test_reschedule_into_a_free_slot(
    dashboards: DashboardSettings, world: MentorWorld, conn: psycopg.Connection
) -> None:
    at = open_page(app(world.mentor), PAGE)
    slot = at.selectbox(key=f"reschedule_slot_{world.future}")
    # the first free slot: Tuesday 09:00 in New York (12 h notice from Monday 07:00)
    assert dt.datetime.fromisoformat(str(slot.value)) == dt.datetime(
        2026, 11, 3, 14, 0, tzinfo=dt.UTC
    )
    target = slot.options[3]
    slot.select(target).run()
    chosen = at.selectbox(key=f"reschedule_slot_{world.future}").value
    at.button(key=f"reschedule_confirm_{world.future}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert session(conn, world.future)[3] == dt.datetime.fromisoformat(str(chosen))
    assert "Moved the session" in texts(at)


def test_a_flagged_session_resolved(
    dashboards: DashboardSettings, world: MentorWorld, conn: psycopg.Connection
) -> None:
    for sid, change in ((world.future, "deleted"), (world.other_session, "deleted")):
        conn.execute(
            "insert into public.calendar_event_changes (session_id, mentor_id, change, noticed_at)"
            " select id, mentor_id, %s, %s from public.sessions where id = %s",
            (change, NOW, sid),
        )
    at = open_page(app(world.mentor), PAGE)
    assert "Changed in Google Calendar (1)" in texts(at)
    assert "was **deleted** in Google Calendar" in texts(at)
    assert f"resolve_restore_{world.other_session}" not in [b.key for b in at.button]
    at.button(key=f"resolve_restore_{world.future}").click().run()
    assert not at.error, [e.value for e in at.error]
    row = conn.execute(
        "select resolution, resolved_at from public.calendar_event_changes where session_id = %s",
        (world.future,),
    ).fetchone()
    assert row == ("restore", NOW)
    assert session(conn, world.future)[0] == "scheduled"
    assert "Changed in Google Calendar" not in texts(at)


def test_a_flagged_session_canceled(
    dashboards: DashboardSettings, world: MentorWorld, conn: psycopg.Connection
) -> None:
    conn.execute(
        "insert into public.calendar_event_changes (session_id, mentor_id, change,"
        " google_starts_at, google_ends_at, noticed_at) values (%s, %s, 'moved', %s, %s, %s)",
        (
            world.future,
            world.mentor,
            NOW + dt.timedelta(days=3),
            NOW + dt.timedelta(days=3, hours=1),
            NOW,
        ),
    )
    before = remaining(conn, world)
    at = open_page(app(world.mentor), PAGE)
    assert "was **moved** in Google to Thu 5 Nov 2026, 07:00 EST" in texts(at)
    at.button(key=f"resolve_cancel_{world.future}").click().run()
    at.button(key=f"resolve_cancel_confirm_{world.future}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert session(conn, world.future)[0] == "canceled"
    assert remaining(conn, world) == before + 1


def test_history_pages_newest_first(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    clock.freeze(NOW)
    mentor = scenario.mentor("America/New_York")
    student = scenario.person("student")
    pack = scenario.pack(mentor, student, sessions=30, purchased_at=NOW - dt.timedelta(days=60))
    starts = [NOW - dt.timedelta(days=d) for d in range(1, 28)]  # 27 past sessions
    for t in starts:
        sid = booked_session(conn, pack=pack, mentor=mentor, student=student, starts=t)
        conn.execute(
            "update public.sessions set status = 'completed', completed_at = %s where id = %s",
            (t + dt.timedelta(hours=1), sid),
        )
    at = open_page(app(mentor), PAGE)
    first = at.dataframe[0].value
    assert (
        len(first) == 25 and first.iloc[24]["Starts (America/New_York)"] == "Thu 8 Oct 2026, 08:00"
    )
    assert first.iloc[0]["Starts (America/New_York)"] == "Sun 1 Nov 2026, 07:00"
    at.button(key="history_older").click().run()
    older = at.dataframe[0].value
    assert list(older["Starts (America/New_York)"]) == [
        "Wed 7 Oct 2026, 08:00",  # daylight time then: 12:00 UTC is 08:00
        "Tue 6 Oct 2026, 08:00",
    ]
    assert "history_older" not in [b.key for b in at.button]
    at.button(key="history_newest").click().run()
    assert len(at.dataframe[0].value) == 25


def test_ten_upcoming_at_first_then_more(
    dashboards: DashboardSettings, world: MentorWorld, scenario: Scenario, conn: psycopg.Connection
) -> None:
    # Eleven more upcoming sessions (12 in all), a day apart from Thu 5 Nov, 15:00 UTC.
    pack = scenario.pack(world.mentor, world.student, sessions=12, purchased_at=NOW)
    for day in range(11):
        starts = dt.datetime(2026, 11, 5, 15, 0, tzinfo=dt.UTC) + dt.timedelta(days=day)
        booked_session(conn, pack=pack, mentor=world.mentor, student=world.student, starts=starts)
    at = open_page(app(world.mentor), PAGE)
    assert not at.exception, at.exception
    assert "Upcoming (12)" in texts(at)
    shown = [b.key for b in at.button if str(b.key).startswith("cancel_")]
    assert len(shown) == 10
    at.button(key="upcoming_shown_more").click().run()
    assert not at.exception, at.exception
    assert len([b.key for b in at.button if str(b.key).startswith("cancel_")]) == 12
    assert not [b for b in at.button if b.key == "upcoming_shown_more"]
