"""Find a mentor: the active mentors with their packs and prices, free seats, one's own mentor
marked; no inactive mentor or product; buying starts a checkout, refused on the local stack's
placeholder Stripe keys with the services' message (and no order)."""

from __future__ import annotations

import uuid

import psycopg

from dashboards.settings import DashboardSettings
from testing.clock import Clock
from testing.dashboards import texts
from testing.dashboards_student import page, student_world
from testing.factories import Scenario


def named(conn: psycopg.Connection, mentor: uuid.UUID, name: str) -> None:
    conn.execute(
        "update public.mentors set public_name = %s, headline = 'Figure drawing' where id = %s",
        (name, mentor),
    )


def test_mentors_packs_and_seats(
    dashboards: DashboardSettings, scenario: Scenario, clock: Clock, conn: psycopg.Connection
) -> None:
    w = student_world(scenario, clock)
    tag = uuid.uuid4().hex[:8]
    named(conn, w.mentor, f"Own {tag}")
    other = scenario.mentor(capacity=3)
    named(conn, other, f"Open {tag}")
    scenario.product(other, price_cents=19900, currency="eur", sessions=6, days=120,
                     title=f"Six {tag}")  # fmt: skip
    scenario.product(other, title=f"Retired {tag}", active=False)
    full = scenario.mentor(capacity=0)
    named(conn, full, f"Full {tag}")
    scenario.product(full, title=f"Full pack {tag}")
    gone = scenario.mentor(active=False)
    named(conn, gone, f"Gone {tag}")
    scenario.product(gone, title=f"Gone pack {tag}")

    at = page(w.student, "student_catalog.py")
    at.text_input(key="catalog_search").set_value(tag).run()
    assert not at.exception, at.exception
    text = texts(at)
    assert f"### Open {tag}" in text and f"### Full {tag}" in text and f"### Own {tag}" in text
    assert f"Gone {tag}" not in text and f"Retired {tag}" not in text
    assert f"**Six {tag}**: 6 sessions within 120 days, €199.00" in text
    assert "3 free seats" in [str(e.value) for e in at.info]
    assert "No free seat" in [str(e.value) for e in at.warning]
    assert "Your mentor" in [str(e.value) for e in at.success]

    product = scenario.one(
        "select id from public.mentorship_products where title = %s", f"Six {tag}"
    )
    at.button(key=f"buy_{product}").click().run()
    errors = [str(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(
        "The checkout could not start: stripe checkout is not available"
    ), errors
    assert scenario.one("select count(*) from public.orders where student_id = %s", w.student) == 0

    at.text_input(key="catalog_search").set_value(f"nobody {tag}").run()
    assert "No mentor matches" in texts(at)
