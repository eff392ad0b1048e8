"""The dispatcher (sync/messaging/worker.py) in this process against the real test stack: it claims
through PostgREST, renders, delivers with the file transport (or a test transport at the network
edge) and reports; the outcomes are counted in the database and in the mail folder. The messages
are queued by the real rules (bookings through the gateway, private.notify for the others) with
the clock frozen in 2002, when nothing another test queued is due."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import json
import uuid
from email import policy
from pathlib import Path
from typing import Any

import icalendar
import psycopg
import pytest

from mentorships.settings import Settings
from sync.messaging.files import FileTransport, file_stem
from sync.messaging.transport import DeliveryFailed, Outgoing
from sync.messaging.unsubscribe import OPTIONAL_KINDS, read_token
from sync.messaging.worker import Dispatcher, DrainResult, build_transports
from testing.clock import Clock
from testing.dispatch import (
    CALLS,
    DASHBOARD,
    SENDER,
    UNSUBSCRIBE_SECRET,
    T,
    World,
    files,
    worker_settings,
)
from testing.messages import ALL_KINDS
from testing.queued import TUE_10_NY, queue_every_kind

UTC = dt.UTC


@pytest.fixture
def mail(tmp_path: Path) -> Path:
    return tmp_path / "mail"


def drain(settings: Settings, mail: Path, transports: Any = None, **overrides: Any) -> DrainResult:
    ws = worker_settings(settings, mail, **overrides)

    async def go() -> DrainResult:
        async with Dispatcher(ws, transports or build_transports(ws), "test-worker") as d:
            return await d.drain()

    return asyncio.run(go())


def test_every_kind_on_both_channels_is_rendered_delivered_to_a_file_and_reported_sent(
    world: World, settings: Settings, mail: Path, conn: psycopg.Connection
) -> None:
    ids = queue_every_kind(world)
    admin = ids["admin"]
    result = drain(settings, mail)

    people = [world.student, world.mentor, admin]
    rows = conn.execute(
        "select id, kind::text, channel::text, status::text, dedupe_key, provider_message_id, last_error"
        " from public.notifications where recipient_id = any(%s) order by id",
        (people,),
    ).fetchall()
    due = [r for r in rows if r[3] != "pending"]
    sent = {(r[1], r[2]) for r in due if r[3] == "sent"}
    assert sent == {(k, c) for k in ALL_KINDS for c in ("email", "discord")}, [
        r for r in due if r[3] != "sent"
    ]
    # the unsent confirmations of the moved and the canceled session were voided by the claim
    voided = [r for r in rows if r[3] == "voided"]
    assert {r[1] for r in voided} == {
        "session_booked",
        "session_reminder_24h",
        "session_reminder_1h",
    }
    assert result.voided >= 4 and result.failed == 0 and result.retried == 0
    # one file per sent message, named from its dedupe key, the id reported
    names = {p.name for p in files(mail)}
    for r in due:
        if r[3] == "sent":
            name = file_stem(r[4]) + (".eml" if r[2] == "email" else ".json")
            assert name in names and r[5] == f"file:{name}"
    assert result.sent >= len([r for r in due if r[3] == "sent"])
    # the emails people may turn off carry a one-click unsubscribe link for that very kind
    recipients: dict[int, uuid.UUID] = dict(
        conn.execute(
            "select id, recipient_id from public.notifications where recipient_id = any(%s)",
            (people,),
        ).fetchall()
    )
    for r in due:
        if r[3] != "sent" or r[2] != "email":
            continue
        msg = read_email(mail / (file_stem(r[4]) + ".eml"))
        if r[1] not in OPTIONAL_KINDS:
            assert msg["List-Unsubscribe"] is None, r[1]
            continue
        link = str(msg["List-Unsubscribe"])
        assert link.startswith(f"<{CALLS}/messages/unsubscribe?token=") and link.endswith(">")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        token = link[1:-1].split("token=", 1)[1]
        secret = UNSUBSCRIBE_SECRET.encode()
        assert read_token(token, [secret]) == (recipients[r[0]], r[1], "email")


def read_email(path: Path) -> email.message.EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def test_a_booking_email_is_a_real_message_with_its_invite_and_the_dm_a_json(
    world: World, settings: Settings, mail: Path, conn: psycopg.Connection
) -> None:
    session = world.book(TUE_10_NY)
    assert drain(settings, mail).sent == 4  # booked: student and mentor, email and Discord
    key = conn.execute(
        "select dedupe_key from public.notifications where recipient_id = %s and channel = 'email'"
        " and kind = 'session_booked'",
        (world.student,),
    ).fetchone()
    assert key is not None
    msg = read_email(mail / f"{file_stem(key[0])}.eml")
    assert msg["From"] == SENDER
    assert msg["To"] == f"Ben Ito <{world.student}@scenario.test>"
    # Berlin, the student's zone: 15:00 UTC is 16:00 CET
    assert msg["Subject"] == "Session booked: Tue 5 Mar 2002, 16:00\u201317:00 Europe/Berlin"
    assert msg["Date"] and msg["Message-ID"]
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert f"{CALLS}/video/{session}" in text.get_content()
    assert f'href="{DASHBOARD}/sessions/{session}"' in html.get_content()
    (invite,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert invite.get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(invite.get_content())
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == TUE_10_NY
    assert str(event["attendee"]) == f"mailto:{world.student}@scenario.test"
    dm_key = conn.execute(
        "select dedupe_key from public.notifications where recipient_id = %s and channel = 'discord'"
        " and kind = 'session_booked'",
        (world.mentor,),
    ).fetchone()
    assert dm_key is not None
    dm = json.loads((mail / f"{file_stem(dm_key[0])}.json").read_text())
    discord_id = conn.execute(
        "select discord_user_id from public.profiles where id = %s", (world.mentor,)
    ).fetchone()
    assert discord_id is not None and dm["to"] == discord_id[0]
    assert dm["dedupe_key"] == dm_key[0] and len(dm["nonce"]) <= 25
    # New York, the mentor's zone: 15:00 UTC is 10:00 EST
    assert dm["content"].startswith("**Session booked: Tue 5 Mar 2002, 10:00")
    assert "America/New\\_York" in dm["content"]


class FailingTransport(FileTransport):
    """The network edge of a provider that refuses some messages: `fail` maps a kind to the
    DeliveryFailed to raise (once per message when `once`)."""

    def __init__(self, folder: Path, fail: dict[str, DeliveryFailed], *, once: bool) -> None:
        super().__init__("email", folder, sender=SENDER)
        self.fail = fail
        self.once = once
        self.failed: set[str] = set()
        self.calls = 0

    async def send(self, message: Outgoing) -> str:
        self.calls += 1
        error = self.fail.get(message.kind)
        if error is not None and not (self.once and message.dedupe_key in self.failed):
            self.failed.add(message.dedupe_key)
            raise error
        return await super().send(message)


def test_a_permanent_failure_fails_at_once_and_tells_the_admins(
    world: World, settings: Settings, mail: Path, conn: psycopg.Connection
) -> None:
    world.notify(
        [world.student],
        "renewal_reminder",
        {"pack_id": str(world.pack), "mentor_id": str(world.mentor)},
        pack_id=world.pack,
    )
    # a payload without what its kind needs cannot be rendered: permanent too
    world.notify([world.student], "one_session_left", {"mentor_id": str(world.mentor)})
    email_t = FailingTransport(
        mail, {"renewal_reminder": DeliveryFailed("address refused", permanent=True)}, once=False
    )
    ws = worker_settings(settings, mail)
    transports = {**build_transports(ws), "email": email_t}
    result = drain(settings, mail, transports)
    rows = conn.execute(
        "select kind::text, channel::text, status::text, attempts, last_error from public.notifications"
        " where recipient_id = %s order by id",
        (world.student,),
    ).fetchall()
    assert rows == [
        ("renewal_reminder", "email", "failed", 1, "address refused"),
        ("renewal_reminder", "discord", "sent", 1, None),
        (
            "one_session_left",
            "email",
            "failed",
            1,
            "cannot render: the one_session_left message's payload has no 'remaining_sessions'",
        ),
        (
            "one_session_left",
            "discord",
            "failed",
            1,
            "cannot render: the one_session_left message's payload has no 'remaining_sessions'",
        ),
    ]
    assert result.failed == 3 and result.sent >= 1
    told = conn.execute(
        "select count(*) from public.notifications where kind = 'delivery_failed'"
        " and payload ->> 'recipient_id' = %s",
        (str(world.student),),
    ).fetchone()
    admins = conn.execute(
        "select count(*) from public.profiles p, (values (1), (2)) c (n)"
        " where p.role = 'admin' and (c.n = 1 or p.discord_user_id is not null)"
    ).fetchone()
    assert told is not None and admins is not None and told[0] == 3 * admins[0]


def test_a_failure_is_retried_after_its_backoff_and_then_sent(
    world: World, settings: Settings, mail: Path, conn: psycopg.Connection, clock: Clock
) -> None:
    world.notify(
        [world.student],
        "grace_warning",
        {
            "seat_id": None,
            "mentor_id": str(world.mentor),
            "grace_ends_at": (T + dt.timedelta(hours=12)).isoformat(),
        },
    )
    flaky = FailingTransport(
        mail, {"grace_warning": DeliveryFailed("503 from the provider")}, once=True
    )
    ws = worker_settings(settings, mail)
    transports = {**build_transports(ws), "email": flaky}
    first = drain(settings, mail, transports)
    assert (first.retried, flaky.calls) == (1, 1)
    row = conn.execute(
        "select status::text, attempts, last_error, next_attempt_at from public.notifications"
        " where recipient_id = %s and channel = 'email'",
        (world.student,),
    ).fetchone()
    assert row is not None and row[:3] == ("pending", 1, "503 from the provider")
    assert drain(settings, mail, transports).total == 0  # not before its backoff
    clock.freeze(row[3])
    again = drain(settings, mail, transports)
    assert (again.sent, flaky.calls) == (1, 2)
    row = conn.execute(
        "select status::text, attempts from public.notifications where recipient_id = %s and channel = 'email'",
        (world.student,),
    ).fetchone()
    assert row == ("sent", 2)


def test_a_reminder_voided_by_a_cancel_between_queueing_and_sending_is_never_sent(
    world: World, settings: Settings, mail: Path, conn: psycopg.Connection, clock: Clock
) -> None:
    session = world.book(TUE_10_NY)
    world.cancel(session, by=world.mentor)
    clock.freeze(TUE_10_NY - dt.timedelta(minutes=59))  # both reminders would be due now
    result = drain(settings, mail)
    rows = conn.execute(
        "select kind::text, status::text, count(*) from public.notifications where session_id = %s"
        " group by 1, 2 order by 1, 2",
        (session,),
    ).fetchall()
    assert rows == [
        ("session_booked", "voided", 4),
        ("session_canceled", "sent", 4),
        ("session_reminder_1h", "voided", 4),
        ("session_reminder_24h", "voided", 4),
    ]
    assert (
        result.voided == 4
    )  # the confirmations: voided by the claim (the cancel voided the reminders)
    kinds = {read_email(p)["X-Mentorships-Kind"] for p in files(mail) if p.suffix == ".eml"}
    assert kinds == {"session_canceled"}


def test_a_recipient_without_an_address_fails_permanent_with_the_reason(
    world: World, settings: Settings, mail: Path, conn: psycopg.Connection
) -> None:
    world.notify(
        [world.student],
        "grace_started",
        {
            "seat_id": None,
            "mentor_id": str(world.mentor),
            "grace_ends_at": (T + dt.timedelta(days=3)).isoformat(),
        },
    )
    conn.execute("update auth.users set email = null where id = %s", (world.student,))
    drain(settings, mail)
    row = conn.execute(
        "select status::text, last_error from public.notifications where recipient_id = %s and channel = 'email'",
        (world.student,),
    ).fetchone()
    assert row == ("failed", "the recipient has no email address")
