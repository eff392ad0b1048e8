"""The admin's Reports page: the empty state before any build, then each chart with its "as of"
(the last succeeded build's finish, in the admin's zone). The marts are written here as the tests'
own tables with the post-hook's grants and policies (testing/reports.py), not built by dbt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario
from testing.reports import post_hook_sql

T = dt.datetime(2031, 6, 20, 12, 0, tzinfo=dt.UTC)
MARTS = {
    "revenue_monthly": "revenue_month date, currency text, gross_cents bigint, refund_cents bigint,"
    " net_cents bigint, orders_paid bigint",
    "seat_occupancy_platform_daily": "day date, capacity bigint, taken bigint, active bigint,"
    " in_grace bigint, held bigint, occupancy_percent numeric",
    "renewal_rate_monthly": "ended_month date, ended bigint, renewed bigint, renewed_percent numeric",
    "session_outcomes_weekly": "week_start date, completed bigint, canceled_early bigint,"
    " canceled_late bigint, student_no_shows bigint, mentor_no_shows bigint",
}


@pytest.fixture
def marts(conn: psycopg.Connection) -> Iterator[None]:
    """The four marts the page reads, empty, and no report run; all removed afterwards."""
    # Kept in Python, not in a temporary table: this connection lives for the whole test session,
    # and plans cached in it must not come to name a type that is dropped afterwards.
    cur = conn.execute("select * from public.report_runs order by id")
    columns = [d.name for d in cur.description or ()]
    saved = cur.fetchall()
    conn.execute("delete from public.report_runs")
    for name, columns_sql in MARTS.items():
        conn.execute(f"drop table if exists analytics.{name}")
        conn.execute(f"create table analytics.{name} ({columns_sql})")
        conn.execute(post_hook_sql(f"analytics.{name}"))
    conn.execute("notify pgrst, 'reload schema'")
    try:
        yield
    finally:
        for name in MARTS:
            conn.execute(f"drop table if exists analytics.{name}")
        conn.execute("delete from public.report_runs")
        if saved:
            with conn.cursor() as c:
                c.executemany(
                    f"insert into public.report_runs ({', '.join(columns)}) overriding system value"
                    f" values ({', '.join(['%s'] * len(columns))})",
                    saved,
                )
        assert conn.execute("select count(*) from public.report_runs").fetchone() == (len(saved),)
        conn.execute("notify pgrst, 'reload schema'")


def test_empty_state_then_charts_as_of_the_last_build(
    dashboards: DashboardSettings,
    scenario: Scenario,
    conn: psycopg.Connection,
    clock: Clock,
    marts: None,
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "Europe/Berlin")
    at = open_page(app(admin), "admin_reports.py")
    assert not at.exception, at.exception
    assert "Run `mentorships reports build`" in texts(at)
    assert not at.get("vega_lite_chart")

    conn.execute(
        "insert into public.report_runs (started_at, finished_at, outcome, trigger, claimed_by)"
        " values (%s, %s, 'succeeded', 'command', 'test'), (%s, %s, 'failed', 'command', 'test')",
        (
            T - dt.timedelta(hours=2),
            T - dt.timedelta(hours=1, minutes=58),
            T - dt.timedelta(minutes=30),
            T - dt.timedelta(minutes=29),
        ),
    )
    conn.execute(
        "insert into analytics.revenue_monthly values ('2030-05-01', 'eur', 1, 0, 1, 1),"
        " ('2031-05-01', 'eur', 15000, 2000, 13000, 2), ('2031-06-01', 'usd', 24000, 0, 24000, 1),"
        " ('2031-06-01', 'jpy', 500000, 0, 500000, 1)"
    )
    conn.execute(
        "insert into analytics.seat_occupancy_platform_daily values"
        " ('2031-06-17', 10, 4, 4, 0, 0, 40.0), ('2031-06-18', 10, 5, 3, 1, 1, 50.0)"
    )
    conn.execute("insert into analytics.renewal_rate_monthly values ('2031-05-01', 2, 1, 50.0)")
    conn.execute(
        "insert into analytics.session_outcomes_weekly values ('2031-06-16', 4, 1, 0, 1, 0)"
    )
    at = open_page(app(admin), "admin_reports.py")
    assert not at.exception, at.exception
    text = texts(at)
    # The failed build after it does not move the "as of".
    assert "As of Fri 20 Jun 2031, 12:02 CEST (Europe/Berlin), the last report build" in text
    assert text.count("As of Fri 20 Jun 2031, 12:02 CEST") >= 4
    assert [h.value for h in at.header] == [
        "Revenue per month",
        "Seat occupancy",
        "Renewal rate",
        "Session outcomes per week",
    ]
    assert [s.value for s in at.subheader] == ["EUR", "JPY", "USD"]
    # 3 revenue charts (one per currency) + occupancy + renewals + outcomes.
    assert len(at.get("vega_lite_chart")) == 6
    assert "the last day: 5 of 10 (3 active, 1 in grace, 1 held)" in text
    eur = at.dataframe[0].value
    assert list(eur["Month"]) == ["2031-05"]  # a year back from the build, not more
    assert (eur["Gross"].iloc[0], eur["Refunds"].iloc[0], eur["Net"].iloc[0]) == (
        "€150.00",
        "€20.00",
        "€130.00",
    )
    assert at.dataframe[1].value["Net"].iloc[0] == "¥500,000"
    assert at.dataframe[2].value["Net"].iloc[0] == "$240.00"
    # Not for anyone else: the page refuses, and RLS gives a student no rows of a mart.
    student = scenario.person()
    read = scenario.api(student).get(
        "/revenue_monthly?select=currency", headers={"Accept-Profile": "analytics"}
    )
    assert read.status_code == 200 and read.json() == []
    assert (
        scenario.api(admin)
        .get("/revenue_monthly?select=currency", headers={"Accept-Profile": "analytics"})
        .json()
    )
    at = open_page(app(student), "admin_reports.py")
    # The navigation has no admin page for them: they land on their own first page.
    assert not at.exception and "Reports" not in [t.value for t in at.title]
    assert at.session_state["signed_in"].role != "admin"
    assert not at.get("vega_lite_chart")
