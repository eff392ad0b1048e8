"""A benchmark data set at the shape of a real platform (bench/dataset.py), written in bulk.

Each mentor's seats are lanes: a lane holds one student's seat at a time (a tenure: packs bought
one after another, renewals within the grace period, then grace and release), so seats never
exceed capacity; one spare seat per mentor takes the abandoned checkouts' holds, which never
overlap each other. A mentor's sessions sit on a grid of 75-minute slots (60 + 15 buffer), each
slot used once, so no two sessions of a mentor overlap, whatever their status; a student's
tenures never overlap in time, so neither do a student's sessions. Python plays each lane
(testing/dataset_lanes.py) into staging tables by COPY; set-based SQL writes the app tables from
them, derives the credit ledger and the outbox, and freezes the clock at NOW.

The load runs with session_replication_role = replica: no trigger fires, foreign keys included.
testing/invariants.py then checks what they would have ensured (ledger balance, keys, capacity,
overlaps, amounts)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

import psycopg

from testing.dataset_lanes import NOW, Plan, Tables, play

Progress = Callable[[str], None]

STAGING = """
create temporary table stage_users (id uuid, role public.user_role, email text, name text,
  time_zone text, discord text, created bigint) on commit drop;
create temporary table stage_mentors (id uuid, slug text, name text, time_zone text,
  capacity int, created bigint) on commit drop;
create temporary table stage_products (id uuid, mentor_id uuid, title text, sessions int,
  validity int, price int, currency text, created bigint) on commit drop;
create temporary table stage_promos (id uuid, code text, percent_off int, amount_off int,
  currency text, valid_from bigint, valid_until bigint, max_redemptions int, mentor_id uuid,
  created_by uuid) on commit drop;
create temporary table stage_seats (id uuid, mentor_id uuid, student_id uuid,
  status public.seat_status, hold_expires bigint, activated bigint, grace_started bigint,
  grace_ends bigint, released bigint, release_reason text, created bigint, updated bigint)
  on commit drop;
create temporary table stage_orders (id uuid, student_id uuid, mentor_id uuid, product_id uuid,
  seat_id uuid, promo_id uuid, provider public.payment_provider, status public.order_status,
  list_price int, grandfathered int, discount int, amount int, currency text, checkout text,
  expires bigint, paid bigint, flagged_reason text, sessions int, validity int, created bigint,
  updated bigint) on commit drop;
create temporary table stage_payments (id uuid, order_id uuid, student_id uuid,
  provider public.payment_provider, ref text, status public.payment_status, amount int,
  refunded int, currency text, paid bigint, updated bigint) on commit drop;
create temporary table stage_packs (id uuid, student_id uuid, mentor_id uuid, product_id uuid,
  order_id uuid, seat_id uuid, status public.pack_status, total int, remaining int, price int,
  currency text, purchased bigint, expires bigint, depleted bigint, expired bigint,
  refunded bigint, forfeited int, adjusted_by uuid, adjusted bigint, updated bigint)
  on commit drop;
create temporary table stage_sessions (id uuid, pack_id uuid, mentor_id uuid, student_id uuid,
  status public.session_status, starts bigint, canceled bigint, canceled_by uuid,
  closed bigint, created bigint) on commit drop;
