"""The admin's Instructors page: only admins (the page and RLS), search and pages counted by the
database, one instructor's mentees, and the CSV of every relationship."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import psycopg

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario, booked_session

T = dt.datetime(2031, 3, 10, 12, 0, tzinfo=dt.UTC)


def named_mentor(scenario: Scenario, conn: psycopg.Connection, name: str) -> uuid.UUID:
    m = scenario.mentor()
    conn.execute("update public.mentors set public_name = %s where id = %s", (name, m))
    return m


def test_a_student_or_mentor_cannot_read_the_admin_data(
    dashboards: DashboardSettings, scenario: Scenario
) -> None:
    student = scenario.person()
    mentor = scenario.mentor()
    for who in (student, mentor):
        r = scenario.api(who).rpc("admin_instructors")
        assert (
            r.status_code == 403 and r.json()["message"] == "only admins may list the instructors"
        )
        assert scenario.api(who).rpc("admin_relationships").status_code == 403
        assert scenario.api(who).get("/audit_log?select=id&limit=5").json() == []
    at = open_page(app(student), "admin_instructors.py")
    assert not at.exception
    # The navigation has no admin page for them: they land on their own first page.
    assert not at.exception and "Instructors" not in [t.value for t in at.title]
    assert at.session_state["signed_in"].role != "admin"
    assert not at.dataframe


def test_search_pages_and_mentees(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "Europe/Berlin")
    tag = f"Zq{uuid.uuid4().hex[:6]}"
    mentors = [named_mentor(scenario, conn, f"{tag} {i:02d}") for i in range(27)]
    first = mentors[0]
    a, b = scenario.person(), scenario.person()
    conn.execute("update public.profiles set display_name = 'Ada' where id = %s", (a,))
    pack = scenario.pack(first, a, purchased_at=T - dt.timedelta(days=20))
    scenario.pack(first, b, purchased_at=T - dt.timedelta(days=5), sessions=6)
    held = booked_session(conn, pack=pack, mentor=first, student=a, starts=T - dt.timedelta(days=3))
    conn.execute(
        "update public.sessions set status = 'completed', completed_at = %s where id = %s",
        (T - dt.timedelta(days=3), held),
    )
    booked_session(conn, pack=pack, mentor=first, student=a, starts=T + dt.timedelta(days=2))

    at = app(admin)
    open_page(at, "admin_instructors.py")
    at.text_input(key="instructors_search").set_value(tag.lower()).run()
    assert not at.exception, at.exception
    assert "Instructors 1 to 25 of 27" in texts(at)
    table = at.dataframe[0].value
    assert len(table) == 25 and table["Instructor"].iloc[0] == f"{tag} 00"
    row = table.iloc[0]
    assert row["Active mentees"] == 2 and row["Upcoming sessions"] == 1
    assert row["Free seats"] == "3 of 5" and row["Sessions remaining"] == 8
    assert row["Completed"] == 1
    assert row["Last session (Europe/Berlin)"] == "Fri 7 Mar 2031, 13:00"

    at.button(key="instructors_next").click().run()
    assert "Instructors 26 to 27 of 27" in texts(at)
    assert list(at.dataframe[0].value["Instructor"]) == [f"{tag} 25", f"{tag} 26"]
    assert at.button(key="instructors_next").disabled

    at.text_input(key="instructors_search").set_value(f"{tag} 00").run()
    assert "Instructors 1 to 1 of 1" in texts(at)
    at.selectbox(key="instructors_expand").select_index(0).run()
    mentees = at.dataframe[1].value
    assert list(mentees["Student"]) == ["Ada", f"student {str(b)[:8]}"]
    assert mentees["Sessions"].iloc[0] == "2 of 4 left"
    assert mentees["Next session (Europe/Berlin)"].iloc[0] == "Wed 12 Mar 2031, 13:00"
    assert mentees["Sessions"].iloc[1] == "6 of 6 left"


def test_the_csv_export(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "America/New_York")
    mentor = named_mentor(scenario, conn, 'Ana "The Brush", Painter')
    student = scenario.person()
    conn.execute("update public.profiles set display_name = 'Bo, Jr.' where id = %s", (student,))
    pack = scenario.pack(mentor, student, purchased_at=T - dt.timedelta(days=20))
    booked_session(conn, pack=pack, mentor=mentor, student=student, starts=T + dt.timedelta(days=1))

    at = app(admin)
    open_page(at, "admin_instructors.py")
    at.button(key="instructors_csv_prepare").click().run()
    assert not at.exception, at.exception
    data: bytes = at.session_state["instructors_csv_data"]
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert '"Ana ""The Brush"", Painter"' in text and '"Bo, Jr."' in text
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[:4] == ["Mentor", "Mentor email", "Student", "Student email"]
    assert "Last session (America/New_York)" in header
    assert "Next session (America/New_York)" in header
    mine = [r for r in rows[1:] if r[0] == 'Ana "The Brush", Painter']
    assert len(mine) == 1
    line = dict(zip(header, mine[0], strict=True))
    assert line["Student"] == "Bo, Jr." and line["Student email"] == f"{student}@scenario.test"
    assert (line["Sessions remaining"], line["Sessions total"], line["Sessions completed"]) == (
        "3",
        "4",
        "0",
    )
    assert line["Next session (America/New_York)"] == "2031-03-11 08:00"
    assert line["Last session (America/New_York)"] == ""
    assert (line["Pack status"], line["Seat status"]) == ("active", "active")
    pairs = (
        "select count(*) from (select distinct mentor_id, student_id from public.session_packs) x"
    )
    assert len(rows) - 1 == scenario.one(pairs)
    assert at.get("download_button")
