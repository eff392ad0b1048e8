"""A small, fixed world for the access tests: two mentors with one student each, an inactive
mentor, an admin, and one row of every table per student. Ids are deterministic, so the world
can be re-created after a reset and tests can name rows by label."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

from testing.factories import booked_session

NS = uuid.UUID("6f1c7a52-5d0e-4c8e-9a51-3b8f0f2f7a10")
DOMAIN = "world.mentorships.test"
# Far enough ahead that no rule's "now" reaches it.
SESSION_DAY = dt.datetime(2031, 3, 4, 15, 0, tzinfo=dt.UTC)

# Who talks to the gateway in the access tests (one client each, the `actors` fixture).
ACTORS = ("anon", "student_a", "student_b", "mentor_a", "mentor_b", "admin", "service")


def wid(label: str) -> uuid.UUID:
    return uuid.uuid5(NS, label)


USERS = {
    "admin": ("admin", "Ada Admin", "UTC"),
    "mentor_a": ("mentor", "Mira Mentor", "Europe/Berlin"),
    "mentor_b": ("mentor", "Kenji Mentor", "Asia/Tokyo"),
    "mentor_x": ("mentor", "Ivy Inactive", "America/New_York"),
    "mentor_new": ("mentor", "Nina New", "Europe/London"),
    "student_a": ("student", "Sam Student", "America/Los_Angeles"),
    "student_b": ("student", "Bea Student", "Australia/Sydney"),
    "orphan": ("student", "Otto Orphan", "UTC"),
}


def email(label: str) -> str:
    return f"{label.replace('_', '-')}@{DOMAIN}"


@dataclass
class World:
    ids: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, label: str) -> object:
        return self.ids[label]

    def uid(self, label: str) -> uuid.UUID:
        value = self.ids[label]
        assert isinstance(value, uuid.UUID)
        return value


def create(conn: psycopg.Connection) -> World:
    """Create the world (idempotent: an existing world is returned as it is)."""
    w = World()
    for label in USERS:
        w.ids[label] = wid(label)
    with conn.transaction():
        if conn.execute("select 1 from auth.users where id = %s", (wid("admin"),)).fetchone():
            return _load_serial_ids(conn, w)
        for label, (role, name, tz) in USERS.items():
            conn.execute(
                "insert into auth.users (id, aud, role, email, raw_user_meta_data, raw_app_meta_data,"
                " email_confirmed_at) values (%s, 'authenticated', 'authenticated', %s, %s, %s, now())",
                (
                    wid(label),
                    email(label),
                    Jsonb({"display_name": name, "time_zone": tz}),
                    Jsonb({"provider": "email", "providers": ["email"]}),
                ),
            )
            if role != "student":
                conn.execute(
                    "update public.profiles set role = %s where id = %s", (role, wid(label))
                )
        # The orphan has no profile, so the service role has one to insert in the matrix.
        conn.execute("delete from public.profiles where id = %s", (wid("orphan"),))
        hours = Jsonb([{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)])
        for label, slug, active in (
            ("mentor_a", "mira", True),
            ("mentor_b", "kenji", True),
            ("mentor_x", "ivy", False),
        ):
            conn.execute(
                "insert into public.mentors (id, slug, public_name, time_zone, working_hours, seat_capacity,"
                " is_active) values (%s, %s, %s, %s, %s, 3, %s)",
                (wid(label), slug, USERS[label][1], USERS[label][2], hours, active),
            )
        for label, owner, active in (
            ("product_a", "mentor_a", True),
            ("product_a_retired", "mentor_a", False),
            ("product_b", "mentor_b", True),
            ("product_x", "mentor_x", True),
        ):
            w.ids[label] = wid(label)
            conn.execute(
                "insert into public.mentorship_products (id, mentor_id, title, price_cents, is_active)"
                " values (%s, %s, %s, 24000, %s)",
                (wid(label), wid(owner), f"Four sessions ({label})", active),
            )
        conn.execute(
            "insert into public.promotion_codes (id, code, percent_off, created_by) values (%s, 'WELCOME10', 10, %s)",
            (wid("code_global"), wid("admin")),
        )
        conn.execute(
            "insert into public.promotion_codes (id, code, amount_off_cents, currency, mentor_id, created_by)"
            " values (%s, 'MIRA20', 2000, 'usd', %s, %s)",
            (wid("code_mentor_a"), wid("mentor_a"), wid("admin")),
        )
        paid_at = dt.datetime(2031, 1, 10, 12, 0, tzinfo=dt.UTC)
        for s in ("a", "b"):
            student, mentor, product = wid(f"student_{s}"), wid(f"mentor_{s}"), wid(f"product_{s}")
            conn.execute(
                "insert into public.seat_reservations (id, mentor_id, student_id, status, activated_at)"
                " values (%s, %s, %s, 'active', %s)",
                (wid(f"seat_{s}"), mentor, student, paid_at),
            )
            conn.execute(
                "insert into public.orders (id, student_id, mentor_id, product_id, seat_reservation_id, provider,"
                " status, list_price_cents, amount_cents, currency, expires_at, paid_at)"
                " values (%s, %s, %s, %s, %s, 'stripe', 'paid', 24000, 24000, 'usd', %s, %s)",
                (
                    wid(f"order_{s}"),
                    student,
                    mentor,
                    product,
                    wid(f"seat_{s}"),
                    paid_at + dt.timedelta(minutes=30),
                    paid_at,
                ),
            )
            conn.execute(
                "insert into public.payments (id, order_id, student_id, provider, provider_payment_id,"
                " amount_cents, currency, paid_at) values (%s, %s, %s, 'stripe', %s, 24000, 'usd', %s)",
                (wid(f"payment_{s}"), wid(f"order_{s}"), student, f"pi_world_{s}", paid_at),
            )
            conn.execute(
                "insert into public.session_packs (id, student_id, mentor_id, product_id, order_id,"
                " seat_reservation_id, sessions_total, remaining_sessions, price_cents, currency,"
                " grace_period_hours, cancel_notice_hours, purchased_at, expires_at)"
                " values (%s, %s, %s, %s, %s, %s, 4, 4, 24000, 'usd', 72, 24, %s, %s)",
                (
                    wid(f"pack_{s}"),
                    student,
                    mentor,
                    product,
                    wid(f"order_{s}"),
                    wid(f"seat_{s}"),
                    paid_at,
                    paid_at + dt.timedelta(days=120),
                ),
            )
            starts = SESSION_DAY + (dt.timedelta(hours=2) if s == "b" else dt.timedelta())
            booked_session(
                conn,
                pack=wid(f"pack_{s}"),
                mentor=mentor,
                student=student,
                starts=starts,
                session=wid(f"session_{s}"),
            )
            # each mentor connected Google: their primary calendar
            conn.execute(
                "insert into public.mentor_calendars (id, mentor_id, calendar_id, access_role, is_primary,"
                " counts_as_busy, receives_events) values (%s, %s, %s, 'owner', true, true, true)",
                (wid(f"calendar_{s}"), mentor, f"mentor-{s}@world.test"),
            )
            # each mentor moved their session's event in Google (an open calendar change)
            conn.execute(
                "insert into public.calendar_event_changes (session_id, mentor_id, change,"
                " google_starts_at, google_ends_at, noticed_at) values (%s, %s, 'moved', %s, %s, %s)",
                (
                    wid(f"session_{s}"),
                    mentor,
                    starts + dt.timedelta(hours=1),
                    starts + dt.timedelta(hours=2),
                    starts - dt.timedelta(days=1),
                ),
            )
            # each student turned renewal reminders off on Discord
            conn.execute(
                "insert into public.notification_preferences (id, user_id, kind, channel, enabled)"
                " values (%s, %s, 'renewal_reminder', 'discord', false)",
                (wid(f"pref_{s}"), student),
            )
            for recipient in (f"student_{s}", f"mentor_{s}"):
                conn.execute(
                    "insert into public.notifications (recipient_id, kind, channel, dedupe_key, session_id)"
                    " values (%s, 'session_booked', 'email', %s, %s)",
                    (wid(recipient), f"world:{recipient}:session_booked", wid(f"session_{s}")),
                )
        conn.execute(
            "insert into public.report_runs (started_at, finished_at, outcome, trigger, claimed_by,"
            " rows_per_mart, dbt_version) values (%s, %s, 'succeeded', 'command', 'world', '{}', '1.11')",
            (SESSION_DAY, SESSION_DAY + dt.timedelta(minutes=1)),
        )
        conn.execute(
            "insert into public.audit_log (actor_id, action, table_name, row_id, reason)"
            " values (%s, 'world.created', 'session_packs', %s, 'test world')",
            (wid("admin"), wid("pack_a")),
        )
    return _load_serial_ids(conn, w)


def _load_serial_ids(conn: psycopg.Connection, w: World) -> World:
    for label in (
        "product_a",
        "product_a_retired",
        "product_b",
        "product_x",
        "code_global",
        "code_mentor_a",
        *(
            f"{t}_{s}"
            for t in ("seat", "order", "payment", "pack", "session", "pref", "calendar")
            for s in "ab"
        ),
    ):
        w.ids[label] = wid(label)
    for s in "ab":
        row = conn.execute(
            "select id from public.session_credit_ledger where session_id = %s",
            (wid(f"session_{s}"),),
        ).fetchone()
        assert row is not None
        w.ids[f"ledger_{s}"] = row[0]
    for label in ("student_a", "mentor_a", "student_b", "mentor_b"):
        row = conn.execute(
            "select id from public.notifications where dedupe_key = %s",
            (f"world:{label}:session_booked",),
        ).fetchone()
        assert row is not None
        w.ids[f"notification_{label}"] = row[0]
    for s in "ab":
        row = conn.execute(
            "select id from public.calendar_event_changes where session_id = %s",
            (wid(f"session_{s}"),),
        ).fetchone()
        assert row is not None
        w.ids[f"change_{s}"] = row[0]
    row = conn.execute("select id from public.report_runs where claimed_by = 'world'").fetchone()
    assert row is not None
    w.ids["run_1"] = row[0]
    row = conn.execute("select id from public.audit_log where action = 'world.created'").fetchone()
    assert row is not None
    w.ids["audit_1"] = row[0]
    w.ids["settings"] = True
    return w
