"""What must hold in any database of the platform, as queries that count the rows breaking it
(0 everywhere: all is well). The benchmark data set is checked with them after its bulk load
(which runs without triggers), and tests use them too.

`mentors` narrows the checks to some mentors' rows (a subquery of mentor ids); by default all."""

from __future__ import annotations

import psycopg

ALL_MENTORS = "select id from public.mentors"

CHECKS: dict[str, str] = {
    # every pack balances with its credit ledger, and never goes below zero
    "pack_balances_with_ledger": """
        select count(*) from public.session_packs p
         where p.mentor_id in ({mentors})
           and (p.remaining_sessions < 0 or p.remaining_sessions <> p.sessions_total + coalesce(
                 (select sum(l.delta) from public.session_credit_ledger l where l.pack_id = p.id),
                 0))""",
    # a pack's state agrees with its remaining credits and scheduled sessions
    "pack_status_consistent": """
        select count(*) from public.session_packs p
         where p.mentor_id in ({mentors})
           and ((p.status in ('depleted', 'expired', 'refunded') and (p.remaining_sessions <> 0
                 or exists (select from public.sessions s
                             where s.pack_id = p.id and s.status = 'scheduled')))
             or (p.status = 'active' and p.expires_at <= private.clock_now()))""",
    # sessions lie inside their pack's life
    "sessions_within_pack": """
        select count(*) from public.sessions s join public.session_packs p on p.id = s.pack_id
         where s.mentor_id in ({mentors})
           and (s.starts_at < p.purchased_at or s.ends_at > p.expires_at)""",
    # a mentor is never in two sessions at once (with the buffer), whatever their status
    "mentor_sessions_overlap": """
        select count(*) from (
          select s.starts_at, lag(s.blocked_until) over w as previous_end
            from public.sessions s
           where s.mentor_id in ({mentors})
              and s.status not in ('canceled', 'late_canceled')
          window w as (partition by s.mentor_id order by s.starts_at)) x
         where x.starts_at < x.previous_end""",
    # nor is a student
    "student_sessions_overlap": """
        select count(*) from (
          select s.starts_at, lag(s.ends_at) over w as previous_end
            from public.sessions s
           where s.mentor_id in ({mentors})
              and s.status not in ('canceled', 'late_canceled')
          window w as (partition by s.student_id order by s.starts_at)) x
         where x.starts_at < x.previous_end""",
    # seats taken (active or grace from creation to release; holds until they expire) never
    # exceed the mentor's capacity at any moment
    "seats_over_capacity": """
        select count(*) from (
          select e.mentor_id, sum(e.step) over w as taken
            from (select s.mentor_id, s.created_at as at, 1 as step
                    from public.seat_reservations s where s.mentor_id in ({mentors})
                  union all
                  select s.mentor_id,
                         case when s.activated_at is null then s.hold_expires_at
                              else s.released_at end, -1
                    from public.seat_reservations s
                   where s.mentor_id in ({mentors})
                     and (s.activated_at is null or s.released_at is not null)) e
          window w as (partition by e.mentor_id order by e.at, e.step
                       rows between unbounded preceding and current row)) x
          join public.mentors m on m.id = x.mentor_id
         where x.taken > m.seat_capacity""",
    # a seat's state agrees with its packs: active with a live pack, otherwise none
    "seat_status_consistent": """
        select count(*) from public.seat_reservations s
         where s.mentor_id in ({mentors})
           and (s.status = 'active') <> exists (
                 select from public.session_packs p
                  where p.seat_reservation_id = s.id and p.status = 'active')
           and s.status <> 'hold'""",
    # an order's amount is its price (grandfathered, else listed) less its discount
    "order_amounts": """
        select count(*) from public.orders o
         where o.mentor_id in ({mentors})
           and (o.amount_cents <> coalesce(o.grandfathered_price_cents, o.list_price_cents)
                                 - o.discount_cents
                or o.discount_cents > coalesce(o.grandfathered_price_cents, o.list_price_cents))""",
    # a paid or refunded order has its payment, for its amount and currency; its pack too
    "orders_paid_in_full": """
        select count(*) from public.orders o
         where o.mentor_id in ({mentors}) and o.status in ('paid', 'refunded')
           and (not exists (select from public.payments y
                             where y.order_id = o.id and y.amount_cents = o.amount_cents
                               and y.currency = o.currency)
                or not exists (select from public.session_packs p where p.order_id = o.id))""",
    # refunds never exceed what was paid, and the payment's status says how much came back
    "refunds_within_amounts": """
        select count(*) from public.payments y join public.orders o on o.id = y.order_id
         where o.mentor_id in ({mentors})
           and (y.refunded_cents > y.amount_cents
                or (y.status = 'refunded') <> (y.refunded_cents = y.amount_cents
                                               and y.refunded_cents > 0)
                or (y.status = 'partially_refunded')
                   <> (y.refunded_cents > 0 and y.refunded_cents < y.amount_cents))""",
    # a promotion code is used at most max_redemptions times, once per student
    "promotion_redemptions": """
        select count(*) from public.promotion_codes c
         where c.max_redemptions < (select count(*) from public.orders o
                                     where o.promotion_code_id = c.id
                                       and o.status not in ('expired', 'canceled'))""",
    # outbox rows in a state their columns agree with
    "outbox_states": """
        select count(*) from public.notifications n
         where n.recipient_id in (select p.id from public.profiles p)
           and ((n.status = 'sent') <> (n.sent_at is not null)
                or (n.status = 'voided') <> (n.voided_at is not null)
                or (n.status = 'failed' and n.attempts = 0))""",
    # rows are stamped by the business clock: none changed after it (a stamp from the wall
    # clock of a bulk load would make every row look changed to the reports' incremental builds)
    "stamped_after_the_clock": """
        select (select count(*) from public.sessions s
                 where s.mentor_id in ({mentors}) and s.updated_at > (select private.clock_now()))
             + (select count(*) from public.session_packs p
                 where p.mentor_id in ({mentors}) and p.updated_at > (select private.clock_now()))
             + (select count(*) from public.notifications n
                 where n.updated_at > (select private.clock_now())
                   and n.recipient_id in (select p.student_id from public.session_packs p
                                           where p.mentor_id in ({mentors})
                                          union all
                                          select m.id from public.mentors m
                                           where m.id in ({mentors})))""",
    # every outbox row names a person who exists (it has no foreign key)
    "outbox_recipients": """
        select count(*) from public.notifications n
         where not exists (select from public.profiles p where p.id = n.recipient_id)""",
}


