"""One more day on the benchmark data set (bench/reports.py measures an incremental build after
it): the day's completions and no-shows, new bookings, renewals of seats in grace with their
orders and payments, and their messages, written set-based; then the clock moves a day on and
the time-driven rules (private.run_due_jobs) run as pg_cron would, triggers on.

`mentors` limits it to some mentors (a subquery of ids), as in testing/invariants.py."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

from testing.invariants import ALL_MENTORS

STEPS: list[tuple[str, str]] = [
    (
        "sessions closed",
        """with closed as (
             update public.sessions s
                set status = case when r.roll < 0.93 then 'completed'
                                  when r.roll < 0.97 then 'student_no_show'
                                  else 'mentor_no_show' end::public.session_status,
                    completed_at = case when r.roll < 0.93 then s.ends_at + interval '5 minutes' end,
                    updated_at = s.ends_at + interval '5 minutes'
               from (select id, random() as roll from public.sessions
                      where status = 'scheduled' and mentor_id in ({mentors})
                        and ends_at <= private.clock_now() + interval '1 day') r
              where s.id = r.id
              returning s.*),
           restored as (
             insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id,
                                                       kind, delta, actor_id, created_at)
             select pack_id, mentor_id, student_id, id, 'mentor_no_show', 1, mentor_id, updated_at
               from closed where status = 'mentor_no_show'
             returning pack_id)
           update public.session_packs p set remaining_sessions = p.remaining_sessions + n.n
             from (select pack_id, count(*)::int as n from restored group by 1) n
            where p.id = n.pack_id""",
    ),
    (
        "sessions booked",
        """with day as (select private.clock_now() as t0),
           chosen as (
             select distinct on (p.student_id) p.*
               from public.session_packs p
              where p.status = 'active' and p.remaining_sessions > 0 and p.mentor_id in ({mentors})
                and p.expires_at > (select t0 from day) + interval '10 days'
              order by p.student_id, p.purchased_at desc),
           sample as (
             select c.*, row_number() over (partition by c.mentor_id order by random()) as rn
               from chosen c
              order by random()
              limit greatest(1, (select count(*) from public.sessions
                                  where mentor_id in ({mentors})) / 730)),
           placed as (
             select s.*, date_bin(interval '15 minutes',
                                  greatest((select t0 from day) + interval '2 days',
                                           -- the mentor's latest session (index, backwards)
                                           (select x.blocked_until from public.sessions x
                                             where x.mentor_id = s.mentor_id
                                             order by x.starts_at desc limit 1)),
                                  timestamptz '2000-01-01') + interval '15 minutes'
                          + (s.rn - 1) * interval '75 minutes' as starts_at
               from sample s),
           booked as (
             insert into public.sessions (pack_id, mentor_id, student_id, status, starts_at,
                                          ends_at, blocked_until, created_at, updated_at)
             select p.id, p.mentor_id, p.student_id, 'scheduled', p.starts_at,
                    p.starts_at + interval '1 hour', p.starts_at + interval '75 minutes', b.at,
                    b.at
               from placed p
              cross join lateral (select (select t0 from day) + random() * interval '1 day'
                                         as at) b
              where p.starts_at + interval '1 hour' <= p.expires_at
             returning *),
           ledger as (
             insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id,
                                                       kind, delta, actor_id, created_at)
             select pack_id, mentor_id, student_id, id, 'session_booked', -1, student_id,
                    created_at
               from booked
             returning pack_id),
           packs as (
             update public.session_packs p set remaining_sessions = p.remaining_sessions - 1
              where p.id in (select pack_id from ledger))
           insert into public.notifications (recipient_id, kind, channel, dedupe_key, payload,
                                             session_id, status, send_after, attempts, sent_at,
                                             created_at)
           select r.recipient, m.kind, 'email', m.key || ':' || r.recipient || ':email',
                  jsonb_build_object('session_id', b.id, 'starts_at', b.starts_at), b.id,
                  m.status, m.due, m.attempts, m.sent, b.created_at
             from booked b
            cross join lateral (values
              ('session_booked'::public.notification_kind, 'session:' || b.id || ':booked',
               'sent'::public.notification_status, b.created_at, 1,
               b.created_at + interval '2 seconds'),
              ('session_reminder_24h', 'session:' || b.id || ':v0:session_reminder_24h',
               'pending', b.starts_at - interval '24 hours', 0, null)) m (kind, key, status, due,
                                                                         attempts, sent)
            cross join lateral (values (b.student_id), (b.mentor_id)) r (recipient)""",
    ),
    (
        "renewals (orders, payments, packs)",
        """with day as (select private.clock_now() as t0),
           renewing as (
             select s.id as seat_id, s.mentor_id, s.student_id, last.product_id,
                    last.price as paid_before, pr.price_cents as listed, pr.currency,
                    pr.sessions_count, pr.validity_days,
                    (select t0 from day) + random() * interval '1 day' as at
               from public.seat_reservations s
               cross join lateral (
                 select p.product_id,
                        coalesce(o.grandfathered_price_cents, o.list_price_cents) as price
                   from public.session_packs p join public.orders o on o.id = p.order_id
                  where p.seat_reservation_id = s.id and o.status = 'paid'
                  order by p.purchased_at desc limit 1) last
               join public.mentorship_products pr on pr.id = last.product_id
              where s.status = 'grace' and s.mentor_id in ({mentors})
                and s.grace_ends_at > (select t0 from day) + interval '1 day'
                and random() < 0.5),
           orders as (
             insert into public.orders (student_id, mentor_id, product_id, seat_reservation_id,
                                        provider, status, list_price_cents,
                                        grandfathered_price_cents, amount_cents, currency,
                                        provider_checkout_id, expires_at, paid_at,
                                        sessions_count, validity_days, created_at, updated_at)
             select student_id, mentor_id, product_id, seat_id,
                    case when random() < 0.75 then 'stripe' else 'paypal' end::public.payment_provider,
                    'paid', listed, case when paid_before < listed then paid_before end,
                    least(paid_before, listed), currency, 'cs_day_' || md5(seat_id::text || at),
                    at + interval '30 minutes', at, sessions_count, validity_days,
                    at - interval '2 minutes', at
               from renewing
             returning *),
           payments as (
             insert into public.payments (order_id, student_id, provider, provider_payment_id,
                                          amount_cents, currency, paid_at, created_at, updated_at)
             select id, student_id, provider, 'pi_day_' || md5(id::text), amount_cents, currency,
                    paid_at, paid_at, paid_at
               from orders),
           packs as (
             insert into public.session_packs (student_id, mentor_id, product_id, order_id,
                                               seat_reservation_id, sessions_total,
                                               remaining_sessions, price_cents, currency,
                                               grace_period_hours, cancel_notice_hours,
                                               purchased_at, expires_at, created_at, updated_at)
             select student_id, mentor_id, product_id, id, seat_reservation_id, sessions_count,
                    sessions_count, amount_cents, currency, 72, 24, paid_at,
                    paid_at + make_interval(days => validity_days), paid_at, paid_at
               from orders
             returning *),
           seats as (
             update public.seat_reservations s
                set status = 'active', grace_started_at = null, grace_ends_at = null,
                    updated_at = p.purchased_at
               from packs p where s.id = p.seat_reservation_id)
           insert into public.notifications (recipient_id, kind, channel, dedupe_key, payload,
                                             pack_id, status, send_after, attempts, sent_at,
                                             created_at)
           select r.recipient, 'pack_purchased', 'email',
                  'order:' || p.order_id || ':paid:' || r.recipient || ':email',
                  jsonb_build_object('order_id', p.order_id, 'pack_id', p.id), p.id, 'sent',
                  p.purchased_at, 1, p.purchased_at + interval '2 seconds', p.purchased_at
             from packs p
            cross join lateral (values (p.student_id), (p.mentor_id)) r (recipient)""",
    ),
]


def add_day(
    conn: psycopg.Connection,
    mentors: str = ALL_MENTORS,
    progress: Callable[[str], None] = print,
) -> None:
    """A day's worth of new rows (in `conn`'s transaction), then the clock a day on and the
    time-driven rules run."""
    conn.execute("set local session_replication_role = replica")
    for name, sql in STEPS:
        t0 = time.monotonic()
        conn.execute(sql.replace("{mentors}", mentors))
        progress(f"  {name} ({time.monotonic() - t0:.1f} s)")
    conn.execute("set local session_replication_role = origin")
    conn.execute("update private.clock set frozen_at = private.clock_now() + interval '1 day'")
    t0 = time.monotonic()
    row = conn.execute("select private.run_due_jobs()").fetchone()
    progress(
        f"  the clock a day on, jobs run: {row[0] if row else ''} ({time.monotonic() - t0:.1f} s)"
    )
