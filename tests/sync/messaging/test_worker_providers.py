"""The dispatcher with the provider transports `build_transports` makes from settings holding a
Resend key and a Discord bot token, pointed at the strict stateful fakes (testing/fakes/resend.py,
discord.py), on the test stack through the real rules: every kind on both channels arrives once
with its fields, a 429 storm is waited out, permanent refusals fail at once and tell the admins,
a wrong key or token fails nothing for good. Counted at the fakes and in the database. (Worker
processes killed mid-send: test_worker_providers_crash.py.)"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import icalendar
import psycopg
import pytest

from mentorships.settings import Settings
from sync.discord.dm import nonce
from sync.messaging.unsubscribe import OPTIONAL_KINDS, read_token
from sync.messaging.worker import Dispatcher, DrainResult, build_transports
from sync.resend.transport import idempotency_key
from testing.clock import Clock
from testing.dispatch import (
    CALLS,
    SENDER,
    UNSUBSCRIBE_SECRET,
    T,
    World,
    provider_overrides,
    worker_settings,
)
from testing.fakes.discord import DiscordBotFake
from testing.fakes.resend import ResendFake
from testing.messages import ALL_KINDS
from testing.queued import queue_every_kind, queue_warnings

INVITES = {
    "session_booked": "REQUEST",
    "session_rescheduled": "REQUEST",
    "session_canceled": "CANCEL",
}
# This module's messages: queued while the clock was in 2002.
OURS = "created_at >= '2002-01-01' and created_at < '2003-01-01'"
OURS_N = OURS.replace("created_at", "n.created_at")


def drain(
    settings: Settings,
    tmp_path: Path,
    resend: ResendFake | None,
    discord: DiscordBotFake | None,
    **overrides: Any,
) -> DrainResult:
    """One drain by a Dispatcher whose transports build_transports made from the settings."""
    ws = worker_settings(
        settings, tmp_path / "mail", **provider_overrides(resend, discord) | overrides
    )

    async def go() -> DrainResult:
        async with Dispatcher(ws, build_transports(ws), "test-providers") as d:
            assert {c: t.name for c, t in d.transports.items()} == {
                "email": "resend" if resend else "file",
                "discord": "discord" if discord else "file",
            }
            return await d.drain()

    return asyncio.run(go())


def rows(conn: psycopg.Connection, *where: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "select n.id, n.kind::text, n.channel::text, n.status::text, n.dedupe_key, n.attempts,"
            " n.provider_message_id, n.last_error, n.recipient_id, u.email, p.discord_user_id"
            " from public.notifications n join auth.users u on u.id = n.recipient_id"
            " join public.profiles p on p.id = n.recipient_id"
            f" where {OURS_N}" + "".join(f" and {w}" for w in where) + " order by n.id"
        ).fetchall()


def test_every_kind_on_both_channels_arrives_once_with_its_fields_and_is_reported_sent(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    resend_api: ResendFake,
    discord_bot: DiscordBotFake,
) -> None:
    queue_every_kind(world)
    result = drain(settings, tmp_path, resend_api, discord_bot)
    due = [r for r in rows(conn) if r["status"] != "pending"]
    sent = [r for r in due if r["status"] == "sent"]
    assert {(r["kind"], r["channel"]) for r in sent} == {
        (k, c) for k in ALL_KINDS for c in ("email", "discord")
    }, [r for r in due if r["status"] not in ("sent", "voided")]
    assert result.failed == result.retried == 0 and result.sent == len(sent)

    emails = {idempotency_key(r["dedupe_key"]): r for r in sent if r["channel"] == "email"}
    assert sorted(d.key for d in resend_api.deliveries) == sorted(emails)  # each one, no other
    assert set(resend_api.per_key.values()) == {1}
    for delivery in resend_api.deliveries:
        row, body = emails[delivery.key], delivery.body
        assert row["provider_message_id"] == delivery.id
        assert body["from"] == SENDER
        assert parseaddr(body["to"][0])[1] == row["email"]
        assert body["subject"] and body["text"] and body["html"]
        if row["kind"] in OPTIONAL_KINDS:
            link = body["headers"]["List-Unsubscribe"]
            assert link.startswith(f"<{CALLS}/messages/unsubscribe?token=")
            assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            token = link[1:-1].split("token=", 1)[1]
            assert read_token(token, [UNSUBSCRIBE_SECRET.encode()]) == (
                row["recipient_id"],
                row["kind"],
                "email",
            )
        else:
            assert "headers" not in body, row["kind"]
        if row["kind"] in INVITES:
            [attachment] = body["attachments"]
            assert attachment["filename"] == "invite.ics"
            assert attachment["content_type"] == f"text/calendar; method={INVITES[row['kind']]}"
            calendar = icalendar.Calendar.from_ical(base64.b64decode(attachment["content"]))
            assert str(calendar["METHOD"]) == INVITES[row["kind"]]
        else:
            assert "attachments" not in body, row["kind"]
    student_emails = [d.body for d in resend_api.deliveries if str(world.student) in d.key]
    assert student_emails and all(
        b["to"] == [f"Ben Ito <{world.student}@scenario.test>"] for b in student_emails
    )

    dms = {nonce(r["dedupe_key"]): r for r in sent if r["channel"] == "discord"}
    assert sorted(m.nonce for m in discord_bot.messages) == sorted(dms)
    assert set(discord_bot.per_nonce.values()) == {1}
    for message in discord_bot.messages:
        row = dms[message.nonce]
        assert row["provider_message_id"] == message.id
        assert message.user_id == row["discord_user_id"] and message.content
    assert discord_bot.logins == 1


def test_a_429_storm_is_waited_out_every_message_sent_once_none_failed(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    resend_api: ResendFake,
    discord_bot: DiscordBotFake,
) -> None:
    queue_warnings(world, 20)  # 20 emails, 20 DMs
    # at most as many as one send retries (Resend: 10; discord.py tries a request 5 times)
    resend_api.rate_limit(10, retry_after=0.2)
    discord_bot.rate_limit(4, retry_after=0.2)
    result = drain(settings, tmp_path, resend_api, discord_bot)
    assert (result.sent, result.failed, result.retried) == (40, 0, 0)
    assert {(r["status"], r["attempts"]) for r in rows(conn)} == {("sent", 1)}
    assert resend_api.rate_limited == 10
    assert len(resend_api.deliveries) == 20 and set(resend_api.per_key.values()) == {1}
    assert [a.status for a in discord_bot.arrivals if a.route == "messages"].count(429) == 4
    assert len(discord_bot.messages) == 20 and set(discord_bot.per_nonce.values()) == {1}


def admins_told(conn: psycopg.Connection, notification_id: int) -> list[tuple[Any, ...]]:
    """The delivery_failed messages about a message: (recipient, channel, how many)."""
    return conn.execute(
        "select recipient_id, channel::text, count(*) from public.notifications"
        " where kind = 'delivery_failed' and payload ->> 'notification_id' = %s group by 1, 2",
        (str(notification_id),),
    ).fetchall()


def test_a_blocked_bot_and_a_refused_address_fail_at_once_and_tell_the_admins_once(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    resend_api: ResendFake,
    discord_bot: DiscordBotFake,
) -> None:
    world.notify(
        [world.student, world.mentor],
        "grace_warning",
        {"seat_id": None, "mentor_id": str(world.mentor), "grace_ends_at": T.isoformat()},
    )
    address, discord_id = conn.execute(
        "select u.email, p.discord_user_id from auth.users u join public.profiles p using (id)"
        " where u.id = %s",
        (world.student,),
    ).fetchone() or (None, None)
    discord_bot.block(discord_id)  # 403 50007
    resend_api.refuse(address, 422, "validation_error", "Invalid `to` field.")
    drain(settings, tmp_path, resend_api, discord_bot)
    mine = rows(conn, "n.kind = 'grace_warning'")
    by = {(r["recipient_id"], r["channel"]): r for r in mine}
    email, dm = by[(world.student, "email")], by[(world.student, "discord")]
    assert (email["status"], email["attempts"]) == ("failed", 1)
    assert email["last_error"] == "resend 422 validation_error: Invalid `to` field."
    assert (dm["status"], dm["attempts"]) == ("failed", 1)
    assert "403 50007" in dm["last_error"] and "blocked the bot" in dm["last_error"]
    assert {r["status"] for r in mine if r["recipient_id"] == world.mentor} == {"sent"}
    admins = conn.execute(
        "select p.id, c.channel from public.profiles p, (values ('email'), ('discord')) c (channel)"
        " where p.role = 'admin' and (c.channel = 'email' or p.discord_user_id is not null)"
    ).fetchall()
    for failed in (email, dm):
        told = admins_told(conn, failed["id"])
        assert sorted((r, c) for r, c, _ in told) == sorted(admins)
        assert {n for _, _, n in told} == {1}  # each admin once per channel
    assert resend_api.delivered(idempotency_key(email["dedupe_key"])) == 0
    assert discord_bot.delivered(nonce(dm["dedupe_key"])) == 0


def test_a_wrong_key_or_token_fails_no_message_for_good(
    world: World,
    settings: Settings,
    tmp_path: Path,
    conn: psycopg.Connection,
    clock: Clock,
    resend_api: ResendFake,
    discord_bot: DiscordBotFake,
) -> None:
    queue_warnings(world, 1)
    wrong = {"resend_api_key": "re_revoked_0123456789", "discord_bot_token": "not.the.token"}
    result = drain(settings, tmp_path, resend_api, discord_bot, **wrong)
    assert (result.sent, result.failed, result.retried) == (0, 0, 2)
    mine = {r["channel"]: r for r in rows(conn)}
    assert {c: (r["status"], r["attempts"]) for c, r in mine.items()} == {
        "email": ("pending", 1),
        "discord": ("pending", 1),
    }
    assert mine["email"]["last_error"] == "resend 403 invalid_api_key: API key is invalid"
    assert mine["discord"]["last_error"] == "Discord refused the bot token (401)"
    assert resend_api.deliveries == [] and discord_bot.messages == []
    told = conn.execute(
        f"select count(*) from public.notifications where kind = 'delivery_failed' and {OURS}"
    ).fetchone()
    assert told == (0,)
    # once the settings are fixed, the retry (after its backoff) goes out
    retry_at = conn.execute(
        f"select max(next_attempt_at) from public.notifications where {OURS}"
    ).fetchone()
    assert retry_at is not None
    clock.freeze(retry_at[0] + dt.timedelta(seconds=1))
    again = drain(settings, tmp_path, resend_api, discord_bot)
    assert (again.sent, again.failed) == (2, 0)
    assert {(r["status"], r["attempts"]) for r in rows(conn)} == {("sent", 2)}
    assert len(resend_api.deliveries) == len(discord_bot.messages) == 1


@pytest.mark.parametrize(("lease", "limit"), [(10, 5.0), (120, 30.0)])
def test_a_send_never_outlives_its_claim(
    settings: Settings,
    tmp_path: Path,
    resend_api: ResendFake,
    discord_bot: DiscordBotFake,
    lease: int,
    limit: float,
) -> None:
    # Each provider's time limit: half the lease, at most the transport's own (30 s); a send
    # still running when its lease ran out could be claimed and sent again meanwhile.
    ws = worker_settings(
        settings,
        tmp_path / "mail",
        **provider_overrides(resend_api, discord_bot) | {"messages_lease_seconds": lease},
    )

    async def go() -> dict[str, float]:
        transports = build_transports(ws)
        try:
            return {c: t.timeout_seconds for c, t in transports.items()}  # type: ignore[attr-defined]
        finally:
            for t in transports.values():
                await t.aclose()

    assert asyncio.run(go()) == {"email": limit, "discord": limit}
