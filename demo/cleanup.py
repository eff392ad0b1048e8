"""Removes the earlier demo data: everything of the users whose email ends with
@demo.mentorships.test, in one transaction, refusing (and changing nothing) when a row of
another user still points at it. It answers which messages it removed, so that their files in
the mail folder go too once it commits (demo.delivery.forget_files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from mentorships.errors import StackError

DEMO_EMAIL_SUFFIX = "@demo.mentorships.test"


D = "(select id from _demo_users)"
OWNED = f"student_id in {D} or mentor_id in {D}"


def _rows(table: str, where: str) -> str:
    """Deletes, remembering the ids (the audit log refers to them)."""
    return f"with d as (delete from {table} where {where} returning id) insert into _demo_rows select id from d"


# The demo's messages. Admins outside the demo were told about demo orders too
# (payment_flagged, refunds) and about demo messages that failed (delivery_failed).
_MESSAGES = (
    f"n.recipient_id in {D}"
    f" or n.pack_id in (select id from public.session_packs where {OWNED})"
    f" or n.session_id in (select id from public.sessions where {OWNED})"
    f" or n.payload ->> 'order_id' in (select id::text from public.orders where {OWNED})"
    " or n.payload ->> 'recipient_id' in (select id::text from _demo_users)"
)

# Everything of a demo user (student or mentor), in delete order.
_CLEANUP: tuple[str, ...] = (
    f"delete from public.notifications n where {_MESSAGES}",
    f"delete from private.webhook_events w where w.order_id in (select id from public.orders where {OWNED})"
    " or (w.provider, w.payment_ref) in (select provider, provider_payment_id from public.payments"
    f" where student_id in {D})",
    f"delete from public.calendar_event_changes where mentor_id in {D}",
    f"delete from private.calendar_jobs where mentor_id in {D}"
    f" or session_id in (select id from public.sessions where student_id in {D})",
    f"delete from public.session_credit_ledger where {OWNED}",
    _rows("public.sessions", OWNED),
    f"update public.sessions set canceled_by = null where canceled_by in {D}",
    "delete from private.payment_refunds where payment_id in (select id from public.payments"
    f" where student_id in {D} or order_id in (select id from public.orders where {OWNED}))",
    _rows(
        "public.payments",
        f"student_id in {D} or order_id in (select id from public.orders where {OWNED})",
    ),
    *(_rows(f"public.{t}", OWNED) for t in ("session_packs", "orders", "seat_reservations")),
    _rows(
        "public.promotion_codes",
        f"created_by in {D} or mentor_id in {D} or product_id in"
        f" (select id from public.mentorship_products where mentor_id in {D})",
    ),
    f"update public.promotion_codes set created_by = null where created_by in {D}",
    _rows("public.mentorship_products", f"mentor_id in {D}"),
    *(
        f"delete from private.{t} where mentor_id in {D}"
        for t in (
            "calendar_events",
            "calendar_channels",
            "calendar_busy_intervals",
            "calendar_sync_calendars",
            "calendar_sync_state",
            "google_oauth_states",
            "google_credentials",
        )
    ),
    f"delete from public.mentor_calendars where mentor_id in {D}",
    *(
        f"delete from {t} where id in {D}"
        for t in ("public.mentors", "public.profiles", "auth.users")
    ),
    f"delete from public.audit_log where actor_id in {D} or row_id in {D}"
    " or row_id in (select id from _demo_rows)",
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
    *(f"public.{t}" for t in ("profiles", "mentors", "mentorship_products", "promotion_codes")),
    *(
        f"public.{t}"
        for t in ("seat_reservations", "orders", "payments", "session_packs", "sessions")
    ),
]


@dataclass(frozen=True)
class Removed:
    users: int
    messages: list[tuple[str, str]]  # (dedupe_key, channel) of each message removed


def cleanup(cur: psycopg.Cursor[Any]) -> Removed:
    """What it removed; _demo_users and _demo_rows stay for the transaction."""
    cur.execute("set local session_replication_role = replica")
    cur.execute(
        "create temp table _demo_users on commit drop as "
        "select id from auth.users where lower(email) like %s",
        ("%" + DEMO_EMAIL_SUFFIX,),
    )
    found = cur.rowcount
    cur.execute("create temp table _demo_rows (id uuid primary key) on commit drop")
    cur.execute(
        f"select n.dedupe_key, n.channel::text from public.notifications n where {_MESSAGES}"
    )
    messages = [(str(key), str(channel)) for key, channel in cur.fetchall()]
    for statement in _CLEANUP:
        cur.execute(statement)  # built from the constants above, no values
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
    return Removed(found, messages)
