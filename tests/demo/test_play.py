"""`mentorships seed` (demo/): looks real, covers every state, keeps the credit invariant, is
idempotent, leaves non-demo users alone, and buys the real way: create_order through the gateway
as the student, signed provider webhooks to the running services (PayPal's signed with the
stack's local signer, whose certificate the stack serves)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from mentorships.settings import Settings
from mentorships.stack import Worker
from testing.demo import (
    DEMO,
    count,
    deliver_what_is_due,
    mail_files,
    mail_names,
    seed,
    values,
)
from testing.world import World


def test_seed_twice_gives_a_complete_consistent_demo(
    running: Settings,
    conn: psycopg.Connection,
    world: World,
    cron_jobs: dict[str, bool],
    tmp_path: Path,
) -> None:
    others = f"select count(*) from public.session_packs where student_id not in {DEMO}"
    world_rows = count(conn, others)  # other tests' packs (and earlier demo packs are replaced)
    mail = Worker(running).mail_dir
    shutil.rmtree(mail, ignore_errors=True)
    deliver_what_is_due(running, tmp_path)  # as the stack's dispatcher would have
    first = seed(running)
    first_files = mail_files(mail)
    second = seed(running)
    assert first == second
    # the files of the first seed's messages went with them: one file per message sent
    sent = mail_names(conn, f"claimed_by = '{running.stack}-seed' and status = 'sent'")
    assert mail_files(mail) == sent and len(first_files - sent) >= 300
    assert first["mentors"] >= 5 and first["students"] >= 20

    demo = "from public.profiles p where p.email like '%%@demo.mentorships.test'"
    assert count(conn, f"select count(*) {demo} and p.role = 'mentor'") >= 5
    continents = values(
        conn,
        "select distinct split_part(m.time_zone, '/', 1) from public.mentors m"
        " join public.profiles p on p.id = m.id"
        " where p.email like '%%@demo.mentorships.test'",
    )
    assert len(continents) >= 3, continents

    assert values(conn, "select distinct status from public.seat_reservations") == {
        "hold",
        "active",
        "grace",
        "released",
    }
    assert values(
        conn,
        f"select distinct release_reason from public.seat_reservations where student_id in {DEMO}",
    ) == {"grace_ended", "hold_expired", "refunded", "None"}
    assert values(conn, "select distinct status from public.session_packs") == {
        "active",
        "depleted",
        "expired",
        "refunded",
    }
    assert values(conn, "select distinct status from public.sessions") == {
        "scheduled",
        "completed",
        "canceled",
        "late_canceled",
        "student_no_show",
        "mentor_no_show",
    }
    assert values(conn, "select distinct status from public.orders") == {
        "pending",
        "paid",
        "expired",
        "canceled",
        "refunded",
        "flagged",
    }
    assert values(conn, "select distinct status from public.payments") == {
        "succeeded",
        "partially_refunded",
        "refunded",
    }
    assert values(
        conn, f"select distinct provider from public.orders where student_id in {DEMO}"
    ) == {"stripe", "paypal"}
    # a promotion code and a grandfathered price, priced by create_order
    assert (
        count(
            conn,
            f"select count(*) from public.orders where student_id in {DEMO}"
            " and discount_cents > 0 and promotion_code_id is not null",
        )
        >= 2
    )
    assert (
        count(
            conn,
            f"select count(*) from public.orders where student_id in {DEMO}"
            " and grandfathered_price_cents < list_price_cents and status = 'paid'",
        )
        >= 1
    )

    # credits: remaining = total + ledger, for every pack
    assert (
        count(
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
        count(
            conn,
            """
        select count(*) from public.mentors m where m.seat_capacity < (
          select count(*) from public.seat_reservations s where s.mentor_id = m.id
            and (s.status in ('active', 'grace') or (s.status = 'hold' and s.hold_expires_at > now())))""",
        )
        == 0
    )
    # the test world (not demo users) is untouched
    assert count(conn, others) == world_rows
    assert (
        count(conn, f"select count(*) from public.session_packs where student_id in {DEMO}")
        == (first["packs"])
    )
    # the replay gave back the clock and left pg_cron as it found it
    assert count(conn, "select count(*) from private.clock where frozen_at is not null") == 0
    assert dict(conn.execute("select jobname, active from cron.job").fetchall()) == cron_jobs


def test_every_purchase_came_through_the_webhooks(
    running: Settings, conn: psycopg.Connection, world: World
) -> None:
    seed(running)
    orders = f"public.orders o where o.student_id in {DEMO}"

    # every paid order: exactly one fulfilling event, its payment, its pack
    paid = count(conn, f"select count(*) from {orders} and o.paid_at is not null")
    assert paid >= 15
    assert count(
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
    ) == count(conn, f"select count(*) from {orders} and o.status in ('paid', 'refunded')")
    # PayPal purchases too: PAYMENT.CAPTURE.COMPLETED events posted to /webhooks/paypal,
    # signed with the stack's local signer, verified with the certificate the stack serves
    paypal_paid = count(
        conn,
        f"""select count(*) from {orders} and o.provider = 'paypal' and exists (
                  select from private.webhook_events w
                   where w.order_id = o.id and w.provider = 'paypal'
                     and w.event_type = 'PAYMENT.CAPTURE.COMPLETED' and w.outcome = 'fulfilled')""",
    )
    assert paypal_paid >= 2
    assert paypal_paid == count(
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
        count(
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
        count(
            conn,
            f"""select count(*) from public.seat_reservations s where s.student_id in {DEMO}
                and not exists (select from public.orders o where o.seat_reservation_id = s.id)""",
        )
        == 0
    )
    # everything after a purchase refers to the packs the database created
    assert (
        count(
            conn,
            f"""select count(*) from public.sessions s join public.session_packs p on p.id = s.pack_id
                where s.student_id in {DEMO} and not exists (
                  select from private.webhook_events w
                   where w.order_id = p.order_id and w.outcome = 'fulfilled')""",
        )
        == 0
    )
    assert (
        count(
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
    assert values(
        conn, f"select outcome from private.webhook_events where order_id = '{order_id}'"
    ) == {"fulfilled", "refunded"}
    assert (
        count(
            conn,
            f"""select count(*) from public.sessions s join public.session_packs p on p.id = s.pack_id
                where p.order_id = '{order_id}' and s.status = 'canceled'
                  and s.cancel_reason = 'pack refunded'""",
        )
        == 1
    )
    # the partial refund: recorded, nothing else changed
    assert (
        count(
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
        count(
            conn,
            f"""select count(*) from public.notifications n
                 where n.kind = 'payment_flagged' and n.payload ->> 'order_id' in (
                   select o.id::text from {orders} and o.status = 'flagged')""",
        )
        >= 1
    )
    # checkouts that ran out: Stripe's by checkout.session.expired, PayPal's by the hold job
    assert (
        count(
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
        count(
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
        count(
            conn,
            f"""select count(*) from {orders} and o.status <> 'pending'
                and o.created_at > now() - interval '1 hour'""",
        )
        == 0
    )
