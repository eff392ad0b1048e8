"""My mentors: the student's own mentors (never another student's), sessions left of those bought,
next and last session and the pack's expiry in the student's zone, the one-session-left alert
exactly when one is left and none booked, the renew button's checkout refused on the local
stack's placeholder Stripe keys (its message shown, no order), stats, and the Discord reminder."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from dashboards.api import Api
from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import texts
from testing.dashboards_student import FIRST_SLOT, NOW, mentor_name, page, student_world
from testing.factories import Scenario, booked_session


def test_mentors_sessions_left_next_and_expiry(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock
) -> None:
    w = student_world(scenario, clock)
    booked_session(conn=scenario.conn, pack=w.pack, mentor=w.mentor, student=w.student,
                   starts=FIRST_SLOT)  # fmt: skip
    # Another student of the same mentor, with a pack and a session of their own.
    other = scenario.person("student", "UTC")
    other_pack = scenario.pack(w.mentor, other, purchased_at=NOW - dt.timedelta(days=2))
    booked_session(conn=scenario.conn, pack=other_pack, mentor=w.mentor, student=other,
                   starts=FIRST_SLOT + dt.timedelta(days=1))  # fmt: skip
    # A mentor the student never had a pack with.
    stranger = scenario.mentor()

    at = page(w.student, "student_home.py")
    text = texts(at)
    assert "My mentors" in text
    assert mentor_name(scenario, w.mentor) in text
    assert str(stranger)[:6] not in text
    assert "3 of 4 sessions left" in text
    # The next session in the student's zone (Berlin), named.
    assert "**Next session**  \nTue 5 Jan 2027, 15:00 CET (Europe/Berlin)" in text
    assert "**Last session**  \nnone yet" in text
    # Expiry: bought a day before now (Sunday 12:00 UTC), valid 90 days: 12:00 UTC, summer time.
    assert "expires Sat 3 Apr 2027, 14:00 CEST (Europe/Berlin)" in text
    assert "**Seat**  \nactive" in text
    assert "Sessions left: 3" in text
    assert "Upcoming sessions: 1" in text  # the other student's session is not counted
    assert "Completed sessions: 0" in text
    assert not at.warning  # 3 left: no alert
    assert at.button(key=f"book_{w.mentor}").disabled is False


def test_one_session_left_alert_only_when_none_booked(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock, sessions=2)
    # Two left: no alert.
    at = page(w.student, "student_home.py")
    assert not [e for e in at.warning if "One session left" in str(e.value)]

    # One left and it is booked: still no alert.
    session = booked_session(conn=conn, pack=w.pack, mentor=w.mentor, student=w.student,
                             starts=FIRST_SLOT)  # fmt: skip
    at = page(w.student, "student_home.py")
    assert "1 of 2 sessions left" in texts(at)
    assert not [e for e in at.warning if "One session left" in str(e.value)]

    # The session held (completed): one left, none booked: the alert and its renew button.
    conn.execute(
        "update public.sessions set status = 'completed', completed_at = %s where id = %s",
        (FIRST_SLOT + dt.timedelta(hours=1), session),
    )
    at = page(w.student, "student_home.py")
    alerts = [str(e.value) for e in at.warning if "One session left" in str(e.value)]
    assert alerts == [
        f"One session left with {mentor_name(scenario, w.mentor)}, and none booked. Book it, and "
        "renew your pack to keep your seat: after your last session the seat is held for you for "
        "a grace period only, then it goes to someone else."
    ]
    assert "**Last session**  \nTue 5 Jan 2027, 15:00 CET (Europe/Berlin)" in texts(at)
    assert "Completed sessions: 1" in texts(at)

    # Renew: the services refuse the checkout on placeholder Stripe keys; the message as it is.
    orders_before = scenario.one(
        "select count(*) from public.orders where student_id = %s", w.student
    )
    at.button(key=f"renew_{w.mentor}").click().run()
    assert not at.exception, at.exception
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith(
        "The checkout could not start: stripe checkout is not available: this stack runs on "
        "local placeholder API keys; set MENTORSHIPS_STRIPE_SECRET_KEY"
    ), errors
    assert not at.link_button
    orders = scenario.one("select count(*) from public.orders where student_id = %s", w.student)
    assert orders == orders_before == 0


def test_discord_reminder_and_empty_state(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock
) -> None:
    w = student_world(scenario, clock, discord=True)
    at = page(w.student, "student_home.py")
    assert "Link your Discord account" not in texts(at)

    newcomer = scenario.person("student", "Asia/Tokyo")
    at = page(newcomer, "student_home.py")
    text = texts(at)
    assert "Link your Discord account" in text
    assert "You have no mentors yet" in text
    assert not at.metric


def test_book_button_opens_booking_for_that_mentor(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock
) -> None:
    w = student_world(scenario, clock)
    second = scenario.mentor("Asia/Tokyo")
    scenario.pack(second, w.student, purchased_at=NOW - dt.timedelta(days=3))
    at = page(w.student, "student_home.py")
    at.button(key=f"book_{second}").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Book a session"
    assert at.selectbox(key="book_mentor").value == str(second)


def test_renew_shows_the_checkout_link(
    dashboards: DashboardSettings,
    scenario: Scenario,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With real Stripe keys the services answer the checkout: its link is shown (the services'
    answer stands in here, since Stripe is out of reach)."""
    w = student_world(scenario, clock, sessions=1)
    product = scenario.one("select product_id from public.session_packs where id = %s", w.pack)
    calls: list[tuple[str, str, object]] = []

    def service(self: Api, method: str, path: str, body: object = None) -> object:
        calls.append((method, path, body))
        return {
            "order_id": "o-1",
            "provider": "stripe",
            "checkout_id": "cs_test_1",
            "url": "https://checkout.stripe.com/c/pay/cs_test_1",
            "expires_at": "2027-01-04T12:32:00+00:00",
            "amount_cents": 24000,
            "currency": "usd",
        }

    monkeypatch.setattr(Api, "service", service)
    at = page(w.student, "student_home.py")
    at.button(key=f"renew_{w.mentor}").click().run()
    assert not at.exception, at.exception
    assert calls == [("POST", "/checkout/stripe", {"product_id": str(product)})]
    assert [str(e.value) for e in at.success] == [
        "Your checkout is ready: $240.00, open until Mon 4 Jan 2027, 13:32 CET (Europe/Berlin)."
    ]
    link = at.link_button[0]
    assert link.key == f"renew_{w.mentor}_pay"
    assert link.proto.url == "https://checkout.stripe.com/c/pay/cs_test_1"
