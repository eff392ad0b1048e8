"""Outbox messages to render in tests (tests/sync/messaging/): one context per kind, channel and
scenario (a zone and the instants it shows), as the dispatcher will build them from an outbox
row and its look-ups. The payloads are shaped as the rules write them (sql/rules/:
private.session_payload and the private.notify calls)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sync.messaging.context import Channel, MessageContext, Role

# Every kind of public.notification_kind (supabase/migrations: 13 kinds + delivery_failed +
# calendar_disconnected + calendar_event_changed).
ALL_KINDS = (
    "pack_purchased",
    "session_booked",
    "session_rescheduled",
    "session_canceled",
    "session_reminder_24h",
    "session_reminder_1h",
    "renewal_reminder",
    "one_session_left",
    "grace_started",
    "grace_warning",
    "seat_released",
    "refund_processed",
    "payment_flagged",
    "delivery_failed",
    "calendar_disconnected",
    "calendar_event_changed",
)
SESSION = "5b0c3d52-9d7e-4c34-9a43-3c1e2f0a7d11"
PACK = "a1f2e3d4-0000-4000-8000-000000000002"
MENTOR = "c0ffee00-0000-4000-8000-000000000003"
STUDENT = "50de0000-0000-4000-8000-000000000004"
ORDER = "0de20000-0000-4000-8000-000000000005"
QUEUED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

# scenario -> (zone, session start and end (UTC), another instant (grace end, pack expiry))
SCENARIOS: dict[str, tuple[str, str, str, str]] = {
    "Europe/Berlin": (
        "Europe/Berlin",
        "2026-12-08T08:00:00+00:00",
        "2026-12-08T09:00:00+00:00",
        "2027-03-08T08:00:00+00:00",
    ),
    "America/Los_Angeles": (
        "America/Los_Angeles",
        "2026-12-08T08:00:00+00:00",
        "2026-12-08T09:00:00+00:00",
        "2027-03-08T08:00:00+00:00",
    ),
    # summer time ends in Europe at 01:00 UTC on 25 Oct 2026: the session is in winter time
    # (08:00 UTC = 09:00 CET), the grace end / expiry the day before in summer time (08:00 UTC =
    # 10:00 CEST)
    "Europe/Berlin across DST": (
        "Europe/Berlin",
        "2026-10-25T08:00:00+00:00",
        "2026-10-25T09:00:00+00:00",
        "2026-10-24T08:00:00+00:00",
    ),
}

# (role the golden shows, payload beyond the session's) per kind; admins for the admin kinds.
ROLES: dict[str, Role] = {
    "pack_purchased": "student",
    "refund_processed": "student",
    "payment_flagged": "admin",
    "delivery_failed": "admin",
    "seat_released": "mentor",
    "calendar_disconnected": "mentor",
    "calendar_event_changed": "mentor",
}


def payload(kind: str, starts_at: str, ends_at: str, other: str) -> dict[str, Any]:
    session: dict[str, Any] = {
        "session_id": SESSION,
        "pack_id": PACK,
        "mentor_id": MENTOR,
        "student_id": STUDENT,
        "mentor_name": "Ana Ruiz",
        "student_name": "Ben Ito",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "status": "scheduled",
    }
    seat: dict[str, Any] = {"seat_id": "5ea70000-0000-4000-8000-000000000006", "mentor_id": MENTOR}
    payloads: dict[str, dict[str, Any]] = {
        "pack_purchased": {
            "order_id": ORDER,
            "pack_id": PACK,
            "mentor_id": MENTOR,
            "student_id": STUDENT,
            "sessions": 4,
            "expires_at": other,
            "amount_cents": 24000,
            "currency": "eur",
        },
        "session_booked": session,
        "session_rescheduled": session,
        "session_canceled": session
        | {"status": "canceled", "canceled_by": "student", "credit_restored": True},
        "session_reminder_24h": session,
        "session_reminder_1h": session,
        "renewal_reminder": {"pack_id": PACK, "mentor_id": MENTOR, "product_id": "p-1"},
        "one_session_left": {"pack_id": PACK, "mentor_id": MENTOR, "remaining_sessions": 1},
        "grace_started": seat | {"grace_ends_at": other},
        "grace_warning": seat | {"grace_ends_at": other},
        "seat_released": seat | {"student_id": STUDENT},
        "refund_processed": {
            "order_id": ORDER,
            "pack_id": PACK,
            "refunded_cents": 24000,
            "amount_cents": 24000,
            "currency": "eur",
            "full": True,
            "sessions_canceled": 2,
        },
        "payment_flagged": {
            "order_id": ORDER,
            "student_id": STUDENT,
            "mentor_id": MENTOR,
            "reason": "amount or currency differs from the order",
        },
        "calendar_event_changed": session
        | {
            "change": "moved",
            "change_id": 7,
            "google_starts_at": other,
            "google_ends_at": other,
        },
        "calendar_disconnected": {
            "mentor_id": MENTOR,
            "revoked_at": starts_at,
            "connected_at": other,
        },
        "delivery_failed": {
            "notification_id": 4711,
            "kind": "session_booked",
            "channel": "email",
            "recipient_id": STUDENT,
            "attempts": 8,
            "error": "550 mailbox unavailable",
            "session_id": SESSION,
        },
    }
    return payloads[kind]


def context(
    kind: str, channel: Channel, scenario: str = "Europe/Berlin", **overrides: Any
) -> MessageContext:
    zone, starts_at, ends_at, other = SCENARIOS[scenario]
    role = ROLES.get(kind, "student")
    values: dict[str, Any] = {
        "notification_id": 42,
        "kind": kind,
        "channel": channel,
        "payload": payload(kind, starts_at, ends_at, other),
        "queued_at": QUEUED,
        "recipient_name": {"student": "Ben Ito", "mentor": "Ana Ruiz", "admin": "Ada Admin"}[role],
        "recipient_role": role,
        "time_zone": zone,
        "dashboard_url": "https://dashboard.example.org",
        "services_url": "https://services.example.org",
        "other_party_name": "Ben Ito" if role == "mentor" else "Ana Ruiz",
        "mentor_name": "Ana Ruiz",
        "product_title": "Four portrait sessions",
        "remaining_sessions": 2,
        "reschedule_count": 1 if kind == "session_rescheduled" else 0,
        "recipient_email": "ben@example.org",
        "organizer_email": "sessions@example.org",
    }
    values.update(overrides)
    return MessageContext(**values)
