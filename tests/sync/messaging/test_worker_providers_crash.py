"""Exactly once across a crash, through the providers: a dispatcher process
(`python -m testing.dispatch` with Resend and Discord's bot pointed at their fakes) whose
transports take 5 messages each and then hang is killed with SIGKILL before it reports any; after
the lease a second process claims them all again and sends each with the same Idempotency-Key
(Resend) and nonce (Discord); the fakes answer the first id and count one delivery per key."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mentorships.settings import Settings
from sync.discord.dm import nonce
from sync.resend.transport import idempotency_key
from testing.clock import Clock
from testing.dispatch import WorkerProcess, World, provider_overrides, worker_settings
from testing.fakes.discord import DiscordBotFake
from testing.fakes.resend import ResendFake
from testing.queued import queue_warnings, statuses, wait_for


@pytest.fixture
def procs() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.kill()


def test_a_worker_killed_after_the_providers_took_some_then_a_second_deliver_each_once(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    clock: Clock,
    resend_api: ResendFake,
    discord_bot: DiscordBotFake,
    procs: list[WorkerProcess],
) -> None:
    queue_warnings(world, 15)  # 15 emails, 15 DMs
    providers = provider_overrides(resend_api, discord_bot)
    mail = tmp_path / "mail"
    ws = worker_settings(
        settings, mail, messages_batch_size=40, messages_lease_seconds=60, **providers
    )
    first = WorkerProcess(
        ws, "w1", tmp_path / "w1.log", stall_after=5, stall_channels=("email", "discord")
    )
    procs.append(first)
    wait_for(
        lambda: len(resend_api.deliveries) == 5 and len(discord_bot.messages) == 5,
        what=f"5 emails and 5 DMs at the fakes:\n{first.output()}",
    )
    time.sleep(0.2)
    first.kill()
    assert statuses(conn, world) == {"sending": 30}  # killed before it reported any
    taken = {d.key: d.id for d in resend_api.deliveries} | {
        m.nonce: m.id for m in discord_bot.messages
    }
    clock.advance(dt.timedelta(seconds=61))  # the lease ran out

    second = WorkerProcess(worker_settings(settings, mail, **providers), "w2", tmp_path / "w2.log")
    procs.append(second)
    wait_for(lambda: statuses(conn, world) == {"sent": 30}, what=f"all sent:\n{second.output()}")
    assert second.stop() == 0

    # one delivery per key; the 5 taken before the crash were sent again and answered the same
    assert len(resend_api.deliveries) == 15 and set(resend_api.per_key.values()) == {1}
    assert len(discord_bot.messages) == 15 and set(discord_bot.per_nonce.values()) == {1}
    assert len(resend_api.requests) == 20
    posts = [a for a in discord_bot.arrivals if a.route == "messages"]
    assert [a.status for a in posts] == [200] * 20
    assert discord_bot.logins == 2  # one per process
    rows = conn.execute(
        "select channel::text, dedupe_key, provider_message_id, claimed_by, attempts, last_error"
        " from public.notifications where recipient_id = %s",
        (world.student,),
    ).fetchall()
    assert {(r[3], r[4], r[5]) for r in rows} == {("w2", 2, "the lease of w1 ran out")}
    delivered = {d.key: d.id for d in resend_api.deliveries} | {
        m.nonce: m.id for m in discord_bot.messages
    }
    for channel, key, provider_id, *_ in rows:
        sent_as = idempotency_key(key) if channel == "email" else nonce(key)
        assert provider_id == delivered[sent_as]
        if sent_as in taken:
            assert provider_id == taken[sent_as]  # the first answer, not a second email
    assert len(taken) == 10
