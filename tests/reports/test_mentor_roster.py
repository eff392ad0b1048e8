"""mentor_roster (dbt/models/marts/people): one row per mentor and student, after the scenario of
testing/reports_people.py is played through the real rules and built by dbt."""

from __future__ import annotations

from typing import Any

from testing.reports_people import NEXT_REPORT_AT, REPORT_AT, T0, People, at


def by_student(people: People, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = {people.ids[k]: k for k in ("a", "b", "c", "d", "e")}
    return {names[r["student_id"]]: r for r in rows}


def test_one_row_per_student_who_had_a_pack(people: People) -> None:
    roster = by_student(people, people.first["mentor_roster"])
    assert sorted(roster) == ["a", "b", "c", "d"]  # E only holds a seat: no pack, no row
    a = roster["a"]
    assert a["student_email"] == f"{people.ids['a']}@scenario.test"
    assert a["mentor_name"] == "Scenario Mentor"
    assert a["mentor_email"] == f"{people.ids['mentor']}@scenario.test"


def test_sessions_packs_and_seats(people: People) -> None:
    ids = people.ids
    got = {
        k: (
            r["sessions_completed"],
            r["sessions_total"],
            r["sessions_remaining"],
            r["current_pack_id"],
            r["current_pack_status"],
            r["seat_status"],
            r["last_session_at"],
            r["days_since_last_session"],
            r["first_purchased_at"],
        )
        for k, r in by_student(people, people.first["mentor_roster"]).items()
    }
    assert got == {
        # 2 completed of 8 bought; the mentor's no-show gave the credit back; last: that no-show
        "a": (2, 8, 4, ids["a2"], "active", "active", at(8, 10), 0, T0),
        # B: one session booked ahead; the partial refund changed nothing
        "b": (1, 4, 2, ids["b1"], "active", "active", at(2, 14), 5, T0),
        "c": (0, 4, 0, ids["c1"], "refunded", "released", None, None, T0),
        "d": (1, 2, 1, ids["d2"], "active", "active", at(2, 16), 5, T0),
    }
    assert all(r["current_pack_expires_at"] > REPORT_AT for r in people.first["mentor_roster"])


def test_the_incremental_build_sees_the_next_day(people: People) -> None:
    before = by_student(people, people.first["mentor_roster"])
    after = by_student(people, people.second["mentor_roster"])
    assert (after["b"]["sessions_completed"], after["b"]["last_session_at"]) == (2, at(9, 10))
    assert after["b"]["days_since_last_session"] == 0
    assert after["b"]["sessions_remaining"] == 2
    # the others only moved with the clock
    assert after["d"]["days_since_last_session"] == (NEXT_REPORT_AT - at(2, 16)).days == 6
    assert {k: v for k, v in after["a"].items() if k != "days_since_last_session"} == {
        k: v for k, v in before["a"].items() if k != "days_since_last_session"
    }
