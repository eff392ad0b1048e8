"""Who may do what, as data: every public table x select/insert/update/delete x actor of the
test world (testing/world.py), what the request must answer. tests/test_rls_matrix.py plays each
cell over real HTTP; testing/rls_checks.py compares an answer with its cell.

An expectation is either
- DENIED: no grant; 401 for anon, 403 for anyone else, code 42501 "permission denied for table",
- RLS: granted, but the new row fails a policy's check; 403, 42501 "new row violates row-level
  security policy",
- a set of world labels: the rows the request returned ("new" for a row the request made), and a
  write must return the values it wrote,
- a Refused: status, code and message of a request the privileges let through but a
  constraint stops."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from testing.world import ACTORS, SESSION_DAY, World


class Refused(NamedTuple):
    status: int
    code: str
    message: str  # {table} is the table's name
    exact: bool = True  # else the message starts with it

    def for_table(self, table: str) -> Refused:
        return self._replace(message=self.message.format(table=table))


DENIED = "denied"
RLS = "rls"
NO_GRANT = Refused(403, "42501", "permission denied for table {table}")
POLICY_REFUSES = Refused(
    403, "42501", 'new row violates row-level security policy for table "{table}"'
)
# on delete restrict: the world's rows are all referenced from somewhere.
STILL_REFERENCED = Refused(
    409,
    "23503",
    'update or delete on table "{table}" violates foreign key constraint',
    exact=False,
)
Expect = str | frozenset[str] | Refused


def rows(*labels: str) -> frozenset[str]:
    return frozenset(labels)


NONE = rows()
EVERYONE_SIGNED_IN = ("student_a", "student_b", "mentor_a", "mentor_b", "admin")
PROFILES = rows("admin", "mentor_a", "mentor_b", "mentor_x", "mentor_new", "student_a", "student_b")
A_SIDE = {"a"}


def per_student(prefix: str) -> dict[str, Expect]:
    """Rows every student sees of their own, their mentor sees, admins and the service see all."""
    a, b = rows(f"{prefix}_a"), rows(f"{prefix}_b")
    return {
        "anon": DENIED,
        "student_a": a,
        "student_b": b,
        "mentor_a": a,
        "mentor_b": b,
        "admin": a | b,
        "service": a | b,
    }


def money(prefix: str) -> dict[str, Expect]:
    a, b = rows(f"{prefix}_a"), rows(f"{prefix}_b")
    return {
        "anon": DENIED,
        "student_a": a,
        "student_b": b,
        "mentor_a": NONE,
        "mentor_b": NONE,
        "admin": a | b,
        "service": a | b,
    }


def only(allowed: dict[str, Expect], default: Expect = DENIED) -> dict[str, Expect]:
    return {actor: allowed.get(actor, default) for actor in ACTORS}


# label sets per table: the world rows a request may return -------------------------------------
LABELS: dict[str, frozenset[str]] = {
    "platform_settings": rows("settings"),
    "profiles": PROFILES,
    "mentors": rows("mentor_a", "mentor_b", "mentor_x"),
    "mentorship_products": rows("product_a", "product_a_retired", "product_b", "product_x"),
    "promotion_codes": rows("code_global", "code_mentor_a"),
    "seat_reservations": rows("seat_a", "seat_b"),
    "orders": rows("order_a", "order_b"),
    "payments": rows("payment_a", "payment_b"),
    "session_packs": rows("pack_a", "pack_b"),
    "sessions": rows("session_a", "session_b"),
    "session_credit_ledger": rows("ledger_a", "ledger_b"),
    "notifications": rows(
        "notification_student_a",
        "notification_mentor_a",
        "notification_student_b",
        "notification_mentor_b",
    ),
    "audit_log": rows("audit_1"),
    "notification_preferences": rows("pref_a", "pref_b"),
    "mentor_calendars": rows("calendar_a", "calendar_b"),
    "calendar_event_changes": rows("change_a", "change_b"),
    "report_runs": rows("run_1"),
}

SELECT: dict[str, dict[str, Expect]] = {
    "platform_settings": only({a: rows("settings") for a in ACTORS}),
    "profiles": {
        "anon": DENIED,
        "student_a": rows("student_a"),
        "student_b": rows("student_b"),
        "mentor_a": rows("mentor_a", "student_a"),
        "mentor_b": rows("mentor_b", "student_b"),
        "admin": PROFILES,
        "service": PROFILES,
    },
    "mentors": {
        **{a: rows("mentor_a", "mentor_b") for a in ("anon", *EVERYONE_SIGNED_IN)},
        "admin": LABELS["mentors"],
        "service": LABELS["mentors"],
    },
    "mentorship_products": {
        **{a: rows("product_a", "product_b") for a in ("anon", *EVERYONE_SIGNED_IN)},
        "mentor_a": rows("product_a", "product_a_retired", "product_b"),
        "admin": LABELS["mentorship_products"],
        "service": LABELS["mentorship_products"],
    },
    "promotion_codes": only(
        {
            "student_a": NONE,
            "student_b": NONE,
            "mentor_a": rows("code_mentor_a"),
            "mentor_b": NONE,
            "admin": LABELS["promotion_codes"],
            "service": LABELS["promotion_codes"],
        }
    ),
    "seat_reservations": per_student("seat"),
    "orders": money("order"),
    "payments": money("payment"),
    "session_packs": per_student("pack"),
    "sessions": per_student("session"),
    "session_credit_ledger": per_student("ledger"),
    "notifications": {
        "anon": DENIED,
        **{
            a: rows(f"notification_{a}") for a in ("student_a", "student_b", "mentor_a", "mentor_b")
        },
        "admin": LABELS["notifications"],
        "service": LABELS["notifications"],
    },
    "audit_log": only(
        {
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "admin": rows("audit_1"),
            "service": rows("audit_1"),
        }
    ),
    # a person's own switches; admins read everyone's, mentors not even their students'
    "notification_preferences": {
        "anon": DENIED,
        "student_a": rows("pref_a"),
        "student_b": rows("pref_b"),
        "mentor_a": NONE,
        "mentor_b": NONE,
        "admin": LABELS["notification_preferences"],
        "service": LABELS["notification_preferences"],
    },
    # a mentor's own calendars; admins read all; students none
    "mentor_calendars": {
        "anon": DENIED,
        "student_a": NONE,
        "student_b": NONE,
        "mentor_a": rows("calendar_a"),
        "mentor_b": rows("calendar_b"),
        "admin": LABELS["mentor_calendars"],
        "service": LABELS["mentor_calendars"],
    },
}

# a mentor reads the flags of their own sessions; admins all; the calendar sync writes them
SELECT["calendar_event_changes"] = {
    "anon": DENIED,
    "student_a": NONE,
    "student_b": NONE,
    "mentor_a": rows("change_a"),
    "mentor_b": rows("change_b"),
    "admin": LABELS["calendar_event_changes"],
    "service": LABELS["calendar_event_changes"],
}

# insert: one plausible new row per table (on the A side) ---------------------------------------
Row = Callable[[World], dict[str, Any]]


def _session_row(w: World) -> dict[str, Any]:
    starts = SESSION_DAY + dt.timedelta(days=7)
    return {
        "pack_id": str(w["pack_a"]),
        "mentor_id": str(w["mentor_a"]),
        "student_id": str(w["student_a"]),
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
        "blocked_until": (starts + dt.timedelta(hours=1)).isoformat(),
    }


INSERT: dict[str, tuple[Row, dict[str, Expect]]] = {
    # One row of settings, made by the schema: no one, not even the service, inserts another.
    "platform_settings": (lambda w: {"id": True}, only({})),
    "profiles": (
        lambda w: {"id": str(w["orphan"]), "display_name": "Otto"},
        only({"service": rows("new")}),
    ),
    "mentors": (
        lambda w: {
            "id": str(w["mentor_new"]),
            "slug": "nina",
            "public_name": "Nina",
            "time_zone": "Europe/London",
        },
        only({"service": rows("new")}),
    ),
    "mentorship_products": (
        lambda w: {
            "mentor_id": str(w["mentor_a"]),
            "title": "Two sessions",
            "sessions_count": 2,
            "price_cents": 12000,
        },
        only(
            {
                "student_a": RLS,
                "student_b": RLS,
                "mentor_a": rows("new"),
                "mentor_b": RLS,
                "admin": rows("new"),
                "service": rows("new"),
            }
        ),
    ),
    "promotion_codes": (
        lambda w: {"code": "SPRING25", "percent_off": 25},
        only(
            {
                **{a: RLS for a in ("student_a", "student_b", "mentor_a", "mentor_b")},
                "admin": rows("new"),
                "service": rows("new"),
            }
        ),
    ),
    "seat_reservations": (
        lambda w: {
            "mentor_id": str(w["mentor_a"]),
            "student_id": str(w["student_b"]),
            "status": "hold",
            "hold_expires_at": (SESSION_DAY + dt.timedelta(minutes=30)).isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "orders": (
        lambda w: {
            "student_id": str(w["student_a"]),
            "mentor_id": str(w["mentor_a"]),
            "product_id": str(w["product_a"]),
            "provider": "paypal",
            "list_price_cents": 24000,
            "amount_cents": 24000,
            "currency": "usd",
            "expires_at": (SESSION_DAY + dt.timedelta(minutes=30)).isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "payments": (
        lambda w: {
            "order_id": str(w["order_a"]),
            "student_id": str(w["student_a"]),
            "provider": "stripe",
            "provider_payment_id": "pi_matrix",
            "amount_cents": 100,
            "currency": "usd",
            "paid_at": SESSION_DAY.isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "session_packs": (
        lambda w: {
            "student_id": str(w["student_a"]),
            "mentor_id": str(w["mentor_a"]),
            "product_id": str(w["product_a"]),
            "seat_reservation_id": str(w["seat_a"]),
            "sessions_total": 4,
            "remaining_sessions": 4,
            "price_cents": 24000,
            "currency": "usd",
            "grace_period_hours": 72,
            "cancel_notice_hours": 24,
            "purchased_at": SESSION_DAY.isoformat(),
            "expires_at": (SESSION_DAY + dt.timedelta(days=90)).isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "sessions": (_session_row, only({"service": rows("new")})),
    "session_credit_ledger": (
        lambda w: {
            "pack_id": str(w["pack_a"]),
            "mentor_id": str(w["mentor_a"]),
            "student_id": str(w["student_a"]),
            "kind": "admin_adjustment",
            "delta": 1,
            "reason": "goodwill",
            "actor_id": str(w["admin"]),
        },
        only({"service": rows("new")}),
    ),
    "notifications": (
        lambda w: {
            "recipient_id": str(w["student_a"]),
            "kind": "one_session_left",
            "channel": "discord",
            "dedupe_key": "matrix:one_session_left",
        },
        only({"service": rows("new")}),
    ),
    "audit_log": (
        lambda w: {"action": "matrix.test", "table_name": "sessions", "row_id": str(uuid.uuid4())},
        only({"service": rows("new")}),
    ),
    # only the person themself (and the service role, for the unsubscribe link)
    "notification_preferences": (
        lambda w: {
            "user_id": str(w["student_a"]),
            "kind": "session_reminder_24h",
            "channel": "email",
            "enabled": False,
        },
        only(
            {
                **{a: RLS for a in EVERYONE_SIGNED_IN},
                "student_a": rows("new"),
                "service": rows("new"),
            }
        ),
    ),
}

INSERT["mentor_calendars"] = (
    # listed by the services only (google_connected); a mentor chooses through an RPC
    lambda w: {
        "mentor_id": str(w["mentor_a"]),
        "calendar_id": "new@group.calendar.google.com",
        "access_role": "reader",
    },
    only({"service": rows("new")}),
)

# written only by the rules (calendar_synced, resolve_calendar_change): no one writes directly
INSERT["calendar_event_changes"] = (
    lambda w: {
        "session_id": str(w["session_a"]),
        "mentor_id": str(w["mentor_a"]),
        "change": "deleted",
        "noticed_at": "2027-01-01T00:00:00Z",
    },
    only({}),
)

# the reports' builds: admins read them ("as of"); only the build rules write them
SELECT["report_runs"] = {
    **only({}),
    **{a: NONE for a in EVERYONE_SIGNED_IN},
    "admin": LABELS["report_runs"],
    "service": LABELS["report_runs"],
}
INSERT["report_runs"] = (
    lambda w: {"started_at": "2027-01-01T00:00:00Z", "trigger": "command", "claimed_by": "me"},
    only({}),
)

# update: one harmless column (not one a trigger sets, as updated_at: the value written must come
# back), aimed at every world row of the table ------------------------------------------------------
UPDATE: dict[str, tuple[dict[str, Any], dict[str, Expect]]] = {
    "platform_settings": (
        {"seat_hold_minutes": 31},
        {
            "anon": DENIED,
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "admin": rows("settings"),
            "service": rows("settings"),
        },
    ),
    "profiles": (
        {"display_name": "Renamed"},
        {"anon": DENIED, **{a: rows(a) for a in EVERYONE_SIGNED_IN}, "service": PROFILES},
    ),
    "mentors": (
        {"headline": "Now teaching"},
        {
            "anon": DENIED,
            "student_a": NONE,
            "student_b": NONE,
            "mentor_a": rows("mentor_a"),
            "mentor_b": rows("mentor_b"),
            "admin": NONE,
            "service": LABELS["mentors"],
        },
    ),
    "mentorship_products": (
        {"title": "Renamed pack"},
        {
            "anon": DENIED,
            "student_a": NONE,
            "student_b": NONE,
            "mentor_a": rows("product_a", "product_a_retired"),
            "mentor_b": rows("product_b"),
            "admin": LABELS["mentorship_products"],
            "service": LABELS["mentorship_products"],
        },
    ),
    "promotion_codes": (
        {"is_active": False},
        {
            "anon": DENIED,
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "admin": LABELS["promotion_codes"],
            "service": LABELS["promotion_codes"],
        },
    ),
    "seat_reservations": (
        {"activated_at": "2031-01-10T12:05:00+00:00"},
        only({"service": LABELS["seat_reservations"]}),
    ),
    "orders": ({"flagged_reason": "matrix"}, only({"service": LABELS["orders"]})),
    "payments": ({"paid_at": SESSION_DAY.isoformat()}, only({"service": LABELS["payments"]})),
    "session_packs": ({"cancel_notice_hours": 48}, only({"service": LABELS["session_packs"]})),
    "sessions": ({"notes": "Great progress"}, only({"service": LABELS["sessions"]})),
    "session_credit_ledger": ({"reason": "edited"}, only({})),
    "notifications": ({"attempts": 1}, only({"service": LABELS["notifications"]})),
    "audit_log": ({"reason": "edited"}, only({})),
    "notification_preferences": (
        {"enabled": True},
        {
            "anon": DENIED,
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "student_a": rows("pref_a"),
            "student_b": rows("pref_b"),
            "service": LABELS["notification_preferences"],
        },
    ),
}

UPDATE["mentor_calendars"] = ({"summary": "Renamed"}, only({"service": LABELS["mentor_calendars"]}))
UPDATE["calendar_event_changes"] = ({"change": "deleted"}, only({}))
UPDATE["report_runs"] = ({"error": "edited"}, only({}))

# delete: aimed at every world row; 409 where a foreign key (on delete restrict) stops it -------
DELETE: dict[str, dict[str, Expect]] = {
    "platform_settings": only({}),
    "profiles": only({"service": STILL_REFERENCED}),
    "mentors": only({"service": STILL_REFERENCED}),
    "mentorship_products": only({"service": STILL_REFERENCED}),
    "promotion_codes": only({"service": LABELS["promotion_codes"]}),
    "seat_reservations": only({"service": STILL_REFERENCED}),
    "orders": only({"service": STILL_REFERENCED}),
    "payments": only({"service": LABELS["payments"]}),
    "session_packs": only({"service": STILL_REFERENCED}),
    "sessions": only({"service": STILL_REFERENCED}),
    "session_credit_ledger": only({}),
    "notifications": only({"service": LABELS["notifications"]}),
    "audit_log": only({}),
    "notification_preferences": {
        "anon": DENIED,
        **{a: NONE for a in EVERYONE_SIGNED_IN},
        "student_a": rows("pref_a"),
        "student_b": rows("pref_b"),
        "service": LABELS["notification_preferences"],
    },
}


DELETE["mentor_calendars"] = only({"service": LABELS["mentor_calendars"]})
DELETE["calendar_event_changes"] = only({})
DELETE["report_runs"] = only({})
