"""admin_instructors and admin_relationships (sql/rules/admin_reads.sql) over PostgREST: who may
call them, their figures, search (literal % and _), pages and total_count, one mentor's or everyone's
relationships with emails, and the refusals."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from testing.api import ok, refused
from testing.clock import Clock
from testing.factories import Scenario, booked_session

T = dt.datetime(2031, 9, 1, 12, 0, tzinfo=dt.UTC)


def test_instructors_figures_search_and_pages(
    scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.api(scenario.person("admin"))
    tag = f"Ad{uuid.uuid4().hex[:6]}"
    mentors = []
    for i in range(3):
        m = scenario.mentor(capacity=3)
        conn.execute(
            "update public.mentors set public_name = %s where id = %s", (f"{tag}_{i} 100%", m)
        )
        mentors.append(m)
    student = scenario.person()
    pack = scenario.pack(mentors[0], student, purchased_at=T - dt.timedelta(days=1))
    booked_session(
        conn, pack=pack, mentor=mentors[0], student=student, starts=T + dt.timedelta(days=1)
    )

    rows = ok(admin.rpc("admin_instructors", search=f"{tag}_", max_rows="2"))
    assert [r["mentor_id"] for r in rows] == [str(m) for m in mentors[:2]]
    assert {r["total_count"] for r in rows} == {3}
    first = rows[0]
    assert (first["seat_capacity"], first["seats_taken"], first["free_seats"]) == (3, 1, 2)
    assert (first["active_mentees"], first["upcoming_sessions"], first["sessions_remaining"]) == (
        1,
        1,
        3,
    )
    assert first["email"] == f"{mentors[0]}@scenario.test"
    rest = ok(admin.rpc("admin_instructors", search=f"{tag}_", skip_rows="2", max_rows="2"))
    assert [r["mentor_id"] for r in rest] == [str(mentors[2])]
    # % and _ are literal: "Ad…_1 100%" matches only itself, and "_1" no other mentor.
    assert [r["mentor_id"] for r in ok(admin.rpc("admin_instructors", search=f"{tag}_1 100%"))] == [
        str(mentors[1])
    ]
    assert ok(admin.rpc("admin_instructors", search=f"{tag}%1")) == []
    by_email = ok(admin.rpc("admin_instructors", search=str(mentors[2])[:13].upper()))
    assert [r["mentor_id"] for r in by_email] == [str(mentors[2])]
    assert ok(admin.rpc("admin_instructors", search=tag, skip_rows="3")) == []

    refused(admin.rpc("admin_instructors", max_rows="0"), 422, 'max_rows: "0" is outside 1 to 200')
    refused(
        admin.rpc("admin_instructors", skip_rows="-1"),
        422,
        'skip_rows: "-1" is outside 0 to 1000000',
    )
    refused(
        admin.rpc("admin_instructors", search="x" * 201),
        422,
        "search is longer than 200 characters",
    )
    for who in (student, mentors[0]):
        refused(
            scenario.api(who).rpc("admin_instructors"), 403, "only admins may list the instructors"
        )
    assert scenario.api(None).rpc("admin_instructors").status_code == 401


def test_relationships_of_one_mentor_or_everyone(
    scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.api(scenario.person("admin"))
    mentor = scenario.mentor()
    a, b = scenario.person(), scenario.person()
    scenario.pack(mentor, a, purchased_at=T - dt.timedelta(days=2))
    scenario.pack(mentor, b, purchased_at=T - dt.timedelta(days=1), sessions=6)
    mine = ok(admin.rpc("admin_relationships", mentor_id=mentor))
    assert {(r["student_id"], r["sessions_total"]) for r in mine} == {(str(a), 4), (str(b), 6)}
    assert {r["student_email"] for r in mine} == {f"{a}@scenario.test", f"{b}@scenario.test"}
    assert {r["mentor_email"] for r in mine} == {f"{mentor}@scenario.test"}
    everyone = ok(admin.rpc("admin_relationships"))
    pairs = scenario.one(
        "select count(*) from (select distinct mentor_id, student_id from public.session_packs) x"
    )
    assert len(everyone) == pairs
    assert [r for r in everyone if r["mentor_id"] == str(mentor)] == sorted(
        mine, key=lambda r: (r["next_session_at"] is None, r["student_name"], r["student_id"])
    )
    refused(
        admin.rpc("admin_relationships", mentor_id=uuid.uuid4()),
        404,
        "no mentor with that mentor_id",
    )
    refused(
        admin.rpc("admin_relationships", mentor_id="nope"), 422, 'mentor_id: "nope" is not a UUID'
    )
    refused(scenario.api(mentor).rpc("admin_relationships", mentor_id=mentor), 403, "only admins")
    refused(scenario.api(a).rpc("admin_relationships"), 403, "only admins")
