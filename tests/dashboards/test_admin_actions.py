"""The admin's pages that change things or list what went wrong: pack adjustments (the ledger and
the refusals' messages), failed messages and a retry, flagged orders and refunds, the audit log's
filters."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import app, open_page, texts
from testing.factories import Scenario

T = dt.datetime(2031, 5, 6, 12, 0, tzinfo=dt.UTC)


def test_a_pack_adjustment_and_its_refusals(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "Europe/Berlin")
    mentor = scenario.mentor()
    student = scenario.person()
    tag = f"Pk{uuid.uuid4().hex[:6]}"
    conn.execute("update public.profiles set display_name = %s where id = %s", (tag, student))
    pack = scenario.pack(mentor, student, purchased_at=T - dt.timedelta(days=3))

    at = app(admin)
    open_page(at, "admin_packs.py")
    at.text_input(key="packs_search").set_value(tag.lower()).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="packs_pick").value == str(pack)
    assert "Sessions left: 4" in texts(at)

    at.number_input(key="packs_delta").set_value(2)
    at.text_area(key="packs_reason").set_value("Missed call, our fault")
    at.button(key="packs_adjust").click().run()
    assert not at.exception, at.exception
    assert "Adjusted by +2: now 6 sessions left (bought 4)." in texts(at)
    assert (
        scenario.one("select remaining_sessions from public.session_packs where id = %s", pack) == 6
    )
    entry = conn.execute(
        "select delta, reason, actor_id from public.session_credit_ledger"
        " where pack_id = %s and kind = 'admin_adjustment'",
        (pack,),
    ).fetchall()
    assert entry == [(2, "Missed call, our fault", admin)]
    assert "Missed call, our fault" in list(at.dataframe[1].value["Reason"])

    at.number_input(key="packs_delta").set_value(-1)
    at.text_area(key="packs_reason").set_value("   ")
    at.button(key="packs_adjust").click().run()
    assert any("reason is required" in e.value for e in at.error)

    at.number_input(key="packs_delta").set_value(-7)
    at.text_area(key="packs_reason").set_value("too many")
    at.button(key="packs_adjust").click().run()
    assert any("the pack has 6 sessions left; cannot remove 7" in e.value for e in at.error)

    conn.execute(
        "update public.session_packs set status = 'expired', expired_at = %s where id = %s",
        (T, pack),
    )
    at.number_input(key="packs_delta").set_value(1)
    at.text_area(key="packs_reason").set_value("late")
    at.button(key="packs_adjust").click().run()
    assert any("the pack is expired" in e.value for e in at.error)
    assert (
        scenario.one("select remaining_sessions from public.session_packs where id = %s", pack) == 6
    )


def test_failed_messages_and_a_retry(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "Europe/Berlin")
    student = scenario.person()
    mid = scenario.one(
        "insert into public.notifications (recipient_id, kind, channel, dedupe_key, status, attempts,"
        " last_error, send_after) values (%s, 'grace_warning', 'email', %s, 'failed', 8,"
        " 'resend 422 validation_error: bad address', %s) returning id",
        student,
        f"test-admin-retry:{uuid.uuid4()}",
        T - dt.timedelta(hours=1),
    )
    at = app(admin)
    open_page(at, "admin_messages.py")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    row = table[table["Id"] == mid].iloc[0]
    assert row["Kind"] == "grace_warning" and row["Attempts"] == 8
    assert row["Last error"] == "resend 422 validation_error: bad address"
    assert row["Recipient"] == f"student {str(student)[:8]}"
    at.selectbox(key="messages_pick").set_value(mid).run()
    at.button(key="messages_retry").click().run()
    assert not at.exception, at.exception
    assert f"Message #{mid} is queued again" in texts(at)
    assert conn.execute(
        "select status, next_attempt_at from public.notifications where id = %s", (mid,)
    ).fetchone() == ("pending", T)
    assert mid not in list(at.dataframe[0].value["Id"]) if at.dataframe else True
    # A student's read of the outbox has no one else's messages.
    assert scenario.api(scenario.person()).get(f"/notifications?id=eq.{mid}").json() == []


def test_flagged_orders_and_refunds(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "Europe/Berlin")
    mentor = scenario.mentor()
    student = scenario.person()
    product = scenario.product(mentor, price_cents=500000, currency="jpy")
    order = uuid.uuid4()
    conn.execute(
        "insert into public.orders (id, student_id, mentor_id, product_id, provider, status, list_price_cents,"
        " amount_cents, currency, expires_at, paid_at, flagged_reason)"
        " values (%s, %s, %s, %s, 'stripe', 'flagged', 500000, 500000, 'jpy', %s, %s, %s)",
        (
            order,
            student,
            mentor,
            product,
            T - dt.timedelta(hours=2),
            T - dt.timedelta(hours=1),
            "paid 100 JPY, expected 500000 JPY",
        ),
    )
    conn.execute(
        "insert into public.payments (order_id, student_id, provider, provider_payment_id, status,"
        " amount_cents, refunded_cents, currency, paid_at)"
        " values (%s, %s, 'stripe', %s, 'partially_refunded', 500000, 120000, 'jpy', %s)",
        (order, student, f"pi_{uuid.uuid4().hex}", T - dt.timedelta(hours=1)),
    )
    at = app(admin)
    open_page(at, "admin_orders.py")
    assert not at.exception, at.exception
    flagged = at.dataframe[0].value
    row = flagged[flagged["Order"] == str(order)].iloc[0]
    assert row["Expected"] == "¥500,000" and row["Why"] == "paid 100 JPY, expected 500000 JPY"
    refunds = at.dataframe[1].value
    row = refunds[refunds["Order"] == str(order)].iloc[0]
    assert (row["Paid"], row["Refunded"], row["Kept"]) == ("¥500,000", "¥120,000", "¥380,000")
    assert row["Status"] == "in part"
    # Not for a student: the page refuses, and RLS gives them only their own.
    other = scenario.person()
    assert scenario.api(other).get(f"/orders?id=eq.{order}").json() == []
    at = open_page(app(other), "admin_orders.py")
    # The navigation has no admin page for them: they land on their own first page.
    assert not at.exception and "Orders and refunds" not in [t.value for t in at.title]
    assert at.session_state["signed_in"].role != "admin"


def test_audit_log_filters_and_pages(
    dashboards: DashboardSettings, scenario: Scenario, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.freeze(T)
    admin = scenario.person("admin", "Asia/Tokyo")
    actor = scenario.person("admin")
    tag = f"Au{uuid.uuid4().hex[:6]}"
    conn.execute("update public.profiles set display_name = %s where id = %s", (tag, actor))
    # 55 entries by the actor: 52 on 6 May (Tokyo) and 3 on 4 May.
    for i in range(55):
        when = T - dt.timedelta(minutes=i) if i < 52 else T - dt.timedelta(days=2)
        conn.execute(
            "insert into public.audit_log (actor_id, action, table_name, reason, created_at)"
            " values (%s, %s, 'test', %s, %s)",
            (actor, f"test.{tag.lower()}", f"n{i}", when),
        )
    at = app(admin)
    open_page(at, "admin_audit.py")
    at.text_input(key="audit_actor").set_value(tag).run()
    assert not at.exception, at.exception
    assert "Entries 1 to 50 of 55" in texts(at)
    at.button(key="audit_next").click().run()
    assert "Entries 51 to 55 of 55" in texts(at)
    at.date_input(key="audit_dates").set_value((dt.date(2031, 5, 6), dt.date(2031, 5, 6))).run()
    assert "Entries 1 to 50 of 52" in texts(at)
    table = at.dataframe[0].value
    assert set(table["By"]) == {tag} and table["Reason"].iloc[0] == "n0"
    assert table["When (Asia/Tokyo)"].iloc[0] == "Tue 6 May 2031, 21:00"
    at.text_input(key="audit_action").set_value("no.such.action").run()
    assert "No audit entries match these filters" in texts(at)
