"""Builds isolated people, mentors, products, packs and shops for tests and benchmarks (fresh ids
each time, so tests do not see each other's rows); Scenario.api is the gateway as one of them
(testing/api.py). booked_session writes a session with its ledger row, for any caller's ids."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api
from testing.services import Shop

UTC = dt.UTC
WEEKDAYS_9_TO_5 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)]


def booked_session(
    conn: psycopg.Connection,
    *,
    pack: uuid.UUID,
    mentor: uuid.UUID,
    student: uuid.UUID,
    starts: dt.datetime,
    session: uuid.UUID | None = None,
) -> uuid.UUID:
    """A one-hour session (busy until 15 minutes after) and its session_booked ledger row, written
    directly rather than through the booking RPC."""
    session = session or uuid.uuid4()
    conn.execute(
        "insert into public.sessions (id, pack_id, mentor_id, student_id, starts_at, ends_at, blocked_until)"
        " values (%s, %s, %s, %s, %s, %s, %s)",
        (
            session,
            pack,
            mentor,
            student,
            starts,
            starts + dt.timedelta(hours=1),
            starts + dt.timedelta(minutes=75),
        ),
    )
    conn.execute(
        "insert into public.session_credit_ledger (pack_id, mentor_id, student_id, session_id, kind, delta)"
        " values (%s, %s, %s, %s, 'session_booked', -1)",
        (pack, mentor, student, session),
    )
    return session


class Scenario:
    def __init__(self, conn: psycopg.Connection, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self._apis: dict[uuid.UUID, Api] = {}

    def person(
        self, role: str = "student", time_zone: str = "UTC", discord: bool = False
    ) -> uuid.UUID:
        uid = uuid.uuid4()
        self.conn.execute(
            "insert into auth.users (id, aud, role, email, raw_user_meta_data)"
            " values (%s, 'authenticated', 'authenticated', %s, %s)",
            (
                uid,
                f"{uid}@scenario.test",
                Jsonb({"display_name": f"{role} {str(uid)[:8]}", "time_zone": time_zone}),
            ),
        )
        self.conn.execute(
            "update public.profiles set role = %s, discord_user_id = %s where id = %s",
            (role, str(10**17 + uid.int % 10**17) if discord else None, uid),
        )
        return uid

    def mentor(
        self,
        time_zone: str = "America/New_York",
        *,
        working_hours: list[dict[str, Any]] | None = None,
        capacity: int = 5,
        slot: int = 60,
        grid: int = 30,
        buffer: int = 15,
        notice: int = 720,
        horizon: int = 60,
        active: bool = True,
    ) -> uuid.UUID:
        uid = self.person("mentor", time_zone)
        self.conn.execute(
            "insert into public.mentors (id, slug, public_name, time_zone, working_hours, seat_capacity, slot_minutes,"
            " slot_grid_minutes, buffer_minutes, min_notice_minutes, booking_horizon_days, is_active)"
            " values (%s, %s, 'Scenario Mentor', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                uid,
                f"m-{uid.hex[:12]}",
                time_zone,
                Jsonb(working_hours or WEEKDAYS_9_TO_5),
                capacity,
                slot,
                grid,
                buffer,
                notice,
                horizon,
                active,
            ),
        )
        return uid

    def product(
        self,
        mentor: uuid.UUID,
        *,
        price_cents: int = 24000,
        currency: str = "usd",
        sessions: int = 4,
        days: int = 90,
        active: bool = True,
        title: str = "Scenario pack",
    ) -> uuid.UUID:
        product = uuid.uuid4()
        self.conn.execute(
            "insert into public.mentorship_products (id, mentor_id, title, sessions_count, validity_days,"
            " price_cents, currency, is_active) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (product, mentor, title, sessions, days, price_cents, currency, active),
        )
        return product

    def shop(self, *, price_cents: int = 24000, currency: str = "usd", capacity: int = 5) -> Shop:
        """A mentor selling one 4-session product, and a student (with a token) about to buy it."""
        mentor = self.mentor(capacity=capacity)
        title = f"Portfolio review pack {uuid.uuid4().hex[:6]}"
        product = self.product(mentor, price_cents=price_cents, currency=currency, title=title)
        student = self.person("student")
        token = jwt.user_token(self.settings, student, f"{student}@scenario.test")
        return Shop(mentor, product, title, price_cents, currency, student, token)

    def pack(
        self,
        mentor: uuid.UUID,
        student: uuid.UUID,
        *,
        sessions: int = 4,
        purchased_at: dt.datetime,
        days: int = 90,
    ) -> uuid.UUID:
        """A paid pack with an active seat (reusing the student's live seat with this mentor)."""
        product = self.product(mentor, sessions=sessions, days=days)
        row = self.conn.execute(
            "select id from public.seat_reservations where mentor_id = %s and student_id = %s and status <> 'released'",
            (mentor, student),
        ).fetchone()
        seat = row[0] if row else uuid.uuid4()
        if not row:
            self.conn.execute(
                "insert into public.seat_reservations (id, mentor_id, student_id, status, activated_at)"
                " values (%s, %s, %s, 'active', %s)",
                (seat, mentor, student, purchased_at),
            )
        pack = uuid.uuid4()
        self.conn.execute(
            "insert into public.session_packs (id, student_id, mentor_id, product_id, seat_reservation_id,"
            " sessions_total, remaining_sessions, price_cents, currency, grace_period_hours, cancel_notice_hours,"
            " purchased_at, expires_at) values (%s, %s, %s, %s, %s, %s, %s, 24000, 'usd', 72, 24, %s, %s)",
            (
                pack,
                student,
                mentor,
                product,
                seat,
                sessions,
                sessions,
                purchased_at,
                purchased_at + dt.timedelta(days=days),
            ),
        )
        return pack

    def api(self, user: uuid.UUID | None) -> Api:
        """The gateway as this user (None: anon)."""
        key = user or uuid.UUID(int=0)
        if key not in self._apis:
            token = jwt.user_token(self.settings, user, f"{user}@scenario.test") if user else None
            self._apis[key] = Api(self.settings, token)
        return self._apis[key]

    def one(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None, sql
        return row[0]

    def close(self) -> None:
        for api in self._apis.values():
            api.http.close()
