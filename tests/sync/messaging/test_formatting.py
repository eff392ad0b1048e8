"""How values read in messages (sync/messaging/formatting.py): wall times in the reader's zone on
each side of a DST change, money from integer minor units, Discord markdown escaping."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.messaging import formatting

BERLIN = ZoneInfo("Europe/Berlin")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        # the example
        (utc(2026, 12, 8, 8), BERLIN, "Tue 8 Dec 2026, 09:00 Europe/Berlin"),
        # Europe's summer time ends at 01:00 UTC on 25 Oct 2026: 08:00 UTC is 10:00 the day
        # before and 09:00 the day of
        (utc(2026, 10, 24, 8), BERLIN, "Sat 24 Oct 2026, 10:00 Europe/Berlin"),
        (utc(2026, 10, 25, 8), BERLIN, "Sun 25 Oct 2026, 09:00 Europe/Berlin"),
        # and begins at 01:00 UTC on 29 Mar 2026
        (utc(2026, 3, 28, 8), BERLIN, "Sat 28 Mar 2026, 09:00 Europe/Berlin"),
        (utc(2026, 3, 29, 8), BERLIN, "Sun 29 Mar 2026, 10:00 Europe/Berlin"),
        # the US: summer time ends 1 Nov 2026 (09:00 UTC), begins 8 Mar 2026 (10:00 UTC)
        (utc(2026, 10, 31, 17), LOS_ANGELES, "Sat 31 Oct 2026, 10:00 America/Los_Angeles"),
        (utc(2026, 11, 1, 17), LOS_ANGELES, "Sun 1 Nov 2026, 09:00 America/Los_Angeles"),
        (utc(2026, 3, 7, 17), LOS_ANGELES, "Sat 7 Mar 2026, 09:00 America/Los_Angeles"),
        (utc(2026, 3, 8, 17), LOS_ANGELES, "Sun 8 Mar 2026, 10:00 America/Los_Angeles"),
    ],
)
def test_an_instant_reads_as_the_wall_time_in_the_readers_zone(
    instant: datetime, zone: ZoneInfo, expected: str
) -> None:
    assert formatting.instant(instant, zone) == expected


def test_a_span_names_the_end_day_only_when_it_differs() -> None:
    assert (
        formatting.span(utc(2026, 12, 8, 8), utc(2026, 12, 8, 9), BERLIN)
        == "Tue 8 Dec 2026, 09:00\u201310:00 Europe/Berlin"
    )
    assert (
        formatting.span(utc(2026, 12, 8, 7, 30), utc(2026, 12, 8, 8, 30), LOS_ANGELES)
        == "Mon 7 Dec 2026, 23:30 \u2013 Tue 8 Dec 2026, 00:30 America/Los_Angeles"
    )


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [
        (24000, "eur", "240.00 EUR"),
        (5, "usd", "0.05 USD"),
        (123456789, "usd", "1,234,567.89 USD"),
        (1500, "jpy", "1,500 JPY"),
        (0, "JPY", "0 JPY"),
        (150000, "huf", "1,500.00 HUF"),
        (-1005, "usd", "-10.05 USD"),
    ],
)
def test_money_from_integer_minor_units(cents: int, currency: str, expected: str) -> None:
    assert formatting.amount(cents, currency) == expected


@pytest.mark.parametrize("value", [240.0, True, "240"])
def test_money_refuses_anything_but_an_integer(value: object) -> None:
    with pytest.raises(TypeError):
        formatting.amount(value, "usd")  # type: ignore[arg-type]


def test_markdown_escape() -> None:
    assert formatting.escape_markdown("a_b*c~d`e|f>g[h](i)#j@k\\l") == (
        r"a\_b\*c\~d\`e\|f\>g\[h\]\(i\)\#j\@k\\l"
    )
    assert formatting.escape_markdown("Tue 8 Dec 2026, 09:00 240.00 EUR") == (
        "Tue 8 Dec 2026, 09:00 240.00 EUR"
    )


def test_one_line() -> None:
    assert formatting.one_line("Ana\r\n  Ruiz\t!") == "Ana Ruiz !"
    assert formatting.one_line("abcdef", 4) == "abc\u2026"
    assert formatting.one_line("abcd", 4) == "abcd"


@given(st.text(max_size=200))
def test_unescape_markdown_undoes_escape_markdown(text: str) -> None:
    assert formatting.unescape_markdown(formatting.escape_markdown(text)) == text


def test_a_discord_line_reads_as_plain_text_in_the_mail_listing() -> None:
    line = formatting.escape_markdown("Session booked: 09:00 America/New_York (Zoë_*)")
    assert "\\_" in line
    assert formatting.unescape_markdown(line) == "Session booked: 09:00 America/New_York (Zoë_*)"
