"""The demo's messages are delivered by the real dispatcher: claimed and reported through the
gateway by the rules, each at the instant it fell due, one file per message sent in the stack's
mail folder (what `mentorships mail` lists), the Discord DMs of the student who blocked the bot
failed by report_notifications and the admins told, and the stack's own dispatcher kept out of
the way while the seed plays."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest

from demo.delivery import BLOCKED
from mentorships.settings import Settings
from mentorships.stack import Worker
from testing.demo import DEMO, count, mail_files, mail_names, seed, values
from testing.world import World


@pytest.fixture
def worker(running: Settings) -> Iterator[Worker]:
    """The test stack's dispatcher (the stack leaves it out), stopped after the test, and its
    mail folder empty before."""
    w = Worker(running)
    w.stop()
    shutil.rmtree(w.mail_dir, ignore_errors=True)
    try:
        yield w
    finally:
        w.stop()


def test_the_seed_delivers_through_the_dispatcher_and_puts_the_stacks_one_back(
    running: Settings, conn: psycopg.Connection, world: World, worker: Worker
) -> None:
    assert worker.start()
    before = worker.pid()
    seed(running)
    # the stack's dispatcher was stopped while the seed played (no demo message is its), and
    # runs again afterwards
    after = worker.pid()
    assert after is not None and after != before
    mine = f"select count(*) from public.notifications where recipient_id in {DEMO}"
    assert count(conn, f"{mine} and claimed_by = '{running.stack}-worker'") == 0
    delivered = count(conn, f"{mine} and status in ('sent', 'failed')")
    assert delivered >= 300
    assert count(conn, f"{mine} and claimed_by = '{running.stack}-seed'") == delivered
    # nothing the history left due is waiting (the last minutes are the stack's dispatcher's)
    assert (
        count(
            conn,
            f"{mine} and status in ('pending', 'sending')"
            " and greatest(send_after, next_attempt_at) < now() - interval '5 minutes'",
        )
        == 0
    )
    # each message went out at the instant it fell due: a booking's confirmation at the
    # booking's instant, a reminder at its own
    assert (
        count(conn, f"{mine} and status = 'sent' and sent_at <> greatest(send_after, created_at)")
        == 0
    )
    booked = f"""select count(*) from public.notifications n join public.sessions s
                   on s.id = n.session_id
                 where n.recipient_id in {DEMO} and n.kind = 'session_booked'"""
    assert count(conn, f"{booked} and n.status = 'sent' and n.sent_at = s.created_at") == count(
        conn, f"{booked} and n.status <> 'failed'"
    )

    # the student who blocked the bot: each Discord DM failed for good at its first attempt
    # with Discord's answer, their emails went out; nothing else failed
    failed = conn.execute(
        f"""select distinct recipient_id, channel::text, attempts, last_error,
                   sent_at is null and provider_message_id is null
              from public.notifications where recipient_id in {DEMO} and status = 'failed'"""
    ).fetchall()
    assert len(failed) == 1, failed
    blocked, channel, attempts, error, unsent = failed[0]
    assert (channel, attempts, error, unsent) == ("discord", 1, BLOCKED, True)
    theirs = f"{mine} and recipient_id = '{blocked}'"
    assert count(conn, f"{theirs} and channel = 'discord' and status = 'failed'") >= 2
    assert count(conn, f"{theirs} and channel = 'discord' and status = 'sent'") == 0
    assert count(conn, f"{theirs} and channel = 'email' and status = 'sent'") >= 2
    # ... and report_notifications told every admin once per message, delivered too
    assert (
        count(
            conn,
            f"""select count(*) from public.notifications f
                where f.recipient_id in {DEMO} and f.status = 'failed' and not exists (
                  select from public.notifications a join public.profiles p on p.id = a.recipient_id
                   where a.kind = 'delivery_failed' and a.status = 'sent'
                     and p.email = 'admin@demo.mentorships.test'
                     and a.payload ->> 'notification_id' = f.id::text
                     and a.payload ->> 'error' = f.last_error)""",
        )
        == 0
    )

    # one file per message sent, named by the file transport, none for the others (the stack's
    # dispatcher delivered what was due before the seed)
    # Other tests' people may have messages in this database too: an earlier seed sent some (their
    # files went with the mail folder above), this one may send those that fell due.
    files = mail_files(worker.mail_dir)
    by_us = f"claimed_by in ('{running.stack}-seed', '{running.stack}-worker') and status = 'sent'"
    demo_sent = mail_names(conn, f"{by_us} and recipient_id in {DEMO}")
    others_sent = mail_names(conn, f"{by_us} and recipient_id not in {DEMO}")
    assert demo_sent and demo_sent <= files and files - demo_sent <= others_sent
    ids = f"select provider_message_id from public.notifications where {by_us} and recipient_id in {DEMO}"
    assert values(conn, ids) == {f"file:{name}" for name in demo_sent}
    assert not files & mail_names(conn, f"recipient_id in {DEMO} and status <> 'sent'")


def test_mail_lists_what_the_seed_delivered(
    running: Settings, conn: psycopg.Connection, world: World, worker: Worker
) -> None:
    """`mentorships mail` after a seed (as after `make demo`): every message, newest first, in
    the zone asked for; the blocked student's failure as the admin read it."""
    seed(running)
    files = mail_files(worker.mail_dir)
    out = _mail(running, "--tz", "America/New_York", "--limit", "3")
    lines = out.splitlines()
    assert lines[0] == (
        f"{len(files)} message(s) in {worker.mail_dir}, newest first (times in America/New_York):"
    )
    assert len(lines) == 6 and lines[4].strip() == f"... and {len(files) - 3} more (--limit)"
    row = conn.execute(
        """select n.provider_message_id, to_char(n.created_at at time zone 'America/New_York',
                   'Dy DD Mon YYYY HH24:MI')
              from public.notifications n join public.profiles p on p.id = n.recipient_id
             where n.kind = 'delivery_failed' and n.channel = 'email' and n.status = 'sent'
               and p.email = 'admin@demo.mentorships.test'
             order by n.created_at desc limit 1"""
    ).fetchone()
    assert row is not None
    name, when = row[0].removeprefix("file:"), row[1]
    shown = _mail(running, "--show", name, "--tz", "America/New_York")
    assert f"when:    {when} America/New_York" in shown
    assert "kind:    delivery_failed" in shown
    assert "admin@demo.mentorships.test" in shown
    assert BLOCKED in shown


def _mail(settings: Settings, *args: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")},
        "MENTORSHIPS_STACK": settings.stack,
    }
    out = subprocess.run(
        [sys.executable, "-m", "mentorships.cli", "mail", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return out.stdout
