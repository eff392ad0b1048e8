"""The providers down a while under the same load: Resend, Discord's bot API and Google (the
fakes' `outage` switch) answering 500s, then answering later than the clients wait (each send is
given up after its time limit), for OUTAGE_SECONDS, then back. Inside the window a few sessions
are booked and kept by students with Discord linked (the load cancels its own at once, which
voids their messages and leaves Google nothing to write), so each provider has work while it is
down. The API answers throughout (no 5xx, no connection error); afterwards every due message is
delivered exactly once (its idempotency key or nonce at the fake), every calendar job applied
once, the retries show in the outbox's attempts and the calendar jobs', and the invariants
hold."""

from __future__ import annotations

import time

import psycopg
import pytest

from testing.faults import checks, record
from testing.faults.load import Load
from testing.faults.stack import Faults
from testing.faults.world import LoadWorld

OUTAGE_SECONDS = 10.0
# Retries soon (the platform's setting; 30 s doubling to an hour by default), so a 10 s outage is
# retried a few times and none gives up: 8 attempts span at least 19.5 s (each delay drawn from
# the second half of 1, 2, 4, 8, 8, ... s).
FAST_RETRIES = """update public.platform_settings set message_retry_base_seconds = 1,
                   message_retry_max_seconds = 8, calendar_retry_base_seconds = 1,
                   calendar_retry_max_seconds = 8"""
KEPT = 3  # sessions booked and kept inside the window: emails, a Discord message, an event each
MODES = {
    # name: (status, delay): 500 at once; or an answer after 12 s, past the calendar sync's HTTP
    # timeout (5 s), the dispatcher's send limit (5 s: half its 10 s lease) and the lease itself
    "providers answer 500": (500, 0.0),
    "providers time out": (504, 12.0),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_providers_down_then_back(
    mode: str, faults: Faults, world: LoadWorld, load: Load, conn: psycopg.Connection
) -> None:
    conn.execute(FAST_RETRIES)
    since = checks.last_message_id(conn)
    status, delay = MODES[mode]
    before = {f.name: f.outage_answers for f in faults.fakes()}

    kept: list[str] = []

    def outage() -> None:
        for fake in faults.fakes():
            fake.outage(OUTAGE_SECONDS, status=status, delay=delay)
        kept.extend(load.keep(KEPT))

    win, took, t0, t1 = record.under_load(load, outage, after=OUTAGE_SECONDS + 6)
    back_at = t0 + record.WARMUP_SECONDS + OUTAGE_SECONDS
    settled = checks.settle(conn, timeout=120)
    answered = {f.name: f.outage_answers - before[f.name] for f in faults.fakes()}
    r = record.record(
        mode,
        win,
        took,
        settled,
        load,
        conn,
        t0,
        t1,
        outage_answers=answered,
        kept_in_window=len(kept),
        delivered_after_back_seconds=round(time.time() - back_at, 1),
    )
    assert win.failed == {}, f"the API failed while a provider was down: {win}"
    assert len(kept) == KEPT, f"booked and kept {len(kept)} of {KEPT} sessions in the window"
    assert all(n > 0 for n in answered.values()), f"a provider had no work while down: {answered}"
    assert r.retried["messages_retried"] > 0, r
    assert checks.webhooks(conn, load) == []
    assert checks.messages(conn, faults.resend, faults.discord, since) == []
    assert checks.calendar(conn, faults.google, world) == []
    assert checks.invariants_hold(conn) == {}