def foreign_key_checks(conn: psycopg.Connection) -> dict[str, str]:
    """One query per foreign key of the public schema: rows whose key names no row (a load
    with session_replication_role = replica does not check them)."""
    rows = conn.execute(
        """select c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                  array(select a.attname from unnest(c.conkey) with ordinality k (n, i)
                          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n
                         order by k.i),
                  array(select a.attname from unnest(c.confkey) with ordinality k (n, i)
                          join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n
                         order by k.i)
             from pg_constraint c
            where c.contype = 'f' and c.connamespace = 'public'::regnamespace
            order by 1"""
    ).fetchall()
    out = {}
    for name, table, ref, cols, ref_cols in rows:
        on = " and ".join(f'r."{b}" = t."{a}"' for a, b in zip(cols, ref_cols, strict=True))
        not_null = " and ".join(f't."{a}" is not null' for a in cols)
        out[f"fk {name}"] = (
            f"select count(*) from {table} t where {not_null} "
            f"and not exists (select from {ref} r where {on})"
        )
    return out


def check(conn: psycopg.Connection, mentors: str = ALL_MENTORS) -> dict[str, int]:
    """Each check's count of rows breaking it (all 0: all is well)."""
    queries = {k: v.format(mentors=mentors) for k, v in CHECKS.items()}
    queries.update(foreign_key_checks(conn))
    out = {}
    for name, sql in queries.items():
        row = conn.execute(sql).fetchone()
        out[name] = int(row[0]) if row else -1
    return out


def broken(results: dict[str, int]) -> dict[str, int]:
    """The checks that found rows breaking them."""
    return {k: v for k, v in results.items() if v}
