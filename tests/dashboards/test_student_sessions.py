"""My sessions: the student's own upcoming sessions (never another student's of the same mentor)
with the call page's link; cancel, which says first whether the credit comes back (either side of
the notice boundary, on the frozen clock) and then does it (checked in the database); reschedule;
the history with the mentor's notes and recording."""

from __future__ import annotations

import datetime as dt

import psycopg

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import texts
from testing.dashboards_student import FIRST_SLOT, NOW, mentor_name, page, student_world
from testing.factories import Scenario, booked_session

THURSDAY = FIRST_SLOT + dt.timedelta(days=2)  # Thu 7 Jan 2027, 15:00 in Berlin


def remaining(scenario: Scenario, pack: object) -> int:
    left: int = scenario.one(
        "select remaining_sessions from public.session_packs where id = %s", pack
    )
    return left


def test_upcoming_only_mine_with_the_call_link(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    mine = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                          starts=THURSDAY)  # fmt: skip
    other = scenario.person("student")
    other_pack = scenario.pack(w.mentor, other, purchased_at=NOW - dt.timedelta(days=1))
    theirs = booked_session(conn=conn, pack=other_pack, mentor=w.mentor, student=other,
                            starts=FIRST_SLOT)  # fmt: skip
    at = page(w.student, "student_sessions.py")
    text = texts(at)
    assert (
        f"**Thu 7 Jan 2027, 15:00 CET (Europe/Berlin)** with {mentor_name(scenario, w.mentor)}"
        in text
    )
    assert "For your mentor: Thu 7 Jan 2027, 09:00 EST (America/New_York)" in text
    assert "Tue 5 Jan 2027" not in text
    assert at.button(key=f"cancel_{mine}") and not [
        b for b in at.button if str(theirs) in str(b.key)
    ]
    join = at.link_button[0]
    assert join.key == f"join_{mine}"
    url = join.proto.url
    assert url.startswith(f"{dashboards.dashboards_services_url}/video/{mine}#access_token=ey")


def test_cancel_with_the_credit_back(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    session = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                             starts=THURSDAY)  # fmt: skip
    assert remaining(scenario, w.pack) == 3
    at = page(w.student, "student_sessions.py")
    at.button(key=f"cancel_{session}").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.info if "credit" in str(e.value)] == [
        "Your credit comes back if you cancel now: you may cancel with the credit back until "
        "Wed 6 Jan 2027, 15:00 CET (Europe/Berlin) (24 h before the start)."
    ]
    at.text_input(key="cancel_reason").set_value("Travelling that week").run()
    at.button(key="cancel_confirm").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == ["Session canceled; your credit is back."]
    row = conn.execute(
        "select status::text, cancel_reason, canceled_by from public.sessions where id = %s",
        (session,),
    ).fetchone()
    assert row == ("canceled", "Travelling that week", w.student)
    assert remaining(scenario, w.pack) == 4
    assert "No sessions booked." in texts(at)


def test_cancel_terms_across_the_notice_boundary(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    session = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                             starts=FIRST_SLOT)  # fmt: skip
    boundary = FIRST_SLOT - dt.timedelta(hours=24)  # Mon 4 Jan, 15:00 in Berlin

    clock.freeze(boundary)  # exactly 24 h ahead: still the credit back
    at = page(w.student, "student_sessions.py")
    at.button(key=f"cancel_{session}").click().run()
    assert any("Your credit comes back" in str(e.value) for e in at.info)
    assert not at.warning

    clock.freeze(boundary + dt.timedelta(seconds=1))  # a second later: a late cancel
    at = page(w.student, "student_sessions.py")
    at.button(key=f"cancel_{session}").click().run()
    assert not any("credit comes back" in str(e.value) for e in at.info)
    assert [str(e.value) for e in at.warning] == [
        "Late cancel: the session starts in less than 24 h, so the credit is NOT given back (the "
        "last moment to cancel with the credit back was Mon 4 Jan 2027, 15:00 CET (Europe/Berlin))."
    ]
    at.button(key="cancel_confirm").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == ["Session canceled; the credit is used."]
    status = scenario.one("select status::text from public.sessions where id = %s", session)
    assert status == "late_canceled"
    assert remaining(scenario, w.pack) == 3


