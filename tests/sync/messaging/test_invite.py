"""Every invite the renderer attaches parses back with icalendar and says what a calendar needs:
METHOD, the session's fixed UID, a SEQUENCE that rises with each change, times in UTC, and the
reader's wall time and zone in the description."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar, Event

from sync.messaging.context import CHANNELS, MessageError
from sync.messaging.templates import KINDS, render
from testing.messages import ALL_KINDS, SCENARIOS, SESSION, context

INVITES = {
    "session_booked": "REQUEST",
    "session_rescheduled": "REQUEST",
    "session_canceled": "CANCEL",
}


def parse(ics: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(ics)
    assert isinstance(calendar, Calendar)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Event)
    return calendar, event


def test_only_session_changes_carry_an_invite_and_only_by_email() -> None:
    for kind in ALL_KINDS:
        for channel in CHANNELS:
            rendered = render(context(kind, channel))
            expected = INVITES.get(kind) if channel == "email" else None
            assert rendered.ics_method == expected, (kind, channel)
            assert (rendered.ics is not None) == (expected is not None), (kind, channel)
    assert {kind for kind, template in KINDS.items() if template.invite} == set(INVITES)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(("kind", "method"), INVITES.items())
def test_every_invite_parses_back(kind: str, method: str, scenario: str) -> None:
    zone, starts_at, ends_at, _ = SCENARIOS[scenario]
    rendered = render(context(kind, "email", scenario, reschedule_count=2))
    assert rendered.ics is not None
    calendar, event = parse(rendered.ics)
    assert str(calendar["METHOD"]) == method
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == f"session-{SESSION}@mentorships"
    # a booking or a move: the session's reschedule count; a cancel: one more
    assert int(str(event["SEQUENCE"])) == (3 if method == "CANCEL" else 2)
    assert str(event["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime.fromisoformat(starts_at) and start.utcoffset() == timedelta(0)
    assert end == datetime.fromisoformat(ends_at) and end.utcoffset() == timedelta(0)
    raw = rendered.ics.decode()
    assert "DTSTART:" in raw and raw.count("Z\r\n") >= 3  # UTC form, no TZID
    assert "TZID" not in raw
    description = str(event["DESCRIPTION"])
    assert zone in description
    assert f"/video/{SESSION}" in description
    assert str(event["ORGANIZER"]) == "mailto:sessions@example.org"
    assert str(event["ATTENDEE"]) == "mailto:ben@example.org"


def test_the_description_names_the_readers_wall_time_across_dst() -> None:
    rendered = render(context("session_booked", "email", "Europe/Berlin across DST"))
    assert rendered.ics is not None
    _, event = parse(rendered.ics)
    assert "Sun 25 Oct 2026, 09:00\u201310:00 Europe/Berlin" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == datetime(2026, 10, 25, 8, tzinfo=UTC)


def test_sequence_rises_with_each_change() -> None:
    sequences = []
    for kind, count in [
        ("session_booked", 0),
        ("session_rescheduled", 1),
        ("session_rescheduled", 2),
        ("session_canceled", 2),
    ]:
        ics = render(context(kind, "email", reschedule_count=count)).ics
        assert ics is not None
        sequences.append(int(str(parse(ics)[1]["SEQUENCE"])))
    assert sequences == [0, 1, 2, 3]


def test_rendering_again_gives_the_same_bytes() -> None:
    first = render(context("session_rescheduled", "email")).ics
    assert first is not None and first == render(context("session_rescheduled", "email")).ics


def test_user_text_in_an_invite_is_escaped_for_icalendar() -> None:
    name = 'Ana; "Ruiz", <x>\nBEGIN:VEVENT'
    rendered = render(
        context("session_booked", "email", other_party_name=name, recipient_name=name)
    )
    assert rendered.ics is not None
    _, event = parse(rendered.ics)
    assert str(event["SUMMARY"]) == 'Mentorship session with Ana; "Ruiz", <x> BEGIN:VEVENT'
    lines = rendered.ics.decode().split("\r\n")
    assert sum(line.startswith("BEGIN:VEVENT") for line in lines) == 1


def test_an_invite_needs_both_addresses() -> None:
    with pytest.raises(MessageError, match="session_booked message needs recipient_email"):
        render(context("session_booked", "email", recipient_email=None))
    overrides: dict[str, Any] = {"organizer_email": None}
    with pytest.raises(MessageError, match="needs organizer_email"):
        render(context("session_canceled", "email", **overrides))
