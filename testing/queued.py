"""Messages queued by the real rules for the dispatcher's tests (tests/sync/messaging/test_worker*.py)
in a testing.dispatch World: every kind on both channels, or n grace warnings; and how to wait
for and count what became of them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import psycopg

from testing.dispatch import T, World

UTC = dt.UTC
# Tuesday 5 March 2002 in New York's working hours (the mentor's), at least 12 h after T.
TUE_10_NY = dt.datetime(2002, 3, 5, 15, 0, tzinfo=UTC)


def queue_every_kind(w: World) -> dict[str, Any]:
    """Every kind to the world's people on both channels: the session kinds by bookings through
    the gateway, the others as the rules queue them (private.notify, their payloads' shape)."""
    s1 = w.book(TUE_10_NY)
    s2 = w.book(TUE_10_NY + dt.timedelta(hours=2))
    w.reschedule(s2, TUE_10_NY + dt.timedelta(days=1))
    s3 = w.book(TUE_10_NY + dt.timedelta(days=1, hours=2))
    w.cancel(s3)
    admin = w.scenario.person("admin", "Asia/Tokyo", discord=True)
    seat = w.scenario.one(
        "select seat_reservation_id from public.session_packs where id = %s", w.pack
    )
    expires = (T + dt.timedelta(days=89)).isoformat()
    grace_end = (T + dt.timedelta(days=3)).isoformat()
    both = [w.student, w.mentor]
    pack = {"pack_id": str(w.pack), "mentor_id": str(w.mentor)}
    w.notify(
        both,
        "pack_purchased",
        {
            **pack,
            "order_id": None,
            "student_id": str(w.student),
            "sessions": 4,
            "expires_at": expires,
            "amount_cents": 24000,
            "currency": "usd",
        },
        pack_id=w.pack,
    )
    w.notify([w.student], "renewal_reminder", {**pack}, pack_id=w.pack)
    w.notify([w.student], "one_session_left", {**pack, "remaining_sessions": 1}, pack_id=w.pack)
    seat_payload = {"seat_id": str(seat), "mentor_id": str(w.mentor), "grace_ends_at": grace_end}
    w.notify([w.student], "grace_started", seat_payload)
    w.notify([w.student], "grace_warning", seat_payload)
    w.notify(
        both,
        "seat_released",
        {"seat_id": str(seat), "mentor_id": str(w.mentor), "student_id": str(w.student)},
    )
    w.notify(
        [w.student, admin],
        "refund_processed",
        {
            "order_id": "0de20000-0000-4000-8000-000000000005",
            "refunded_cents": 1000,
            "amount_cents": 24000,
            "currency": "usd",
            "full": False,
        },
    )
    w.notify(
        [admin],
        "payment_flagged",
        {"order_id": None, "payment_ref": "pi_123", "reason": "payment names no order"},
    )
    w.notify(
        [w.mentor],
        "calendar_disconnected",
        {"mentor_id": str(w.mentor), "revoked_at": "2026-12-01T12:00:00+00:00"},
    )
    w.notify(
        [w.mentor],
        "calendar_event_changed",
        {
            "session_id": str(s1),
            "mentor_id": str(w.mentor),
            "student_id": str(w.student),
            "starts_at": TUE_10_NY.isoformat(),
            "ends_at": (TUE_10_NY + dt.timedelta(hours=1)).isoformat(),
            "change": "deleted",
            "change_id": 1,
            "google_starts_at": None,
            "google_ends_at": None,
        },
        session_id=s1,
    )
    w.notify(
        [admin],
        "delivery_failed",
        {
            "notification_id": 1,
            "kind": "session_booked",
            "channel": "email",
            "recipient_id": str(w.student),
            "attempts": 8,
            "error": "550",
        },
    )
    # the reminders of s1 fall due (24 h and 1 h before it)
    w.clock.freeze(TUE_10_NY - dt.timedelta(hours=1))
    return {"s1": s1, "s2": s2, "s3": s3, "admin": admin}


def queue_warnings(w: World, n: int) -> list[str]:
    """n grace warnings to the student (email and Discord each): 2n messages due now; answers the
    world's dedupe keys."""
    for i in range(n):
        w.notify(
            [w.student],
            "grace_warning",
            {
                "seat_id": None,
                "mentor_id": str(w.mentor),
                "grace_ends_at": (T + dt.timedelta(hours=i)).isoformat(),
            },
        )
    return [r["dedupe_key"] for r in w.messages()]


def wait_for(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def statuses(conn: psycopg.Connection, w: World) -> dict[str, int]:
    """How many of the world's messages are in each status."""
    rows = conn.execute(
        "select status::text, count(*) from public.notifications where recipient_id = any(%s) group by 1",
        ([w.mentor, w.student],),
    ).fetchall()
    return {r[0]: r[1] for r in rows}
