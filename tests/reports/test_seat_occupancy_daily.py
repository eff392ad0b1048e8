"""seat_occupancy_daily (dbt/models/marts/people): seats per mentor and UTC day at the day's end,
after the scenario of testing/reports_people.py is played through the real rules and built by dbt."""

from __future__ import annotations

import datetime as dt

from testing.reports_people import People


def day(n: int) -> dt.date:
    return dt.date(2032, 3, n)


def test_every_day_from_the_first_seat(people: People) -> None:
    got = [
        (r["day"], r["held"], r["active"], r["in_grace"], r["free"])
        for r in people.first["seat_occupancy_daily"]
    ]
    assert got == [
        (day(1), 0, 3, 0, 2),  # A, B, D active; C refunded within the day
        (day(2), 0, 2, 1, 2),  # D's pack used up at 17:30: grace
        (day(3), 0, 2, 1, 2),
        (day(4), 0, 2, 1, 2),
        (day(5), 0, 1, 1, 3),  # A in grace from 11:30; D's grace over at 17:30
        (day(6), 0, 3, 0, 2),  # A renewed, D bought again
        (day(7), 0, 3, 0, 2),
        (day(8), 1, 3, 0, 1),  # at the report's clock: E's hold is live
    ]  # fmt: skip
    assert {r["capacity"] for r in people.first["seat_occupancy_daily"]} == {5}


def test_today_agrees_with_the_seats_table(people: People) -> None:
    today = people.first["seat_occupancy_daily"][-1]
    assert {k: today[k] for k in ("held", "active", "in_grace")} == people.seats_now


def test_the_incremental_build_ends_yesterday_and_adds_today(people: People) -> None:
    got = [
        (r["day"], r["held"], r["active"], r["in_grace"])
        for r in people.second["seat_occupancy_daily"]
    ]
    assert got[:7] == [
        (r["day"], r["held"], r["active"], r["in_grace"])
        for r in people.first["seat_occupancy_daily"][:7]
    ]
    assert got[7:] == [(day(8), 0, 3, 0), (day(9), 0, 3, 0)]  # E's hold ran out at 12:20 on the 8th
