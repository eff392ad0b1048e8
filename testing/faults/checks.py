"""Exactly once, counted: in the database (orders, payments, packs, the webhook inbox, the
outbox, the calendar jobs) against what the load sent and what the fakes received. Each check
returns its problems (none: all is well); `settle` first waits until the workers caught up."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from sync.messaging.files import discord_nonce
from testing import invariants
from testing.fakes.discord import DiscordBotFake
from testing.fakes.google import GoogleFake
from testing.fakes.resend import ResendFake
from testing.faults.load import Load
from testing.faults.world import LoadWorld

DUE_MESSAGES = """select count(*) from public.notifications
                   where status in ('pending', 'sending') and send_after <= now()"""
OPEN_JOBS = "select count(*) from private.calendar_jobs where processed_at is null"


def _one(conn: psycopg.Connection, sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def settle(conn: psycopg.Connection, timeout: float = 90) -> float:
    """Waits until no message is due and no calendar job open; the seconds it took (raises
    AssertionError after `timeout`)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if _one(conn, DUE_MESSAGES) == 0 and _one(conn, OPEN_JOBS) == 0:
            return round(time.monotonic() - t0, 2)
        time.sleep(0.25)
    raise AssertionError(
        f"not settled in {timeout} s: {_one(conn, DUE_MESSAGES)} message(s) due,"
        f" {_one(conn, OPEN_JOBS)} calendar job(s) open"
    )


def webhooks(conn: psycopg.Connection, load: Load) -> list[str]:
    """Every event sent is in the inbox once and processed; its order paid once, with one
    payment and one pack."""
    ids = [e.event_id for e in load.events if e.sends]
    orders = [e.order.id for e in load.events if e.sends]
    problems = []
    if any(e.acked_at is None for e in load.events if e.sends):
        problems.append("an event was never acknowledged")
    inbox = _one(
        conn,
        "select count(*) from private.webhook_events where provider = 'stripe'"
        " and event_id = any(%s) and processed_at is not null",
        ids,
    )
    if inbox != len(ids):
        problems.append(f"{inbox} processed inbox rows for {len(ids)} events")
    for what, sql in (
        (
            "paid orders",
            "select count(*) from public.orders where id = any(%s::uuid[]) and status = 'paid'",
        ),
        ("payments", "select count(*) from public.payments where order_id = any(%s::uuid[])"),
        ("packs", "select count(*) from public.session_packs where order_id = any(%s::uuid[])"),
    ):
        n = _one(conn, sql, orders)
        if n != len(orders):
            problems.append(f"{n} {what} for {len(orders)} orders")
    return problems


def last_message_id(conn: psycopg.Connection) -> int:
    return int(_one(conn, "select coalesce(max(id), 0) from public.notifications"))


def messages(
    conn: psycopg.Connection, resend: ResendFake, discord: DiscordBotFake, since_id: int = 0
) -> list[str]:
    """Every message sent after `since_id` delivered once at its provider (by its idempotency
    key or nonce), none failed; no delivery at all of a message not sent, none twice."""
    rows = conn.execute(
        "select id, channel::text, dedupe_key, status::text from public.notifications"
        " where status in ('sent', 'failed')"
    ).fetchall()
    problems = []
    failed = [k for i, _, k, s in rows if s == "failed" and i > since_id]
    if failed:
        problems.append(f"{len(failed)} message(s) failed, e.g. {failed[0]}")
    every = {
        c: {k for _, ch, k, s in rows if ch == c and s == "sent"} for c in ("email", "discord")
    }
    recent = {
        c: {k for i, ch, k, s in rows if ch == c and s == "sent" and i > since_id}
        for c in ("email", "discord")
    }
    with resend.lock:
        by_key = dict(resend.per_key)
    with discord.lock:
        by_nonce = dict(discord.per_nonce)
    for channel, got, key in (
        ("email", by_key, str),
        ("discord", by_nonce, discord_nonce),
    ):
        sent = {key(k) for k in recent[channel]}
        missing = sent - set(got)
        twice = [k for k, n in got.items() if n != 1]
        extra = set(got) - {key(k) for k in every[channel]}
        if missing or twice or extra:
            problems.append(
                f"{channel}: {len(sent)} sent, {len(missing)} never delivered,"
                f" {len(twice)} delivered more than once, {len(extra)} delivered but not sent"
            )
    return problems


def calendar(conn: psycopg.Connection, google: GoogleFake, world: LoadWorld) -> list[str]:
    """Every calendar job finished (none given up), and each mentor's calendar at Google holds
    exactly the events of their scheduled sessions."""
    problems = []
    gave_up = _one(
        conn,
        "select count(*) from private.calendar_jobs where outcome is distinct from 'done'"
        " and processed_at is not null and mentor_id = any(%s)",
        world.mentor_ids(),
    )
    if gave_up:
        problems.append(f"{gave_up} calendar job(s) not done")
    for m in world.mentors:
        want = {
            r[0]
            for r in conn.execute(
                "select e.event_id from private.calendar_events e"
                " join public.sessions s on s.id = e.session_id"
                " where e.mentor_id = %s and s.status = 'scheduled'",
                (m.mentor,),
            )
        }
        scheduled = _one(
            conn,
            "select count(*) from public.sessions where mentor_id = %s and status = 'scheduled'",
            m.mentor,
        )
        live = set(google.writes.live(m.email, m.email))
        if live != want or len(want) != scheduled:
            problems.append(
                f"mentor {m.mentor}: {scheduled} scheduled, {len(want)} recorded events,"
                f" {len(live)} live at Google ({len(live - want)} extra,"
                f" {len(want - live)} missing)"
            )
    return problems


def invariants_hold(conn: psycopg.Connection) -> dict[str, int]:
    """testing/invariants.py's checks that found rows breaking them (none: all is well)."""
    return invariants.broken(invariants.check(conn))
