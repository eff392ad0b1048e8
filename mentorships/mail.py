"""`mentorships mail`: what the outbox dispatcher's file transport delivered (local mode), read
back from the mail folder (sync.messaging.files.read_folder), in the reader's zone."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mentorships.errors import StackError
from sync.messaging.files import Delivered, read_folder

EMPTY_HINT = (
    "Messages get here when the outbox dispatcher delivers them without a provider key (local "
    "mode): `mentorships up` starts it, and every booking, cancel, purchase or reminder the rules "
    "queue arrives within a moment (`mentorships seed` makes plenty)."
)


def local_zone() -> str:
    """The machine's IANA zone: $TZ, else /etc/localtime's link, else /etc/timezone, else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError, IndexError):
        candidates.append(str(Path("/etc/localtime").resolve()).split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    for name in candidates:
        try:
            if name:
                ZoneInfo(name)
                return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or local_zone())
    except (ZoneInfoNotFoundError, ValueError):
        raise StackError(
            f"--tz: {name!r} is not a time zone; give an IANA name such as Europe/Berlin"
        ) from None


def _when(d: Delivered, zone: ZoneInfo) -> str:
    return d.at.astimezone(zone).strftime("%a %d %b %Y %H:%M")


def _messages(folder: Path, channel: str | None) -> list[Delivered]:
    return [d for d in read_folder(folder) if channel is None or d.channel == channel]


def listing(folder: Path, zone: ZoneInfo, channel: str | None, limit: int) -> str:
    found = _messages(folder, channel)
    if not found:
        what = f"no {channel} messages" if channel else "no messages"
        return f"{what} in {folder}.\n{EMPTY_HINT}"
    lines = [f"{len(found)} message(s) in {folder}, newest first (times in {zone.key}):"]
    for n, d in enumerate(found[:limit], 1):
        to = d.to if len(d.to) <= 40 else d.to[:39] + "\u2026"
        lines.append(f"{n:>4}  {_when(d, zone)}  {d.channel:<7}  {to:<40}  {d.subject}")
    if len(found) > limit:
        lines.append(f"      ... and {len(found) - limit} more (--limit)")
    lines.append("`mentorships mail --show N` prints one whole.")
    return "\n".join(lines)


def one_message(folder: Path, key: str, zone: ZoneInfo, channel: str | None) -> str:
    found = _messages(folder, channel)
    if key.isdigit() and 1 <= int(key) <= len(found):
        d = found[int(key) - 1]
    else:
        matches = [d for d in found if key in (d.path.name, d.key)]
        if not matches:
            raise StackError(
                f"--show {key}: no such message in {folder} (give its number in the list, 1 = "
                "newest, or its file name)"
            )
        d = matches[0]
    head = [
        f"file:    {d.path}",
        f"when:    {_when(d, zone)} {zone.key}",
        f"channel: {d.channel}",
        f"kind:    {d.kind}",
        f"to:      {d.to}",
    ]
    if d.channel == "email":
        head.append(f"subject: {d.subject}")
        head.append(f"invite:  {d.invite or 'none'}")
    head.append(f"links:   {len(d.links)}")
    head.extend(f"  {link}" for link in d.links)
    return "\n".join([*head, "", d.text.rstrip()])
