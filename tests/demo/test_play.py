"""`mentorships seed` (demo/): looks real, covers every state, keeps the credit invariant, is
idempotent, leaves non-demo users alone, and makes everything the real way: create_order through
the gateway as the student, signed provider webhooks to the running services (PayPal's signed
with the stack's local signer, whose certificate the stack serves), the booking RPCs as the
student, the mentor or the admin, and the job functions as the clock moves."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from demo import play
from mentorships.errors import StackError
from mentorships.info import info_text
from mentorships.settings import Settings
from mentorships.stack import Gateway, Services, Stack, paths
from testing.world import World

DEMO = "(select id from public.profiles where email like '%%@demo.mentorships.test')"


def _count(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _values(conn: psycopg.Connection, sql: str) -> set[str]:
    return {str(r[0]) for r in conn.execute(sql)}


@pytest.fixture
def services(stack: Stack) -> Iterator[Services]:
    """The test stack's services, as `mentorships up` starts them (the stack's teardown stops
    them)."""
    stack.services.start()
    yield stack.services


@pytest.fixture(scope="module")
def running(stack: Stack, settings: Settings) -> Settings:
    """The test stack as `mentorships up` leaves it: services running on placeholder keys, so
    PayPal in local mode (the gateway serves the local signer's certificate)."""
    stack.gateway.start()
    stack.services.start()
    assert stack.services.local_paypal_signer() is not None
    return settings


def _seed(settings: Settings) -> dict[str, int]:
    return play.run(settings, scale=1, random_seed=7, progress=lambda _: None)


@pytest.fixture(scope="module")
def cron_jobs(conn: psycopg.Connection) -> dict[str, bool]:
    return dict(conn.execute("select jobname, active from cron.job order by jobname").fetchall())


def test_seed_twice_gives_a_complete_consistent_demo(
    running: Settings,
    conn: psycopg.Connection,
    world: World,
    cron_jobs: dict[str, bool],
) -> None:
    world_rows = _count(conn, "select count(*) from public.session_packs")
    first = _seed(running)
    second = _seed(running)
    assert first == second
    assert first["mentors"] >= 5 and first["students"] >= 20

    demo = "from public.profiles p where p.email like '%%@demo.mentorships.test'"
    assert _count(conn, f"select count(*) {demo} and p.role = 'mentor'") >= 5
    continents = _values(
        conn,
        "select distinct split_part(m.time_zone, '/', 1) from public.mentors m"
        " join public.profiles p on p.id = m.id"
        " where p.email like '%%@demo.mentorships.test'",
    )
    assert len(continents) >= 3, continents

    assert _values(conn, "select distinct status from public.seat_reservations") == {
        "hold",
        "active",
        "grace",
        "released",
    }
    assert _values(
        conn,
        f"select distinct release_reason from public.seat_reservations where student_id in {DEMO}",
    ) == {"grace_ended", "hold_expired", "refunded", "None"}
    assert _values(conn, "select distinct status from public.session_packs") == {
        "active",
        "depleted",
        "expired",
        "refunded",
    }
    assert _values(conn, "select distinct status from public.sessions") == {
        "scheduled",
        "completed",
        "canceled",
        "late_canceled",
        "student_no_show",
        "mentor_no_show",
    }
    assert _values(conn, "select distinct status from public.orders") == {
        "pending",
        "paid",
        "expired",
        "canceled",
        "refunded",
        "flagged",
    }
    assert _values(conn, "select distinct status from public.payments") == {
        "succeeded",
        "partially_refunded",
        "refunded",
    }
    assert _values(
        conn, f"select distinct provider from public.orders where student_id in {DEMO}"
    ) == {"stripe", "paypal"}
    # a promotion code and a grandfathered price, priced by create_order
    assert (
        _count(
            conn,
            f"select count(*) from public.orders where student_id in {DEMO}"
            " and discount_cents > 0 and promotion_code_id is not null",
        )
        >= 2
    )
    assert (
        _count(
            conn,
            f"select count(*) from public.orders where student_id in {DEMO}"
            " and grandfathered_price_cents < list_price_cents and status = 'paid'",
        )
        >= 1
    )

    # credits: remaining = total + ledger, for every pack
    assert (
        _count(
            conn,
            """
        select count(*) from public.session_packs p
        where p.remaining_sessions <> p.sessions_total + coalesce(
          (select sum(l.delta) from public.session_credit_ledger l where l.pack_id = p.id), 0)""",
        )
        == 0
    )
    # capacity: active + grace + live holds never exceed a mentor's seats
    assert (
        _count(
            conn,
            """
        select count(*) from public.mentors m where m.seat_capacity < (
          select count(*) from public.seat_reservations s where s.mentor_id = m.id
            and (s.status in ('active', 'grace') or (s.status = 'hold' and s.hold_expires_at > now())))""",
        )
        == 0
    )
    # the test world (not demo users) is untouched
    assert _count(conn, "select count(*) from public.session_packs") == world_rows + first["packs"]
    # the replay gave back the clock and left pg_cron as it found it
    assert _count(conn, "select count(*) from private.clock where frozen_at is not null") == 0
    assert dict(conn.execute("select jobname, active from cron.job").fetchall()) == cron_jobs


def test_every_purchase_came_through_the_webhooks(
    running: Settings, conn: psycopg.Connection, world: World
) -> None:
    _seed(running)
    orders = f"public.orders o where o.student_id in {DEMO}"

    # every paid order: exactly one fulfilling event, its payment, its pack
    paid = _count(conn, f"select count(*) from {orders} and o.paid_at is not null")
    assert paid >= 15
    assert _count(
        conn,
        f"""select count(*) from {orders} and o.status in ('paid', 'refunded') and (
                  select count(*) from private.webhook_events w
                   where w.order_id = o.id and w.outcome = 'fulfilled') = 1
              and exists (select from private.webhook_events w
                           join public.payments pay on pay.provider = w.provider
                            and pay.provider_payment_id = w.payment_ref
                          where w.order_id = o.id and w.outcome = 'fulfilled'
                            and pay.order_id = o.id and pay.amount_cents = o.amount_cents
                            and pay.paid_at = o.paid_at)
              and exists (select from public.session_packs p
                           where p.order_id = o.id and p.purchased_at = o.paid_at)""",
    ) == _count(conn, f"select count(*) from {orders} and o.status in ('paid', 'refunded')")
    # PayPal purchases too: PAYMENT.CAPTURE.COMPLETED events posted to /webhooks/paypal,
    # signed with the stack's local signer, verified with the certificate the stack serves
    paypal_paid = _count(
        conn,
        f"""select count(*) from {orders} and o.provider = 'paypal' and exists (
                  select from private.webhook_events w
                   where w.order_id = o.id and w.provider = 'paypal'
                     and w.event_type = 'PAYMENT.CAPTURE.COMPLETED' and w.outcome = 'fulfilled')""",
    )
    assert paypal_paid >= 2
    assert paypal_paid == _count(
        conn, f"select count(*) from {orders} and o.provider = 'paypal' and o.paid_at is not null"
    )
    # the renewal switched to the other provider: create_order canceled the first checkout
    # (its hold passed to the new order), then the second one ran out
    switched = conn.execute(
        f"""select c.provider::text, n.provider::text, n.status::text
              from public.orders c
              join public.orders n on n.student_id = c.student_id
               and n.product_id = c.product_id and n.provider <> c.provider
               and n.created_at > c.created_at
             where c.student_id in {DEMO} and c.status = 'canceled'"""
    ).fetchall()
    assert len(switched) >= 1, switched
    assert all(status == "expired" for _, _, status in switched), switched
    assert {frozenset(pair) for *pair, _ in switched} == {frozenset({"stripe", "paypal"})}
    # no payment, pack or seat without the webhook or order that made it
    assert (
        _count(
            conn,
            f"""select count(*) from public.payments pay where pay.student_id in {DEMO}
                and not exists (select from private.webhook_events w
                                 where w.provider = pay.provider
                                   and w.payment_ref = pay.provider_payment_id
                                   and w.outcome in ('fulfilled', 'flagged'))""",
        )
        == 0
    )
    assert (
        _count(
            conn,
            f"""select count(*) from public.seat_reservations s where s.student_id in {DEMO}
                and not exists (select from public.orders o where o.seat_reservation_id = s.id)""",
        )
        == 0
    )
    # everything after a purchase refers to the packs the database created
    assert (
        _count(
            conn,
            f"""select count(*) from public.sessions s join public.session_packs p on p.id = s.pack_id
                where s.student_id in {DEMO} and not exists (
                  select from private.webhook_events w
                   where w.order_id = p.order_id and w.outcome = 'fulfilled')""",
        )
        == 0
    )
    assert (
        _count(
            conn,
            f"""select count(*) from public.notifications n where n.recipient_id in {DEMO}
                and n.pack_id is not null and not exists (
                  select from public.session_packs p where p.id = n.pack_id)""",
        )
        == 0
    )

    # the refunded storyline: its refund event, the payment and pack refunded, the seat freed,
    # the upcoming session canceled by the refund
    refunded = conn.execute(
        f"""select o.id, pay.status::text, pay.refunded_cents = pay.amount_cents, p.status::text,
                   p.remaining_sessions, s.status::text, s.release_reason
              from public.orders o
              join public.payments pay on pay.order_id = o.id
              join public.session_packs p on p.order_id = o.id
              join public.seat_reservations s on s.id = p.seat_reservation_id
             where o.student_id in {DEMO} and o.status = 'refunded'"""
    ).fetchall()
    assert len(refunded) == 1
    order_id, *states = refunded[0]
    assert states == ["refunded", True, "refunded", 0, "released", "refunded"]
    assert _values(
        conn, f"select outcome from private.webhook_events where order_id = '{order_id}'"
    ) == {"fulfilled", "refunded"}
    assert (
        _count(
            conn,
            f"""select count(*) from public.sessions s join public.session_packs p on p.id = s.pack_id
                where p.order_id = '{order_id}' and s.status = 'canceled'
                  and s.cancel_reason = 'pack refunded'""",
        )
        == 1
    )
    # the partial refund: recorded, nothing else changed
    assert (
        _count(
            conn,
            f"""select count(*) from {orders} and o.status = 'paid' and exists (
                  select from public.payments pay where pay.order_id = o.id
                   and pay.status = 'partially_refunded'
                   and pay.refunded_cents between 1 and pay.amount_cents - 1)
                and exists (select from private.webhook_events w
                             where w.order_id = o.id and w.outcome = 'partially_refunded')""",
        )
        == 1
    )
    # the flagged order: paid less than it says, recorded, nothing granted, admins told
    flagged = conn.execute(
        f"""select o.flagged_reason, pay.amount_cents < o.amount_cents,
                   (select count(*) from public.session_packs p where p.order_id = o.id),
                   (select array_agg(w.outcome) from private.webhook_events w where w.order_id = o.id)
              from public.orders o join public.payments pay on pay.order_id = o.id
             where o.student_id in {DEMO} and o.status = 'flagged'"""
    ).fetchall()
    assert len(flagged) == 1
    reason, underpaid, packs, outcomes = flagged[0]
    assert reason.startswith("paid ") and underpaid and packs == 0 and outcomes == ["flagged"]
    assert (
        _count(
            conn,
            f"""select count(*) from public.notifications n
                 where n.kind = 'payment_flagged' and n.payload ->> 'order_id' in (
                   select o.id::text from {orders} and o.status = 'flagged')""",
        )
        >= 1
    )
    # checkouts that ran out: Stripe's by checkout.session.expired, PayPal's by the hold job
    assert (
        _count(
            conn,
            f"""select count(*) from {orders} and o.status = 'expired' and o.provider = 'stripe'
                and not exists (select from private.webhook_events w
                                 where w.order_id = o.id and w.outcome = 'released'
                                   and w.event_type = 'checkout.session.expired')""",
        )
        == 0
    )
    # open holds: just the order, live
    assert (
        _count(
            conn,
            f"""select count(*) from public.orders o
                join public.seat_reservations s on s.id = o.seat_reservation_id
               where o.student_id in {DEMO} and o.status = 'pending'
                 and s.status = 'hold' and s.hold_expires_at > now()
                  and not exists (select from private.webhook_events w where w.order_id = o.id)""",
        )
        >= 1
    )
    # the history is dated by the storylines, not by when the seed ran
    assert (
        _count(
            conn,
            f"""select count(*) from {orders} and o.status <> 'pending'
                and o.created_at > now() - interval '1 hour'""",
        )
        == 0
    )


def test_seed_refuses_when_the_services_are_not_running(
    settings: Settings, conn: psycopg.Connection, world: World, services: Services
) -> None:
    before = _count(conn, f"select count(*) from public.orders where student_id in {DEMO}")
    services.stop()
    try:
        with pytest.raises(StackError) as e:
            play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
        assert str(e.value) == (
            f"the services app is not answering at {settings.services_url}/health (HTTP none); "
            "run `mentorships up` (the demo's purchases go through it)"
        )
    finally:
        services.start()
    assert _count(conn, f"select count(*) from public.orders where student_id in {DEMO}") == before


def test_seed_refuses_when_the_services_run_with_other_settings(
    settings: Settings, conn: psycopg.Connection, world: World, services: Services
) -> None:
    """They would not verify what the seed signs (say, a `mentorships up` from before the stack
    had its local PayPal signer): nothing is written, and the error says to run `up`."""
    before = _count(conn, f"select count(*) from public.orders where student_id in {DEMO}")
    other = Settings.model_validate(
        {**settings.model_dump(), "checkout_success_url": "https://other.example/{order_id}"}
    )
    Services(other).start()
    try:
        with pytest.raises(StackError) as e:
            play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
        assert str(e.value).startswith(
            f"the services app on 127.0.0.1:{settings.services_port} runs with other settings "
            f"than this stack's now (.local/{settings.stack}/services.env differs"
        )
        assert str(e.value).endswith("restart it with `mentorships up`")
    finally:
        assert services.start() is True  # back to the stack's own settings
    assert _count(conn, f"select count(*) from public.orders where student_id in {DEMO}") == before


def test_seed_refuses_when_the_local_paypal_certificate_is_not_served(
    settings: Settings, stack: Stack, conn: psycopg.Connection, world: World, services: Services
) -> None:
    """A gateway started without the local PayPal host (as by a `mentorships up` from before
    it had one): the services could not verify the seed's PayPal events."""
    local = services.local_paypal_signer()
    assert local is not None
    before = _count(conn, f"select count(*) from public.orders where student_id in {DEMO}")
    with_real_keys = Settings.model_validate(
        {**settings.model_dump(), "paypal_client_id": "real", "paypal_client_secret": "real"}
    )
    assert "CERT-local" not in Gateway(with_real_keys).config()
    Gateway(with_real_keys).start()
    try:
        with pytest.raises(StackError) as e:
            play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
        assert str(e.value) == (
            f"the local PayPal certificate host {local.cert_url} does not serve this stack's "
            "certificate; run `mentorships up`"
        )
    finally:
        assert stack.gateway.start() is True  # back to the stack's own settings
    assert httpx.get(local.cert_url).content == local.signer.cert_pem
    assert _count(conn, f"select count(*) from public.orders where student_id in {DEMO}") == before


def test_info_prints_working_commands(settings: Settings, world: World) -> None:
    text = info_text(settings)
    assert settings.rest_url in text
    assert "mentorships token student1@demo.mentorships.test" in text
    assert text.count("curl -s") >= 3


def test_the_history_was_made_by_the_people_in_it(
    running: Settings, conn: psycopg.Connection, world: World
) -> None:
    """No row is written around the rules: each session was booked by its student (the audit
    log names who), closed by its mentor or an admin, canceled by one of them; every credit
    moved through the ledger by the call that moved it; grace and release came from the jobs."""
    _seed(running)
    sessions = f"public.sessions s where s.student_id in {DEMO}"
    assert _count(conn, f"select count(*) from {sessions}") >= 50
    booked_by_student = f"""select count(*) from {sessions} and exists (
        select from public.audit_log a where a.row_id = s.id and a.action = 'sessions.created'
           and a.actor_id = s.student_id)"""
    assert _count(conn, booked_by_student) == _count(conn, f"select count(*) from {sessions}")
    closed_by_someone_else = f"""select count(*) from {sessions}
        and s.status in ('completed', 'student_no_show', 'mentor_no_show') and not exists (
        select from public.audit_log a join public.profiles p on p.id = a.actor_id
         where a.row_id = s.id and a.action = 'sessions.' || s.status
           and (a.actor_id = s.mentor_id or p.role = 'admin'))"""
    assert _count(conn, closed_by_someone_else) == 0
    assert _count(conn, f"select count(*) from {sessions} and s.status = 'mentor_no_show'") >= 1
    # every booked credit is the student's booking, every restored one a cancel or no-show
    assert (
        _count(
            conn,
            f"""select count(*) from public.session_credit_ledger l
                 join public.sessions s on s.id = l.session_id
                where l.student_id in {DEMO} and l.kind = 'session_booked'
                  and l.actor_id is distinct from s.student_id""",
        )
        == 0
    )
    # the jobs ran as the clock moved: packs expired, seats went into grace and were released,
    # the grace warning went out, the messages due before now went out
    for kind in ("grace_started", "grace_warning", "seat_released", "session_reminder_1h"):
        assert (
            _count(
                conn,
                f"select count(*) from public.notifications where recipient_id in {DEMO}"
                f" and kind = '{kind}' and status = 'sent'",
            )
            >= 1
        ), kind
    assert (
        _count(
            conn,
            f"""select count(*) from public.notifications where recipient_id in {DEMO}
                 and status = 'pending' and send_after <= now() - interval '2 hours'""",
        )
        == 0
    )


def test_seed_puts_back_what_a_killed_seed_left(
    running: Settings, stack: Stack, conn: psycopg.Connection, world: World
) -> None:
    """A seed killed outright leaves the clock frozen and the jobs paused, and its marker says
    how they were: the next seed puts them back before it starts, and says so."""
    active = "select jobname from cron.job where active order by 1"
    before = _values(conn, active)  # the test stack keeps its jobs paused
    marker = paths(running).state / "seed-in-progress.json"
    marker.write_text(json.dumps({"clock": None, "paused_jobs": ["expire-packs"]}))
    conn.execute("update private.clock set frozen_at = '2026-01-01 00:00+00'")
    said: list[str] = []
    try:
        play.run(running, scale=1, random_seed=7, progress=said.append)
        assert any("an earlier seed was killed" in line for line in said), said
        assert _count(conn, "select count(*) from private.clock where frozen_at is not null") == 0
        assert _values(conn, active) == before | {"expire-packs"}
        assert not marker.exists()
    finally:
        conn.execute("update cron.job set active = false where jobname = 'expire-packs'")


def test_every_row_carries_the_instant_the_rules_wrote_it(
    running: Settings, conn: psycopg.Connection, world: World
) -> None:
    """Nothing is re-dated: the rules stamped each row with the storyline's clock, so the
    history spans months and each row's times agree with the others'."""
    _seed(running)
    for table, who in (
        ("public.sessions", "student_id"),
        ("public.session_credit_ledger", "student_id"),
        ("public.session_packs", "student_id"),
        ("public.payments", "student_id"),
        ("public.notifications", "recipient_id"),
    ):
        span = conn.execute(
            f"select min(created_at) < now() - interval '90 days', max(created_at) <= now(),"
            f" count(distinct created_at::date) from {table} where {who} in {DEMO}"
        ).fetchone()
        assert span is not None and span[0] and span[1] and span[2] >= 15, (table, span)
    sessions = f"public.sessions s where s.student_id in {DEMO}"
    # booked before they start; closed after; the booking's ledger entry at the booking's instant
    assert _count(conn, f"select count(*) from {sessions} and s.created_at >= s.starts_at") == 0
    assert _count(conn, f"select count(*) from {sessions} and s.completed_at < s.starts_at") == 0
    assert (
        _count(
            conn,
            f"""select count(*) from {sessions} and not exists (
                 select from public.session_credit_ledger l where l.session_id = s.id
                    and l.kind = 'session_booked' and l.created_at = s.created_at)""",
        )
        == 0
    )
    # a pack was bought when its payment came: the payment's and the webhook's instant
    assert (
        _count(
            conn,
            f"""select count(*) from public.session_packs p join public.payments pay
                  on pay.order_id = p.order_id
                where p.student_id in {DEMO} and (p.created_at <> p.purchased_at
                   or pay.created_at <> p.purchased_at or not exists (
                     select from private.webhook_events w where w.order_id = p.order_id
                        and w.outcome = 'fulfilled' and w.received_at = p.purchased_at))""",
        )
        == 0
    )
