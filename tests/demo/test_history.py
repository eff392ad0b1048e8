"""The demo's history is made by the rules: each call by the person who would make it, the
jobs as the clock moves, and every row stamped with the instant the rules wrote it."""

from __future__ import annotations

import psycopg

from mentorships.settings import Settings
from testing.demo import DEMO, count, seed
from testing.world import World


def test_the_history_was_made_by_the_people_in_it(
    running: Settings, conn: psycopg.Connection, world: World
) -> None:
    """No row is written around the rules: each session was booked by its student (the audit
    log names who), closed by its mentor or an admin, canceled by one of them; every credit
    moved through the ledger by the call that moved it; grace and release came from the jobs."""
    seed(running)
    sessions = f"public.sessions s where s.student_id in {DEMO}"
    assert count(conn, f"select count(*) from {sessions}") >= 50
    booked_by_student = f"""select count(*) from {sessions} and exists (
        select from public.audit_log a where a.row_id = s.id and a.action = 'sessions.created'
           and a.actor_id = s.student_id)"""
    assert count(conn, booked_by_student) == count(conn, f"select count(*) from {sessions}")
    closed_by_someone_else = f"""select count(*) from {sessions}
        and s.status in ('completed', 'student_no_show', 'mentor_no_show') and not exists (
        select from public.audit_log a join public.profiles p on p.id = a.actor_id
         where a.row_id = s.id and a.action = 'sessions.' || s.status
           and (a.actor_id = s.mentor_id or p.role = 'admin'))"""
    assert count(conn, closed_by_someone_else) == 0
    assert count(conn, f"select count(*) from {sessions} and s.status = 'mentor_no_show'") >= 1
    # every booked credit is the student's booking, every restored one a cancel or no-show
    assert (
        count(
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
            count(
                conn,
                f"select count(*) from public.notifications where recipient_id in {DEMO}"
                f" and kind = '{kind}' and status = 'sent'",
            )
            >= 1
        ), kind
    assert (
        count(
            conn,
            f"""select count(*) from public.notifications where recipient_id in {DEMO}
                 and status = 'pending' and send_after <= now() - interval '2 hours'""",
        )
        == 0
    )


def test_every_row_carries_the_instant_the_rules_wrote_it(
    running: Settings, conn: psycopg.Connection, world: World
) -> None:
    """Nothing is re-dated: the rules stamped each row with the storyline's clock, so the
    history spans months and each row's times agree with the others'."""
    seed(running)
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
    assert count(conn, f"select count(*) from {sessions} and s.created_at >= s.starts_at") == 0
    assert count(conn, f"select count(*) from {sessions} and s.completed_at < s.starts_at") == 0
    assert (
        count(
            conn,
            f"""select count(*) from {sessions} and not exists (
                 select from public.session_credit_ledger l where l.session_id = s.id
                    and l.kind = 'session_booked' and l.created_at = s.created_at)""",
        )
        == 0
    )
    # a pack was bought when its payment came: the payment's and the webhook's instant
    assert (
        count(
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