def test_reschedule_to_another_slot(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    session = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                             starts=THURSDAY)  # fmt: skip
    at = page(w.student, "student_sessions.py")
    at.button(key=f"reschedule_{session}").click().run()
    assert not at.exception, at.exception
    friday = "Fri 8 Jan 2027"
    at.pills(key="reschedule_day_0").set_value(friday).run()
    new = THURSDAY + dt.timedelta(days=1, hours=2)  # Fri 17:00 in Berlin, 11:00 in New York
    at.pills(key=f"reschedule_slot_0_{friday}").set_value(new.isoformat()).run()
    at.button(key="reschedule_confirm").click().run()
    assert not at.exception, at.exception
    assert [str(e.value) for e in at.success] == [
        "Session moved to Fri 8 Jan 2027, 17:00 CET (Europe/Berlin)."
    ]
    row = conn.execute(
        "select starts_at, status::text from public.sessions where id = %s", (session,)
    ).fetchone()
    assert row == (new, "scheduled")
    assert remaining(scenario, w.pack) == 3


def test_reschedule_refused_too_late(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    session = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                             starts=FIRST_SLOT)  # fmt: skip
    clock.freeze(FIRST_SLOT - dt.timedelta(hours=20))
    at = page(w.student, "student_sessions.py")
    at.button(key=f"reschedule_{session}").click().run()
    day = "Fri 8 Jan 2027"
    at.pills(key="reschedule_day_0").set_value(day).run()
    at.pills(key=f"reschedule_slot_0_{day}").set_value(
        (FIRST_SLOT + dt.timedelta(days=3)).isoformat()
    ).run()
    at.button(key="reschedule_confirm").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Not moved: "), errors
    starts = scenario.one("select starts_at from public.sessions where id = %s", session)
    assert starts == FIRST_SLOT


def test_history_with_notes_and_recording(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    held = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                          starts=FIRST_SLOT)  # fmt: skip
    missed = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                            starts=THURSDAY)  # fmt: skip
    dropped = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                             starts=THURSDAY + dt.timedelta(days=1))  # fmt: skip
    other = scenario.person("student")
    other_pack = scenario.pack(w.mentor, other, purchased_at=NOW - dt.timedelta(days=1))
    booked_session(conn=conn, pack=other_pack, mentor=w.mentor, student=other,
                   starts=FIRST_SLOT + dt.timedelta(days=1))  # fmt: skip
    clock.freeze(THURSDAY + dt.timedelta(days=2))
    conn.execute(
        "update public.sessions set status = 'completed', completed_at = %s, notes = %s,"
        " recording_url = %s where id = %s",
        (FIRST_SLOT + dt.timedelta(hours=1), "Work on values", "https://rec.example/1", held),
    )
    conn.execute("update public.sessions set status = 'student_no_show' where id = %s", (missed,))
    conn.execute(
        "update public.sessions set status = 'canceled', canceled_at = %s, cancel_reason = 'ill'"
        " where id = %s",
        (NOW, dropped),
    )
    at = page(w.student, "student_sessions.py")
    rows = at.dataframe[0].value.fillna("").to_dict("records")
    assert [
        (r["Starts (Europe/Berlin)"], r["Status"], r["Notes"], r["Recording"]) for r in rows
    ] == [
        ("Fri 8 Jan 2027, 15:00", "Canceled (credit back)", "ill", ""),
        ("Thu 7 Jan 2027, 15:00", "No-show (you)", "", ""),
        ("Tue 5 Jan 2027, 15:00", "Completed", "Work on values", "https://rec.example/1"),
    ]
    assert {r["Mentor"] for r in rows} == {mentor_name(scenario, w.mentor)}
