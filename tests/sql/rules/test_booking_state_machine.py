"""A Hypothesis state machine over random sequences of book / cancel / reschedule / complete /
no-show / adjust / clock advance / cron run, calling the public RPCs as the real roles with JWT
claims, in one transaction per example that is rolled back. After every step the invariants
hold: ledger balance, seats within capacity, no overlapping sessions for a mentor or a student,
no future scheduled session on a dead pack, exactly one 1 h reminder per live session (and no
pending reminder on a session that is over)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, event
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mentorships.settings import Settings
from testing.api import refusal
from testing.factories import Scenario
from testing.stacks import settings_for_tests

T0 = dt.datetime(2027, 3, 1, 13, 0, tzinfo=dt.UTC)  # a Monday


# Successful calls per RPC over a whole run of the machine: a run in which every action was
# refused would satisfy every invariant, so the test also demands that each action succeeded.
SUCCEEDED: Counter[str] = Counter()
MUST_SUCCEED = (
    "book_session",
    "cancel_session",
    "reschedule_session",
    "complete_session",
    "mark_no_show",
)


class Refused(Exception):
    """An RPC said no with a PT4xx status: an allowed outcome."""


class BookingMachine(RuleBasedStateMachine):
    settings_: Settings = settings_for_tests()

    def __init__(self) -> None:
        super().__init__()
        self.conn = psycopg.connect(self.settings_.dsn())
        self.now = T0

    @initialize()
    def world(self) -> None:
        self._clock()
        s = Scenario(self.conn, self.settings_)
        self.admin = s.person("admin")
        self.mentors = [
            s.mentor("America/New_York", capacity=3, notice=60),
            s.mentor("Europe/Berlin", capacity=2, notice=60, slot=45, grid=15, buffer=10),
        ]
        self.students = [
            s.person("student", tz) for tz in ("Asia/Tokyo", "UTC", "America/Los_Angeles")
        ]
        self.packs: list[uuid.UUID] = []
        for i, student in enumerate(self.students):
            self.packs.append(
                s.pack(
                    self.mentors[i % 2],
                    student,
                    purchased_at=T0 - dt.timedelta(days=1),
                    sessions=3,
                    days=20,
                )
            )
        self.packs.append(
            s.pack(self.mentors[1], self.students[2], purchased_at=T0, sessions=2, days=10)
        )
        self.scope = [*self.mentors]
        # Every run starts with one session per student, booked through the rules (and so also
        # proving booking works): the cancel, reschedule and close steps have something to act on.
        for pack, student, mentor in zip(self.packs, self.students, self.mentors * 2, strict=False):
            first = self.conn.execute(
                "select min(starts_at) from public.mentor_availability(%s::text, %s::text, %s::text)",
                (mentor, self.now + dt.timedelta(days=2), self.now + dt.timedelta(days=9)),
            ).fetchone()
            assert first is not None and first[0] is not None, "the mentor lists no slot"
            self._as(
                student, "select id from public.book_session(%s::text, %s::text)", (pack, first[0])
            )

    def teardown(self) -> None:
        self.conn.rollback()
        self.conn.close()

    # --- plumbing --------------------------------------------------------------------------------

    def _clock(self) -> None:
        self.conn.execute("select set_config('mentorships.now', %s, true)", (self.now.isoformat(),))

    def _as(self, user: uuid.UUID, sql: str, params: tuple[Any, ...]) -> Any:
        label = sql.split("public.")[1].split("(")[0]
        claims = json.dumps({"sub": str(user), "role": "authenticated", "aud": "authenticated"})
        try:
            with self.conn.transaction():
                self.conn.execute("set local role authenticated")
                self.conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
                row = self.conn.execute(sql, params).fetchone()
                self.conn.execute("reset role")
        except psycopg.Error as e:
            refused = refusal(e)
            if refused and refused[0].startswith("PT4"):
                event(f"{label}: {refused[0]}")
                raise Refused(refused[1]) from e
            raise
        event(f"{label}: ok")
        SUCCEEDED[label] += 1
        return row[0] if row else None

    def _try(self, user: uuid.UUID, sql: str, *params: Any) -> Any:
        try:
            return self._as(user, sql, params)
        except Refused:
            return None

    def _sessions(self, where: str = "true") -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
        return self.conn.execute(
            f"select id, student_id, mentor_id from public.sessions where mentor_id = any(%(m)s) and {where}"
            " order by created_at, id",
            {"m": self.scope, "now": self.now},
        ).fetchall()

    def _pick(self, items: list[Any], i: int) -> Any:
        return items[i % len(items)] if items else None

    # --- rules -------------------------------------------------------------------------------------

    @rule(p=st.integers(0, 99), slot=st.integers(0, 400), exact=st.booleans())
    def book(self, p: int, slot: int, exact: bool) -> None:
        pack = self._pick(self.packs, p)
        student, mentor = self.conn.execute(
            "select student_id, mentor_id from public.session_packs where id = %s", (pack,)
        ).fetchone()  # type: ignore[misc]
        if exact:
            slots = self.conn.execute(
                "select starts_at from public.mentor_availability(%s::text, %s::text, %s::text)",
                (mentor, self.now, self.now + dt.timedelta(days=10)),
            ).fetchall()
            starts = self._pick(slots, slot)[0] if slots else self.now + dt.timedelta(hours=2)
        else:
            starts = self.now + dt.timedelta(minutes=15 * slot)
        self._try(student, "select id from public.book_session(%s::text, %s::text)", pack, starts)

    @rule(
        i=st.integers(0, 99),
        who=st.sampled_from(["student", "mentor", "admin", "stranger"]),
        live=st.booleans(),
    )
    def cancel(self, i: int, who: str, live: bool) -> None:
        s = self._pick(self._sessions("status = 'scheduled'" if live else "true"), i)
        if s:
            actor = {
                "student": s[1],
                "mentor": s[2],
                "admin": self.admin,
                "stranger": self.students[0],
            }[who]
            self._try(actor, "select (public.cancel_session(%s::text)).credit_restored", s[0])

    @rule(i=st.integers(0, 99), slot=st.integers(0, 400), by_mentor=st.booleans())
    def reschedule(self, i: int, slot: int, by_mentor: bool) -> None:
        s = self._pick(self._sessions("status = 'scheduled'"), i)
        if s:
            slots = self.conn.execute(
                "select starts_at from public.mentor_availability(%s::text, %s::text, %s::text)",
                (s[2], self.now, self.now + dt.timedelta(days=10)),
            ).fetchall()
            if slots:
                self._try(
                    s[2] if by_mentor else s[1],
                    "select id from public.reschedule_session(%s::text, %s::text)",
                    s[0],
                    self._pick(slots, slot)[0],
                )

    @rule(
        i=st.integers(0, 99),
        outcome=st.sampled_from(["completed", "student", "mentor"]),
        admin=st.booleans(),
        started=st.booleans(),
    )
    def close(self, i: int, outcome: str, admin: bool, started: bool) -> None:
        which = "status = 'scheduled'" + (" and starts_at <= %(now)s" if started else "")
        if started and not self._sessions(which):
            # none has started yet: move the clock just past the next start, so that closing
            # (the only way to a used-up pack and grace) is explored as often as booking
            row = self.conn.execute(
                "select min(starts_at) from public.sessions where mentor_id = any(%s) and status = 'scheduled'",
                (self.scope,),
            ).fetchone()
            if row and row[0] is not None:
                self.now = max(self.now, row[0] + dt.timedelta(minutes=5))
                self._clock()
        s = self._pick(self._sessions(which), i)
        if s:
            actor = self.admin if admin else s[2]
            if outcome == "completed":
                self._try(actor, "select id from public.complete_session(%s::text, 'notes')", s[0])
            else:
                self._try(
                    actor,
                    "select (public.mark_no_show(%s::text, %s::text)).credit_restored",
                    s[0],
                    outcome,
                )

    @rule(p=st.integers(0, 99), delta=st.integers(-3, 3))
    def adjust(self, p: int, delta: int) -> None:
        self._try(
            self.admin,
            "select remaining_sessions from public.adjust_pack_sessions(%s::text, %s::text, 'machine')",
            self._pick(self.packs, p),
            delta,
        )

    @rule(hours=st.sampled_from([1, 3, 12, 23, 24, 25, 48, 72, 200]))
    def advance_clock(self, hours: int) -> None:
        self.now += dt.timedelta(hours=hours)
        self._clock()

    @rule()
    def run_jobs(self) -> None:
        self.conn.execute("select private.run_due_jobs()")

    # --- invariants ----------------------------------------------------------------------------

    def _count(self, sql: str) -> int:
        row = self.conn.execute(sql, {"m": self.scope, "now": self.now}).fetchone()
        assert row is not None
        return int(row[0])

    @invariant()
    def ledger_balances(self) -> None:
        assert (
            self._count("""
            select count(*) from public.session_packs p where p.mentor_id = any(%(m)s)
               and (p.remaining_sessions < 0 or p.remaining_sessions <> p.sessions_total + coalesce(
                 (select sum(l.delta) from public.session_credit_ledger l where l.pack_id = p.id), 0))""")
            == 0
        )

    @invariant()
    def seats_within_capacity(self) -> None:
        assert (
            self._count("""
            select count(*) from public.mentors m where m.id = any(%(m)s) and m.seat_capacity < (
              select count(*) from public.seat_reservations s where s.mentor_id = m.id
                and (s.status in ('active', 'grace') or (s.status = 'hold' and s.hold_expires_at > %(now)s)))""")
            == 0
        )

    @invariant()
    def no_overlaps(self) -> None:
        assert (
            self._count("""
            select count(*) from public.sessions a join public.sessions b on a.id < b.id
             where a.mentor_id = any(%(m)s) and a.status = 'scheduled' and b.status = 'scheduled'
               and ((a.mentor_id = b.mentor_id and tstzrange(a.starts_at, a.blocked_until)
                                                   && tstzrange(b.starts_at, b.blocked_until))
                 or (a.student_id = b.student_id and tstzrange(a.starts_at, a.ends_at)
                                                     && tstzrange(b.starts_at, b.ends_at)))""")
            == 0
        )

    @invariant()
    def no_live_session_on_a_dead_pack(self) -> None:
        assert (
            self._count("""
            select count(*) from public.sessions s join public.session_packs p on p.id = s.pack_id
             where s.mentor_id = any(%(m)s) and s.status = 'scheduled' and s.starts_at > %(now)s
               and p.status <> 'active'""")
            == 0
        )
        assert (
            self._count("""
            select count(*) from public.session_packs p join public.seat_reservations s on s.id = p.seat_reservation_id
             where p.mentor_id = any(%(m)s) and p.status = 'active' and s.status <> 'active'""")
            == 0
        )

    @invariant()
    def one_reminder_per_live_session(self) -> None:
        # per scheduled session and recipient/channel: exactly one live 1 h reminder
        assert (
            self._count("""
            select count(*) from public.sessions s
             cross join lateral (select distinct n.recipient_id, n.channel from public.notifications n
                                  where n.session_id = s.id and n.kind = 'session_booked') r
             where s.mentor_id = any(%(m)s) and s.status = 'scheduled'
               and (select count(*) from public.notifications n
                     where n.session_id = s.id and n.kind = 'session_reminder_1h' and n.status <> 'voided'
                       and n.recipient_id = r.recipient_id and n.channel = r.channel) <> 1""")
            == 0
        )
        assert (
            self._count("""
            select count(*) from public.notifications n join public.sessions s on s.id = n.session_id
             where s.mentor_id = any(%(m)s) and s.status <> 'scheduled' and n.status = 'pending'
               and n.kind in ('session_reminder_24h', 'session_reminder_1h')""")
            == 0
        )


BookingMachine.TestCase.settings = hsettings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.usefixtures("stack")
class TestBookingStateMachine(BookingMachine.TestCase):  # type: ignore[valid-type,misc]
    def runTest(self) -> None:
        SUCCEEDED.clear()
        super().runTest()
        never = [rpc for rpc in MUST_SUCCEED if SUCCEEDED[rpc] == 0]
        assert not never, f"no successful {', '.join(never)} in the whole run: {dict(SUCCEEDED)}"
