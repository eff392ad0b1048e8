"""`mentorships logs`: the local stack's log files, each component's in the common JSON shape
(mentorships/log_lines.py), the last lines of all of them merged by time, then followed like
`tail -f` (a file truncated or replaced is read again from its start)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mentorships.log_lines import Entry, parse
from mentorships.settings import Settings
from mentorships.stack.common import paths
from mentorships.stack.dashboards import Dashboards
from mentorships.stack.gcal_worker import GcalWorker
from mentorships.stack.postgres import Postgres
from mentorships.stack.reports_worker import ReportsWorker
from mentorships.stack.worker import Worker

COMPONENTS = (
    "gateway",
    "postgrest",
    "postgres",
    "services",
    "dispatcher",
    "gcal-worker",
    "reports-worker",
    "dashboards",
)
BLOCK = 64 * 1024


def sources(settings: Settings) -> dict[str, list[Path]]:
    """Where each component of the stack writes (a component may have several files)."""
    p = paths(settings)
    return {
        "gateway": [p.nginx / "access.log", p.nginx / "error.log"],
        "postgrest": [p.postgrest_log],
        "postgres": [Postgres(settings).json_log, p.pglog],
        "services": [p.services_log],
        "dispatcher": [Worker(settings).log],
        "gcal-worker": [GcalWorker(settings).log],
        "reports-worker": [ReportsWorker(settings).log],
        "dashboards": [Dashboards(settings).log],
    }


def last_lines(path: Path, n: int) -> tuple[list[str], int]:
    """The last n lines of the file and its size (where following goes on from)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            data = b""
            pos = size
            while pos > 0 and data.count(b"\n") <= n:
                step = min(BLOCK, pos)
                pos -= step
                f.seek(pos)
                data = f.read(step) + data
    except OSError:
        return [], 0
    lines = data.decode(errors="replace").splitlines()
    if pos > 0:
        lines = lines[1:]  # the first is cut
    return lines[-n:] if n else [], size


@dataclass
class Followed:
    """One file being read: the component it belongs to, where the reading is, the last time
    seen (a line without one takes it), and an unfinished last line."""

    component: str
    path: Path
    offset: int = 0
    inode: int | None = None
    last_ts: str | None = None
    partial: str = ""
    fresh: list[str] = field(default_factory=list)

    def entries(self, lines: list[str]) -> list[Entry]:
        found = []
        for line in lines:
            entry = parse(self.component, line)
            if entry is None:
                continue
            if entry["ts"] is None:
                entry["ts"] = self.last_ts or _mtime(self.path)
            self.last_ts = entry["ts"]
            found.append(entry)
        return found

    def read_new(self) -> list[str]:
        """The complete lines written since the last read."""
        try:
            st = self.path.stat()
        except OSError:
            return []
        if st.st_ino != self.inode or st.st_size < self.offset:  # replaced or truncated
            self.inode, self.offset, self.partial = st.st_ino, 0, ""
        if st.st_size == self.offset:
            return []
        with self.path.open("rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        text = self.partial + data.decode(errors="replace")
        *lines, self.partial = text.split("\n")
        return lines


def _mtime(path: Path) -> str | None:
    import datetime as dt

    try:
        moment = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return None
    return moment.isoformat(timespec="milliseconds")


def _key(entry: Entry) -> str:
    return str(entry.get("ts") or "")


def open_files(settings: Settings, components: tuple[str, ...]) -> list[Followed]:
    found = sources(settings)
    return [Followed(c, p) for c in components for p in found[c]]


def tail(files: list[Followed], n: int) -> list[Entry]:
    """The last n entries of all the files, merged by time (a stable sort: a file's own order
    stays for equal times)."""
    merged: list[Entry] = []
    for f in files:
        lines, size = last_lines(f.path, n)
        try:
            f.inode = f.path.stat().st_ino
        except OSError:
            f.inode = None
        f.offset = size
        merged += f.entries(lines)
    merged.sort(key=_key)
    return merged[-n:] if n else []


def follow(
    files: list[Followed],
    poll_seconds: float = 0.5,
    should_stop: Callable[[], bool] = lambda: False,
) -> Iterator[Entry]:
    """New entries as they are written, each poll's merged by time; until should_stop()."""
    while not should_stop():
        batch: list[Entry] = []
        for f in files:
            batch += f.entries(f.read_new())
        batch.sort(key=_key)
        yield from batch
        if not batch:
            time.sleep(poll_seconds)
