"""Session events under random interleavings (Hypothesis), over real HTTP against the strict fake
and the test stack: bookings, cancels and reschedules by the student, drains, worker crashes (a
claim abandoned; an insert Google applied whose answer timed out), the mentor's edits in Google
(delete, move) and syncs, in any order. After everything is drained and synced, Google holds
exactly one event per scheduled session at its time, and nothing else, except the sessions
flagged because the mentor changed their event in Google."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.gcal import events
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings
from sync.gcal.worker import Syncer
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.gcal import connect_mentor
from tests.sync.gcal.events_setup import NOW, TUE, at, span

WED = TUE + dt.timedelta(days=1)
# Slots in the mentor's hours (9 to 5 Berlin, 60 minutes and a 15-minute buffer)
SLOTS = [at(TUE, 8), at(TUE, 9, 30), at(TUE, 11), at(TUE, 12, 30), at(WED, 8), at(WED, 9, 30)]
OPS = [
    "book",
    "book",
    "cancel",
    "reschedule",
    "drain",
    "crash",
    "timeout",
    "gdelete",
    "gmove",
    "sync",
]
Op = tuple[str, int, int]


def park(conn: psycopg.Connection) -> None:
    """Other tests' (and examples') syncs and jobs out of the way."""
    conn.execute("update private.calendar_sync_state set next_sync_at = 'infinity'")
    conn.execute(
        "update private.calendar_jobs set processed_at = now(), outcome = 'skipped',"
        " last_error = 'parked by a test' where processed_at is null"
    )


class Run:
    """One example: a connected mentor, a student with a pack, the operations applied."""

    def __init__(
        self,
        scenario: Scenario,
        google: GoogleFake,
        keys: TokenKeys,
        syncer: Syncer,
        crasher: Syncer,
        clock: Clock,
    ) -> None:
        self.scenario, self.google, self.syncer, self.crasher, self.clock = (
            scenario,
            google,
            syncer,
            crasher,
            clock,
        )
        self.mentor = connect_mentor(scenario, google, keys)
        self.student = scenario.person("student")
        self.pack = scenario.pack(self.mentor.mentor, self.student, purchased_at=NOW, sessions=12)
        assert syncer.drain() == 1
        self.sessions: list[str] = []

    def api(self, name: str, **args: Any) -> None:
        self.scenario.api(self.student).rpc(name, **args)  # refusals (taken, too late) are fine

    def live(self) -> dict[str, dict[str, Any]]:
        return self.google.writes.live(self.mentor.email, self.mentor.email)

    def apply(self, op: Op) -> None:
        kind, i, k = op
        session = self.sessions[i % len(self.sessions)] if self.sessions else None
        eid = events.event_id(session) if session else None
        if kind == "book":
            answer = self.scenario.api(self.student).rpc(
                "book_session", pack_id=self.pack, starts_at=SLOTS[k % len(SLOTS)]
            )
            if answer.status_code == 200:
                self.sessions.append(str(answer.json()["id"]))
        elif kind == "cancel" and session:
            self.api("cancel_session", session_id=session)
        elif kind == "reschedule" and session:
            self.api("reschedule_session", session_id=session, starts_at=SLOTS[k % len(SLOTS)])
        elif kind == "drain":
            self.syncer.drain_events()
        elif kind == "crash":
            self.crasher.claim_jobs()  # and never reports: the lease runs out
        elif kind == "timeout":
            self.google.writes.stall_next_insert(1.2)
            self.syncer.drain_events()
        elif kind in ("gdelete", "gmove") and eid and eid in self.live():
            if kind == "gdelete":
                self.google.events.delete(self.mentor.email, self.mentor.email, eid)
            else:
                start, end = span(self.live()[eid])
                shift = dt.timedelta(hours=1 + k % 3)
                self.google.writes.move(
                    self.mentor.email, self.mentor.email, eid, start + shift, end + shift
                )
        elif kind == "sync":
            self.clock.advance(dt.timedelta(minutes=6))
            self.syncer.drain()

    def settle(self, conn: psycopg.Connection) -> None:
        """Leases and back-offs run out, everything is applied, then synced."""
        for _ in range(6):
            self.clock.advance(dt.timedelta(minutes=40))
            self.syncer.drain()
            self.syncer.drain_events()
            pending = conn.execute(
                "select count(*) from private.calendar_jobs where mentor_id = %s and processed_at is null",
                (self.mentor.mentor,),
            ).fetchone()
            if pending == (0,):
                break
        assert pending == (0,), "the jobs did not drain"
        self.clock.advance(dt.timedelta(minutes=6))
        self.syncer.drain()

    def check(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(
            "select s.id, s.starts_at, s.ends_at,"
            " exists (select from public.calendar_event_changes c where c.session_id = s.id and c.resolved_at is null)"
            " from public.sessions s where s.mentor_id = %s and s.status = 'scheduled'",
            (self.mentor.mentor,),
        ).fetchall()
        flagged = {
            events.event_id(r[0])
            for r in conn.execute(
                "select session_id from public.calendar_event_changes where mentor_id = %s and resolved_at is null",
                (self.mentor.mentor,),
            ).fetchall()
        }
        expected = {events.event_id(r[0]): (r[1], r[2]) for r in rows if not r[3]}
        actual = {i: span(e) for i, e in self.live().items() if i not in flagged}
        assert actual == expected
        assert conn.execute(
            "select count(*) from private.calendar_jobs where mentor_id = %s and outcome = 'gave_up'",
            (self.mentor.mentor,),
        ).fetchone() == (0,)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 7)),
        min_size=3,
        max_size=14,
    )
)
def test_google_ends_equal_to_the_scheduled_sessions_except_the_flagged(
    ops: list[Op],
    scenario: Scenario,
    google_api: GoogleFake,
    keys: TokenKeys,
    syncer: Syncer,
    gcal_settings: GcalSettings,
    clock: Clock,
    conn: psycopg.Connection,
) -> None:
    park(conn)
    clock.freeze(NOW)
    crasher = Syncer(gcal_settings, f"crasher-{uuid.uuid4().hex[:6]}")
    try:
        run = Run(scenario, google_api, keys, syncer, crasher, clock)
        for op in [("book", 0, 0), *ops]:
            run.apply(op)
        run.settle(conn)
        run.check(conn)
    finally:
        crasher.close()