"""

WRITE = [
    (
        "auth.users",
        """insert into auth.users (id, aud, role, email, email_confirmed_at, created_at, updated_at,
             raw_user_meta_data, raw_app_meta_data)
           select id, 'authenticated', 'authenticated', email, to_timestamp(created),
                  to_timestamp(created), to_timestamp(created),
                  jsonb_build_object('display_name', name, 'time_zone', time_zone), '{}'
             from stage_users""",
    ),
    (
        "public.profiles",
        """insert into public.profiles (id, role, email, display_name, time_zone, discord_user_id,
             created_at, updated_at)
           select id, role, email, name, time_zone, discord, to_timestamp(created),
                  to_timestamp(created)
             from stage_users""",
    ),
    (
        "public.mentors",
        """insert into public.mentors (id, slug, public_name, headline, time_zone, working_hours,
             seat_capacity, slot_minutes, slot_grid_minutes, buffer_minutes, min_notice_minutes,
             booking_horizon_days, created_at, updated_at)
           select id, slug, name, 'Illustration and painting, one on one', time_zone,
                  (select jsonb_agg(jsonb_build_object('weekday', d, 'start', '08:00',
                                                       'end', '23:00'))
                     from generate_series(1, 7) d),
                  capacity, 60, 15, 15, 720, 60, to_timestamp(created), to_timestamp(created)
             from stage_mentors""",
    ),
    (
        "public.mentorship_products",
        """insert into public.mentorship_products (id, mentor_id, title, sessions_count,
             validity_days, price_cents, currency, created_at, updated_at)
           select id, mentor_id, title, sessions, validity, price, currency, to_timestamp(created),
                  to_timestamp(created)
             from stage_products""",
    ),
    (
        "public.promotion_codes",
        """insert into public.promotion_codes (id, code, percent_off, amount_off_cents, currency,
             valid_from, valid_until, max_redemptions, mentor_id, created_by, created_at,
             updated_at)
           select id, code, percent_off, amount_off, currency, to_timestamp(valid_from),
                  to_timestamp(valid_until), max_redemptions, mentor_id, created_by,
                  to_timestamp(valid_from), to_timestamp(valid_from)
             from stage_promos""",
    ),
    (
        "public.seat_reservations",
        """insert into public.seat_reservations (id, mentor_id, student_id, status,
             hold_expires_at, activated_at, grace_started_at, grace_ends_at, released_at,
             release_reason, created_at, updated_at)
           select id, mentor_id, student_id, status, to_timestamp(hold_expires),
                  to_timestamp(activated), to_timestamp(grace_started), to_timestamp(grace_ends),
                  to_timestamp(released), release_reason, to_timestamp(created),
                  to_timestamp(updated)
             from stage_seats""",
    ),
    (
        "public.orders",
        """insert into public.orders (id, student_id, mentor_id, product_id, seat_reservation_id,
             promotion_code_id, provider, status, list_price_cents, grandfathered_price_cents,
             discount_cents, amount_cents, currency, provider_checkout_id, expires_at, paid_at,
             flagged_reason, sessions_count, validity_days, created_at, updated_at)
           select id, student_id, mentor_id, product_id, seat_id, promo_id, provider, status,
                  list_price, grandfathered, discount, amount, currency, checkout,
                  to_timestamp(expires), to_timestamp(paid), flagged_reason, sessions, validity,
                  to_timestamp(created), to_timestamp(updated)
             from stage_orders""",
    ),
    (
        "public.payments",
        """insert into public.payments (id, order_id, student_id, provider, provider_payment_id,
             status, amount_cents, refunded_cents, currency, paid_at, created_at, updated_at)
           select id, order_id, student_id, provider, ref, status, amount, refunded, currency,
                  to_timestamp(paid), to_timestamp(paid), to_timestamp(updated)
             from stage_payments""",
    ),
    (
        "public.session_packs",
        """insert into public.session_packs (id, student_id, mentor_id, product_id, order_id,
             seat_reservation_id, status, sessions_total, remaining_sessions, price_cents,
             currency, grace_period_hours, cancel_notice_hours, purchased_at, expires_at,
             depleted_at, expired_at, refunded_at, created_at, updated_at)
           select id, student_id, mentor_id, product_id, order_id, seat_id, status, total,
                  remaining, price, currency, 72, 24, to_timestamp(purchased),
                  to_timestamp(expires), to_timestamp(depleted), to_timestamp(expired),
                  to_timestamp(refunded), to_timestamp(purchased), to_timestamp(updated)
             from stage_packs""",
    ),
    (
        "public.sessions",
        """insert into public.sessions (id, pack_id, mentor_id, student_id, status, starts_at,
             ends_at, blocked_until, video_channel, canceled_at, canceled_by, cancel_reason,
             completed_at, created_at, updated_at)
           select id, pack_id, mentor_id, student_id, status, to_timestamp(starts),
                  to_timestamp(starts + 3600), to_timestamp(starts + 4500), md5(id::text),
                  to_timestamp(canceled), canceled_by,
                  case when status = 'late_canceled' then 'something came up' end,
                  case when status = 'completed' then to_timestamp(closed) end,
                  to_timestamp(created), to_timestamp(coalesce(closed, canceled, created))
             from stage_sessions""",
    ),
    (
        "public.session_credit_ledger",
        """insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id,
             kind, delta, reason, actor_id, created_at)
           select pack_id, mentor_id, student_id, session_id, kind, delta, reason, actor, at
             from (
               select s.pack_id, s.mentor_id, s.student_id, s.id as session_id,
                      'session_booked'::public.credit_entry_kind as kind, -1 as delta,
                      null::text as reason, s.student_id as actor, to_timestamp(s.created) as at
                 from stage_sessions s
               union all
               select s.pack_id, s.mentor_id, s.student_id, s.id, 'session_canceled', 1, null,
                      s.canceled_by, to_timestamp(s.canceled)
                 from stage_sessions s where s.status = 'canceled'
               union all
               select s.pack_id, s.mentor_id, s.student_id, s.id, 'mentor_no_show', 1, null,
                      s.mentor_id, to_timestamp(s.closed)
                 from stage_sessions s where s.status = 'mentor_no_show'
               union all
               select p.id, p.mentor_id, p.student_id, null, 'admin_adjustment', 1,
                      'goodwill: a session lost to a connection problem', p.adjusted_by,
                      to_timestamp(p.adjusted)
                 from stage_packs p where p.adjusted_by is not null
               union all
               select p.id, p.mentor_id, p.student_id, null,
                      case when p.status = 'refunded' then 'pack_refunded'
                           else 'pack_expired' end::public.credit_entry_kind,
                      -p.forfeited, null, null, to_timestamp(coalesce(p.refunded, p.expired))
                 from stage_packs p where p.forfeited > 0
             ) e
            order by at""",
    ),
    (
        "public.notifications",
        # Per session: the booking message to both people (email, and Discord when linked) and
        # the 24-hour reminder to the student; per pack: the purchase message to both.
        """insert into public.notifications (recipient_id, kind, channel, dedupe_key, payload,
             session_id, pack_id, status, send_after, attempts, last_error, sent_at, voided_at,
             provider_message_id, created_at, updated_at)
           select m.recipient, m.kind, c.channel,
                  m.event_key || ':' || m.recipient || ':' || c.channel, m.payload,
                  m.session_id, m.pack_id,
                  case when m.voided is not null then 'voided'
                       when m.due > {now} then 'pending'
                       when m.roll < 0.004 then 'failed'
                       else 'sent' end::public.notification_status,
                  to_timestamp(m.due),
                  case when m.voided is not null or m.due > {now} then 0
                       when m.roll < 0.004 then 8
                       when m.roll < 0.03 then 2 else 1 end,
                  case when m.voided is null and m.due <= {now} and m.roll < 0.03
                       then 'provider answered 503' end,
                  case when m.voided is null and m.due <= {now} and m.roll >= 0.004
                       then to_timestamp(m.due + 2 + case when m.roll < 0.03 then 60 else 0 end)
                  end,
                  to_timestamp(m.voided),
                  case when m.voided is null and m.due <= {now} and m.roll >= 0.004
                       then md5(m.event_key || m.recipient || c.channel) end,
                  to_timestamp(m.queued),
                  -- changed last when queued, voided or last tried (sent or given up), by NOW
                  to_timestamp(least({now}, greatest(m.queued, coalesce(m.voided, 0),
                    case when m.voided is null and m.due <= {now}
                         then m.due + 2 + case when m.roll < 0.03 then 60 else 0 end else 0 end)))
             from (
               select s.id as session_id, null::uuid as pack_id, r.recipient,
                      'session_booked'::public.notification_kind as kind,
                      'session:' || s.id || ':booked' as event_key,
                      jsonb_build_object('session_id', s.id, 'starts_at', to_timestamp(s.starts))
                        as payload,
                      s.created as queued, s.created as due, null::bigint as voided,
                      random() as roll
                 from stage_sessions s
                 cross join lateral (values (s.student_id), (s.mentor_id)) r (recipient)
               union all
               select s.id, null, s.student_id, 'session_reminder_24h',
                      'session:' || s.id || ':v0:session_reminder_24h',
                      jsonb_build_object('session_id', s.id, 'starts_at', to_timestamp(s.starts)),
                      s.created, s.starts - 86400,
                      case when s.canceled < s.starts - 86400 then s.canceled end, random()
                 from stage_sessions s where s.starts - 86400 > s.created
               union all
               select null, p.id, r.recipient, 'pack_purchased', 'order:' || p.order_id || ':paid',
                      jsonb_build_object('order_id', p.order_id, 'pack_id', p.id,
                                         'sessions', p.total, 'amount_cents', p.price,
                                         'currency', p.currency),
                      p.purchased, p.purchased, null, random()
                 from stage_packs p
                 cross join lateral (values (p.student_id), (p.mentor_id)) r (recipient)
             ) m
             join public.profiles pr on pr.id = m.recipient
             cross join lateral (
               select 'email'::public.notification_channel as channel
               union all
               select 'discord' where pr.discord_user_id is not null
             ) c""",
    ),
]


def _copy(conn: psycopg.Connection, table: str, lines: list[str]) -> None:
    with conn.cursor() as cur, cur.copy(f"copy {table} from stdin") as copy:  # table: ours
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= 10000:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


# Tables whose indexes are dropped for the load and built again after it (a sorted build is
# far cheaper than millions of inserts at random places in a tree that outgrows the cache).
REINDEXED = {"public.sessions", "public.session_credit_ledger", "public.notifications"}


def _drop_indexes(conn: psycopg.Connection, table: str) -> list[str]:
    """Drop `table`'s indexes (the unique constraints no foreign key needs, too) and return the
    statements that make them again, exactly as they were (the catalog's own definitions).
    Primary keys, exclusion constraints and what a foreign key references stay."""
    rows = conn.execute(
        """select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), c.conname,
                  pg_get_constraintdef(c.oid)
             from pg_index i
             left join pg_constraint c on c.conindid = i.indexrelid and c.conrelid = i.indrelid
            where i.indrelid = %s::regclass and not i.indisprimary
              and coalesce(c.contype, 'u') = 'u'
              and not exists (select from pg_constraint f
                               where f.contype = 'f' and f.conindid = i.indexrelid)""",
        (table,),
    ).fetchall()
    again = []
    for index, definition, constraint, constraint_def in rows:
        if constraint:
            conn.execute(f"alter table {table} drop constraint {constraint}")  # catalog names
            again.append(f"alter table {table} add constraint {constraint} {constraint_def}")
        else:
            conn.execute(f"drop index {index}")
            again.append(definition)
    return again


def load(
    conn: psycopg.Connection, sessions: int, seed: int = 1, progress: Progress = print
) -> dict[str, int]:
    """Write a data set of about `sessions` sessions into the database behind `conn`, in its
    current transaction (the caller commits or rolls back), and freeze the clock at NOW.
    Returns the rows written per table."""
    started = time.monotonic()
    plan = Plan.for_sessions(sessions, seed)
    tables = play(plan, random.Random(seed))
    progress(
        f"played {len(tables.sessions):,} sessions of {plan.mentors} mentors in Python "
        f"({time.monotonic() - started:.1f} s)"
    )
    # Frozen first: a column's default stamp (private.stamp_now) is the data set's NOW, never the
    # wall clock of the load (which would make every row look changed to the reports).
    conn.execute("update private.clock set frozen_at = %s", (NOW,))
    conn.execute("set local session_replication_role = replica")
    conn.execute("set local synchronous_commit = off")
    for statement in STAGING.split(";"):
        if statement.strip():
            conn.execute(statement)
    for name, lines in _stage(tables).items():
        t0 = time.monotonic()
        _copy(conn, name, lines)
        conn.execute(f"analyze {name}")  # temporary tables get no autovacuum: plans need stats
        progress(f"  {name}: {len(lines):,} rows copied ({time.monotonic() - t0:.1f} s)")
    conn.execute("set local maintenance_work_mem = '256MB'")
    counts: dict[str, int] = {}
    for table, sql in WRITE:
        t0 = time.monotonic()
        again = _drop_indexes(conn, table) if table in REINDEXED else []
        cur = conn.execute(sql.replace("{now}", str(int(NOW.timestamp()))))
        counts[table] = cur.rowcount
        t1 = time.monotonic()
        for statement in again:
            conn.execute(statement)
        conn.execute(f"analyze {table}")  # the next statements join it: plan with its rows
        built = (
            f", {len(again)} indexes built again in {time.monotonic() - t1:.1f} s" if again else ""
        )
        progress(f"{table}: {cur.rowcount:,} rows ({time.monotonic() - t0:.1f} s{built})")
    progress(f"written in {time.monotonic() - started:.1f} s; the clock is frozen at {NOW}")
    return counts


def _stage(t: Tables) -> dict[str, list[str]]:
    return {
        "stage_users": t.users,
        "stage_mentors": t.mentors,
        "stage_products": t.products,
        "stage_promos": t.promos,
        "stage_seats": t.seats,
        "stage_orders": t.orders,
        "stage_payments": t.payments,
        "stage_packs": t.packs,
        "stage_sessions": t.sessions,
    }


def now() -> dt.datetime:
    """The instant the data set's clock is frozen at."""
    return NOW
