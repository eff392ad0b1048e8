"""The file transport (sync/messaging/files.py): a message delivered twice, even at once, is one
file with the same id; the email reads back as a real RFC 5322 message."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sync.messaging.files import FileTransport, file_stem, read_folder
from sync.messaging.templates import render
from sync.messaging.transport import Outgoing
from testing.messages import QUEUED, context


def outgoing(kind: str, channel: str, key: str) -> Outgoing:
    ctx = context(kind, channel)  # type: ignore[arg-type]
    return Outgoing(
        notification_id=42,
        dedupe_key=key,
        kind=kind,
        channel=ctx.channel,
        to="ben@example.org" if channel == "email" else "100000000000000001",
        to_name="Ben Ito",
        rendered=render(ctx),
        headers={"List-Unsubscribe": "<https://example.org/u>"},
        queued_at=QUEUED,
    )


def test_a_message_delivered_twice_at_once_is_one_file_with_one_id(tmp_path: Path) -> None:
    t = FileTransport("email", tmp_path, sender="Mentorships <m@example.org>")
    message = outgoing("session_booked", "email", "session:1:booked:u:email")

    async def twice() -> list[str]:
        return list(await asyncio.gather(*(t.send(message) for _ in range(8))))

    ids = asyncio.run(twice())
    name = file_stem("session:1:booked:u:email") + ".eml"
    assert set(ids) == {f"file:{name}"}
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left either
    assert name.startswith("session-1-booked-u-email-")


def test_an_email_and_a_dm_read_back(tmp_path: Path) -> None:
    asyncio.run(
        FileTransport("email", tmp_path, sender="m@example.org").send(
            outgoing("session_canceled", "email", "k1")
        )
    )
    asyncio.run(
        FileTransport("discord", tmp_path, sender="m@example.org").send(
            outgoing("grace_warning", "discord", "k2")
        )
    )
    found = {d.channel: d for d in read_folder(tmp_path)}
    email = found["email"]
    assert email.to == "Ben Ito <ben@example.org>" and email.kind == "session_canceled"
    assert email.invite == "CANCEL" and email.at == QUEUED
    assert email.subject.startswith("Session canceled: ")
    raw = (tmp_path / (file_stem("k1") + ".eml")).read_text()
    assert "List-Unsubscribe: <https://example.org/u>" in raw
    assert 'text/calendar; method="CANCEL"' in raw or "text/calendar; method=CANCEL" in raw
    dm = found["discord"]
    assert dm.to == "Ben Ito (Discord 100000000000000001)"
    assert dm.subject.startswith("Last hours: your seat with")
