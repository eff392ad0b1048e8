"""Admin: the reports (the `analytics` marts dbt builds) as charts, each "as of" the last
succeeded build: revenue per month and currency, seat occupancy, renewals, session outcomes. Each
chart reads a mart at its own grain (dbt/models/marts/platform/: a row per month, day or week, every
mentor together), so a page is a few hundred rows at any scale."""

from __future__ import annotations

import datetime as dt
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
    "revenue_monthly",
    {
        "select": "revenue_month,currency,gross_cents,refund_cents,net_cents,orders_paid",
        "revenue_month": f"gte.{since_day[:8]}01",
        "order": "currency,revenue_month",
    },
)
currencies = sorted({str(r["currency"]) for r in revenue})
if not revenue:
    st.info("No revenue in the past year.")
for currency in currencies:
    rows = [r for r in revenue if r["currency"] == currency]
    code = currency.upper()
    st.subheader(code)
    st.bar_chart(
        [
            {"Month": str(r["revenue_month"])[:7], f"Net ({code})": major(r["net_cents"], currency)}
            for r in rows
        ],
        x="Month",
        y=f"Net ({code})",
    )
    with st.expander(f"{code} per month: gross, refunds, net, orders"):
        st.dataframe(
            [
                {
                    "Month": str(r["revenue_month"])[:7],
                    "Gross": fmt.money(r["gross_cents"], currency),
                    "Refunds": fmt.money(r["refund_cents"], currency),
                    "Net": fmt.money(r["net_cents"], currency),
                    "Orders paid": r["orders_paid"],
                }
                for r in rows
            ],
            hide_index=True,
            key=f"reports_revenue_{currency}",
        )
st.caption(f"UTC months. {as_of}.")

st.header("Seat occupancy")
seats = mart(
    "seat_occupancy_platform_daily",
    {
        "select": "day,capacity,taken,active,in_grace,held,occupancy_percent",
        "day": f"gte.{since_day}",
        "order": "day",
    },
)
if not seats:
    st.info("No mentor had seats in the past year.")
else:
    st.line_chart(
        [
            {"Day": utc_day(str(r["day"])), "Seats taken (%)": float(r["occupancy_percent"] or 0)}
            for r in seats
        ],
        x="Day",
        y="Seats taken (%)",
    )
    last = seats[-1]
    st.caption(
        f"Seats taken (active, in grace or held for a checkout) of all mentors' capacity at each "
        f"UTC day's end; the last day: {last['taken']} of {last['capacity']} ({last['active']} "
        f"active, {last['in_grace']} in grace, {last['held']} held). {as_of}."
    )

st.header("Renewal rate")
renewals = mart(
    "renewal_rate_monthly",
    {
        "select": "ended_month,ended,renewed,renewed_percent",
        "ended_month": f"gte.{since_day[:8]}01",
        "order": "ended_month",
    },
)
if not renewals:
    st.info("No pack has ended (used up or expired) with its grace period over yet.")
else:
    st.bar_chart(
        [
            {
                "Month ended": str(r["ended_month"])[:7],
                "Renewed within grace (%)": float(r["renewed_percent"]),
            }
            for r in renewals
        ],
        x="Month ended",
        y="Renewed within grace (%)",
    )
    st.caption(
        f"Packs that ended (used up or expired), by UTC month, once their grace is over; {as_of}."
    )

st.header("Session outcomes per week")
LABELS = {
    "completed": "Completed",
    "canceled_early": "Canceled in time",
    "canceled_late": "Canceled late",
    "student_no_shows": "Student no-show",
    "mentor_no_shows": "Mentor no-show",
}
outcomes = mart(
    "session_outcomes_weekly",
    {
        "select": "week_start," + ",".join(LABELS),
        "week_start": f"gte.{since_day}",
        "order": "week_start",
    },
)
if not outcomes:
    st.info("No sessions in the past year.")
else:
    st.bar_chart(
        [
            {"Week": utc_day(str(r["week_start"])), **{v: int(r[k]) for k, v in LABELS.items()}}
            for r in outcomes
        ],
        x="Week",
        y=list(LABELS.values()),
    )
    st.caption(f"Weeks start Monday 00:00 UTC. {as_of}.")
