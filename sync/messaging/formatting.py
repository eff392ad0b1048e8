"""How values read in a message: instants in the reader's zone with the zone named, money from
integer minor units, Discord markdown escaped. Independent of the process locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sync import money

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(local: datetime) -> str:
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


def instant(value: datetime, zone: ZoneInfo) -> str:
    """2026-12-08T08:00Z in Europe/Berlin: "Tue 8 Dec 2026, 09:00 Europe/Berlin" (the wall time
    of that instant there, summer or winter time as it falls)."""
    local = value.astimezone(zone)
    return f"{_day(local)}, {local:%H:%M} {zone.key}"


def span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """A session: "Tue 8 Dec 2026, 09:00-10:00 Europe/Berlin" (with an en dash), the end's day
    too when it ends on another local day."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    if first.date() == last.date():
        return f"{_day(first)}, {first:%H:%M}\u2013{last:%H:%M} {zone.key}"
    return f"{_day(first)}, {first:%H:%M} \u2013 {_day(last)}, {last:%H:%M} {zone.key}"


def utc_stamp(value: datetime) -> str:
    """For admins: "2026-12-08 08:00 UTC"."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def amount(cents: int, currency: str) -> str:
    """Integer minor units to "240.00 EUR" or "1500 JPY" (sync.money's decimals; never a float)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"an amount is an integer of minor units, got {cents!r}")
    sign = "-" if cents < 0 else ""
    places = money.decimals(currency)
    scale: int = 10**places
    units, fraction = divmod(abs(cents), scale)
    number = f"{units:,}" if places == 0 else f"{units:,}.{fraction:0{places}d}"
    return f"{sign}{number} {currency.upper()}"


# Discord's markdown (and CommonMark) reads a backslash before any ASCII punctuation as that
# character itself; escaping what can start emphasis, code, a spoiler, a mention, a masked link,
# a heading or a quote keeps user text literal ("@everyone" included). Our templates put user
# text mid-line, so list markers and ordered-list dots need no escape.
_MARKDOWN = re.compile(r"([\\*_~`|<>\[\]()#@])")


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


_ESCAPED = re.compile(r"\\([\\*_~`|<>\[\]()#@])")


def unescape_markdown(text: str) -> str:
    """escape_markdown undone (a Discord message's line shown as plain text)."""
    return _ESCAPED.sub(r"\1", text)


def one_line(text: str, limit: int | None = None) -> str:
    """User text in a message: whitespace (newlines too) collapsed, so a name cannot forge lines;
    cut to ``limit`` characters with an ellipsis when given."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        return flat[: limit - 1] + "\u2026"
    return flat
