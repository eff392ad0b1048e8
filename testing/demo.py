"""What the demo's tests (tests/demo/) share: which rows are the demo's, counting them, the
files of the messages delivered, and one seed at scale 1 with a fixed random seed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg

from demo import play
from mentorships.settings import Settings
from sync.messaging.files import EXTENSIONS, FileTransport, file_stem
from sync.messaging.worker import Dispatcher
from testing import dispatch

DEMO = "(select id from public.profiles where email like '%%@demo.mentorships.test')"


def count(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def values(conn: psycopg.Connection, sql: str) -> set[str]:
    return {str(r[0]) for r in conn.execute(sql)}


def seed(settings: Settings) -> dict[str, int]:
    return play.run(settings, scale=1, random_seed=7, progress=lambda _: None)


def mail_files(folder: Path) -> set[str]:
    """The messages' files in a mail folder (not the transport's temporary ones)."""
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def mail_names(conn: psycopg.Connection, where: str) -> set[str]:
    """The file names the file transport gives the messages `where` says."""
    rows = conn.execute(
        f"select dedupe_key, channel::text from public.notifications where {where}"
    ).fetchall()
    return {file_stem(key) + EXTENSIONS[channel] for key, channel in rows}


def deliver_what_is_due(settings: Settings, folder: Path) -> None:
    """What the stack's dispatcher would have delivered by now (the test stack runs none), to
    files in `folder`: other tests' messages, which a seed would deliver otherwise (and tell the
    demo's admin about those that fail)."""
    ws = dispatch.worker_settings(settings, folder)

    async def drain() -> None:
        transports = {
            "email": FileTransport("email", folder, sender=ws.mail_from),
            "discord": FileTransport("discord", folder, sender=ws.mail_from),
        }
        async with Dispatcher(ws, transports, "tests-demo") as dispatcher:  # type: ignore[arg-type]
            await dispatcher.drain()

    asyncio.run(drain())
