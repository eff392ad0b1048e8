"""Admin: the reports (the `analytics` marts dbt builds) as charts, each "as of" the last
succeeded build: revenue per month and currency, seat occupancy, renewals, session outcomes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import streamlit as st

from dashboards import admin, fmt, ui

me = admin.admin()
zone = me.zone
st.title("Reports")

build = admin.last_build()
if build is None:
    st.info(
        "No report build has finished yet, so there is nothing to show. Run "
        "`mentorships reports build` (or wait for the hourly schedule)."
    )
    st.stop()
as_of = f"As of {fmt.when(build['finished_at'], zone)}, the last report build"
st.caption(f"{as_of}. Days and weeks are UTC; money is never added across currencies.")

since = (fmt.instant(build["finished_at"]) or admin.now()) - dt.timedelta(days=365)
since_day = since.date().isoformat()
run_id = build["id"]


def mart(name: str, params: dict[str, str]) -> list[dict[str, Any]]:
    return ui.rows_or_stop(
        ("admin_reports", name, run_id, since_day),
        lambda: admin.every_row(name, params, profile="analytics"),
    )


def utc_day(day: str) -> dt.datetime:
    """A UTC day as the chart's time axis reads it."""
    return dt.datetime.fromisoformat(day[:10]).replace(tzinfo=dt.UTC)


def major(cents: int, currency: str) -> float:
    """For the chart's axis only (tables use fmt.money)."""
    places = 0 if currency.lower() in fmt.ZERO_DECIMAL else 2
    return float(Decimal(cents).scaleb(-places))


st.header("Revenue per month")
revenue = mart(
    "revenue_daily",
    {
        "select": "revenue_day,currency,gross_cents,refund_cents,net_cents,orders_paid",
        "revenue_day": f"gte.{since_day}",
    },
)
months: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
for r in revenue:
    month = str(r["revenue_day"])[:7]
    sums = months[r["currency"]].setdefault(
        month, {"gross": 0, "refunds": 0, "net": 0, "orders": 0}
    )
    sums["gross"] += int(r["gross_cents"])
    sums["refunds"] += int(r["refund_cents"])
    sums["net"] += int(r["net_cents"])
    sums["orders"] += int(r["orders_paid"])
if not months:
    st.info("No revenue in the past year.")
for currency in sorted(months):
    st.subheader(currency.upper())
    by_month = months[currency]
    st.bar_chart(
        [
            {"Month": m, f"Net ({currency.upper()})": major(v["net"], currency)}
            for m, v in sorted(by_month.items())
        ],
        x="Month",
        y=f"Net ({currency.upper()})",
    )
    with st.expander(f"{currency.upper()} per month: gross, refunds, net, orders"):
        st.dataframe(
            [
                {
                    "Month": m,
                    "Gross": fmt.money(v["gross"], currency),
                    "Refunds": fmt.money(v["refunds"], currency),
                    "Net": fmt.money(v["net"], currency),
                    "Orders paid": v["orders"],
                }
                for m, v in sorted(by_month.items())
            ],
            hide_index=True,
            key=f"reports_revenue_{currency}",
        )
st.caption(as_of)

st.header("Seat occupancy")
seats = mart("seat_occupancy_daily", {"select": "day,capacity,held", "day": f"gte.{since_day}"})
per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
for r in seats:
    per_day[str(r["day"])][0] += int(r["held"])
    per_day[str(r["day"])][1] += int(r["capacity"])
if not per_day:
    st.info("No seats held in the past year.")
else:
    st.line_chart(
        [
            {"Day": utc_day(d), "Seats held (%)": round(100 * h / c, 1) if c else 0.0}
            for d, (h, c) in sorted(per_day.items())
        ],
        x="Day",
        y="Seats held (%)",
    )
    st.caption(f"Seats held of all mentors' capacity at each UTC day's end. {as_of}.")

st.header("Renewal rate")
renewals = mart(
    "renewals", {"select": "ended_at,renewed_within_grace", "ended_at": f"gte.{since_day}"}
)
decided: dict[str, list[int]] = defaultdict(lambda: [0, 0])
for r in renewals:
    if r["renewed_within_grace"] is None:
        continue
    month = str(r["ended_at"])[:7]
    decided[month][0] += 1 if r["renewed_within_grace"] else 0
    decided[month][1] += 1
if not decided:
    st.info("No pack has ended (used up or expired) with its grace period over yet.")
else:
    st.bar_chart(
        [
            {"Month ended": m, "Renewed within grace (%)": round(100 * k / n, 1)}
            for m, (k, n) in sorted(decided.items())
        ],
        x="Month ended",
        y="Renewed within grace (%)",
    )
    st.caption(f"Packs that ended (used up or expired), by month; {as_of}.")

st.header("Session outcomes per week")
outcomes = mart(
    "session_outcomes",
    {
        "select": "week_start,completed,canceled_early,canceled_late,student_no_shows,mentor_no_shows",
        "week_start": f"gte.{since_day}",
    },
)
LABELS = {
    "completed": "Completed",
    "canceled_early": "Canceled in time",
    "canceled_late": "Canceled late",
    "student_no_shows": "Student no-show",
    "mentor_no_shows": "Mentor no-show",
}
weeks: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LABELS.values(), 0))
for r in outcomes:
    for column, label in LABELS.items():
        weeks[str(r["week_start"])[:10]][label] += int(r[column] or 0)
if not weeks:
    st.info("No sessions in the past year.")
else:
    st.bar_chart(
        [{"Week": utc_day(w), **v} for w, v in sorted(weeks.items())],
        x="Week",
        y=list(LABELS.values()),
    )
    st.caption(f"Weeks start Monday 00:00 UTC. {as_of}.")
