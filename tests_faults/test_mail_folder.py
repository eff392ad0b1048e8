"""A full disk under the mail folder (local mode: the dispatcher writes each message as a file,
sync/messaging/files.py): the folder is a tmpfs (16 MB) filled up by a file while the load
books, so every write fails (ENOSPC) and is retried; once the space is back every message sent
since is there exactly once (one file per dedupe key), none failed, none half written."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sync.messaging.files import EXTENSIONS, file_stem
from testing.faults import checks, record
from testing.faults.load import Load
from testing.faults.stack import Faults, FileWorker
from testing.faults.world import LoadWorld

FULL_SECONDS = 10.0
# Retries soon, none giving up in the 10 s (8 attempts span at least 19.5 s; see test_providers)
FAST_RETRIES = """update public.platform_settings set message_retry_base_seconds = 1,
                   message_retry_max_seconds = 8"""


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "16m") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def fill(folder: Path) -> Path:
    """A hidden file taking every byte left (the file transport's readers skip dot files)."""
    filler = folder / ".filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_mail_folder_then_space(
    faults: Faults, world: LoadWorld, load: Load, conn: psycopg.Connection
) -> None:
    stack = faults.stack
    conn.execute(FAST_RETRIES)
    folder = stack.worker.p.state / "mail-full"
    with small_tmpfs(folder):
        stack.worker.stop()
        files = FileWorker(faults.settings, folder)
        try:
            files.start()
            since = checks.last_message_id(conn)
            filler = fill(folder)
            win, took, t0, t1 = record.under_load(
                load, lambda: None, after=FULL_SECONDS - record.WARMUP_SECONDS
            )
            failing = conn.execute(
                "select count(*) from public.notifications where id > %s and attempts > 0"
                " and status = 'pending'",
                (since,),
            ).fetchone()
            filler.unlink()  # the space is back
            back = time.time()
            settled = checks.settle(conn, timeout=120)
        finally:
            files.stop()
            stack.worker.start()
        rows = conn.execute(
            "select channel::text, dedupe_key, status::text from public.notifications"
            " where id > %s and status in ('sent', 'failed')",
            (since,),
        ).fetchall()
        names = sorted(p.name for p in folder.iterdir())
    r = record.record(
        "mail folder full",
        win,
        took,
        settled,
        load,
        conn,
        t0,
        t1,
        failing_when_space_came_back=failing[0] if failing else None,
        delivered_after_back_seconds=round(time.time() - back, 1),
    )
    want = sorted(file_stem(k) + EXTENSIONS[c] for c, k, s in rows if s == "sent")
    assert [s for _, _, s in rows if s == "failed"] == []
    assert failing and failing[0] > 0, "no message failed while the disk was full"
    assert r.retried["messages_retried"] > 0, r
    assert [n for n in names if n.startswith(".")] == [], "half-written files left"
    assert [n for n in names if not n.startswith(".")] == want
    assert win.failed == {}
    assert checks.invariants_hold(conn) == {}
