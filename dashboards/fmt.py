"""How the dashboards write times and money: times in the reader's zone with the zone named,
money from integer minor units (never a float) with its currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

# Currencies without minor units (ISO 4217 exponent 0); every other has two.
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                          "ugx", "vnd", "vuv", "xaf", "xof", "xpf"})  # fmt: skip
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$", "chf": "CHF "}


def instant(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def when(value: str | dt.datetime | None, zone: str, *, named: bool = True) -> str:
    """ "Thu 3 Dec 2026, 17:00 CET (Europe/Berlin)"; "-" for none."""
    t = instant(value)
    if t is None:
        return "-"
    local = t.astimezone(ZoneInfo(zone))
    text = f"{local:%a} {local.day} {local:%b %Y, %H:%M}"
    return f"{text} {local:%Z} ({zone})" if named else text


def day(value: str | dt.datetime | None, zone: str) -> str:
    t = instant(value)
    if t is None:
        return "-"
    local = t.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y}"


def zone_note(zone: str) -> str:
    """What a table's time column says about its zone: "times in Europe/Berlin (CET)"."""
    abbreviation = dt.datetime.now(ZoneInfo(zone)).strftime("%Z")
    return f"times in {zone} ({abbreviation})"


def money(minor: int | None, currency: str | None) -> str:
    """ "€49.00", "¥5000", "12.50 SEK" from integer minor units; "-" for none."""
    if minor is None or not currency:
        return "-"
    code = currency.lower()
    places = 0 if code in ZERO_DECIMAL else 2
    amount = Decimal(int(minor)).scaleb(-places)
    text = f"{amount:,.{places}f}"
    sign = "-" if amount < 0 else ""
    text = text.lstrip("-")
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {code.upper()}"
