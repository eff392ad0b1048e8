"""Removes the earlier demo data: everything of the users whose email ends with
@demo.mentorships.test, in one transaction, refusing (and changing nothing) when a row of
another user still points at it."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from mentorships.errors import StackError

DEMO_EMAIL_SUFFIX = "@demo.mentorships.test"


# Tables and columns whose rows belong to a demo user (student or mentor), in delete order.
_CLEANUP: tuple[str, ...] = (
    # admins outside the demo were told about demo orders too (payment_flagged, refunds)
    """delete from public.notifications n
        where n.recipient_id in (select id from _demo_users)
           or n.pack_id in (select p.id from public.session_packs p
                            where p.student_id in (select id from _demo_users)
                               or p.mentor_id in (select id from _demo_users))
           or n.session_id in (select s.id from public.sessions s
                               where s.student_id in (select id from _demo_users)
                                  or s.mentor_id in (select id from _demo_users))
           or n.payload ->> 'order_id' in (select o.id::text from public.orders o
                                           where o.student_id in (select id from _demo_users)
                                              or o.mentor_id in (select id from _demo_users))""",
    """delete from private.webhook_events w
        where w.order_id in (select o.id from public.orders o
                             where o.student_id in (select id from _demo_users)
                                or o.mentor_id in (select id from _demo_users))
           or (w.provider, w.payment_ref) in (
                select p.provider, p.provider_payment_id from public.payments p
                 where p.student_id in (select id from _demo_users))""",
    """delete from private.calendar_jobs
        where mentor_id in (select id from _demo_users)
           or session_id in (select s.id from public.sessions s
                             where s.student_id in (select id from _demo_users))""",
    """delete from public.session_credit_ledger
        where student_id in (select id from _demo_users)
           or mentor_id in (select id from _demo_users)""",
    """with d as (delete from public.sessions
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    "update public.sessions set canceled_by = null where canceled_by in (select id from _demo_users)",
    """with d as (delete from public.payments
                   where student_id in (select id from _demo_users)
                      or order_id in (select o.id from public.orders o
                                      where o.student_id in (select id from _demo_users)
                                         or o.mentor_id in (select id from _demo_users))
                  returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.session_packs
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.orders
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.seat_reservations
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.promotion_codes
                   where created_by in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users)
                      or product_id in (select p.id from public.mentorship_products p
                                        where p.mentor_id in (select id from _demo_users))
                  returning id)
       insert into _demo_rows select id from d""",
    """update public.promotion_codes set created_by = null
        where created_by in (select id from _demo_users)""",
    """with d as (delete from public.mentorship_products
                   where mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    "delete from private.calendar_busy_intervals where mentor_id in (select id from _demo_users)",
    "delete from private.calendar_sync_state where mentor_id in (select id from _demo_users)",
    "delete from private.google_credentials where mentor_id in (select id from _demo_users)",
    "delete from public.mentors where id in (select id from _demo_users)",
    "delete from public.profiles where id in (select id from _demo_users)",
    "delete from auth.users where id in (select id from _demo_users)",
    """delete from public.audit_log
        where actor_id in (select id from _demo_users)
           or row_id in (select id from _demo_users)
           or row_id in (select id from _demo_rows)""",
)

# Single foreign-key columns that point at tables the cleanup deleted from: none may still
# point at a deleted row (the cleanup runs with triggers, so also foreign keys, switched off).
_FK_COLUMNS = """
select c.conrelid::regclass::text, n.nspname, r.relname, a.attname
from pg_catalog.pg_constraint c
join pg_catalog.pg_class r on r.oid = c.conrelid
join pg_catalog.pg_namespace n on n.oid = r.relnamespace
cross join lateral unnest(c.conkey, c.confkey) as k(col, ref)
join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.col
join pg_catalog.pg_attribute ra on ra.attrelid = c.confrelid and ra.attnum = k.ref
where c.contype = 'f' and ra.attname = 'id' and a.atttypid = 'uuid'::regtype
  and c.confrelid = any (%s::regclass[])
"""
_CLEANED_TABLES = [
    "auth.users",
    "public.profiles",
    "public.mentors",
    "public.mentorship_products",
    "public.promotion_codes",
    "public.seat_reservations",
    "public.orders",
    "public.payments",
    "public.session_packs",
    "public.sessions",
]


def cleanup(cur: psycopg.Cursor[Any]) -> int:
    """How many demo users it removed; _demo_users and _demo_rows stay for the transaction."""
    cur.execute("set local session_replication_role = replica")
    cur.execute(
        "create temp table _demo_users on commit drop as "
        "select id from auth.users where lower(email) like %s",
        ("%" + DEMO_EMAIL_SUFFIX,),
    )
    found = cur.rowcount
    cur.execute("create temp table _demo_rows (id uuid primary key) on commit drop")
    for statement in _CLEANUP:
        cur.execute(statement)  # fixed SQL, no values
    cur.execute(_FK_COLUMNS, (_CLEANED_TABLES,))
    dangling = []
    for table, schema, name, column in cur.fetchall():
        cur.execute(
            sql.SQL(
                "select exists (select from {t} where {c} in (select id from _demo_users) "
                "or {c} in (select id from _demo_rows))"
            ).format(t=sql.Identifier(schema, name), c=sql.Identifier(column))
        )
        row = cur.fetchone()
        if row is not None and row[0]:
            dangling.append(f"{table}.{column}")
    if dangling:
        raise StackError(
            "seed: rows of other users still point at demo data ("
            + ", ".join(sorted(dangling))
            + "); nothing was changed. Delete or detach those rows, or teach the cleanup in "
            "demo/cleanup.py about them"
        )
    cur.execute("set local session_replication_role = origin")
    return found
