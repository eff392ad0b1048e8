"""instructor_overview (dbt/models/marts/people): one row per mentor, after the scenario of
testing/reports_people.py is played through the real rules and built by dbt."""

from __future__ import annotations

from decimal import Decimal

from testing.reports_people import People


def test_the_mentor_row(people: People) -> None:
    [row] = people.first["instructor_overview"]
    assert {k: v for k, v in row.items() if k not in ("mentor_id", "joined_at")} == {
        "mentor_name": "Scenario Mentor",
        "mentor_email": f"{people.ids['mentor']}@scenario.test",
        "active_mentees": 3,  # A, B, D (C refunded; E only holds a seat)
        "sessions_completed_this_month": 4,
        "sessions_completed_all_time": 4,
        "seat_capacity": 5,
        "seats_held": 1,  # E's open checkout
        "seats_active": 3,
        "seats_in_grace": 0,
        "free_seats": 1,
        "seat_occupancy": Decimal("0.8000"),
        # of 6 sessions that took place or should have: 1 student and 1 mentor no-show
        "no_show_rate": Decimal("0.1667"),
        "mentor_no_show_rate": Decimal("0.1667"),
        "late_cancel_rate": Decimal("0.5000"),  # 1 late of 2 student cancels
        "renewal_rate": Decimal("0.5000"),  # A in grace, D after it
    }


def test_the_incremental_build_counts_the_next_session(people: People) -> None:
    [row] = people.second["instructor_overview"]
    assert (row["sessions_completed_this_month"], row["sessions_completed_all_time"]) == (5, 5)
    assert row["no_show_rate"] == Decimal("0.1429")
    assert row["seats_held"] == 0  # E's hold ran out at 12:20 the day before
