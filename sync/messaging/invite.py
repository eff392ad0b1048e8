"""The iCalendar invite a session email carries (RFC 5545/5546, written by the icalendar
package), so the session, its move and its cancellation land in any calendar (Apple, Outlook,
Google) without a Google account.

- UID ``session-<session_id>@mentorships``: one per session, so a move or a cancel updates the
  event the booking created;
- SEQUENCE: the session's reschedule_count for a booking or a move (0, 1, 2, ...), one more for
  the cancel, so each later message supersedes the earlier ones;
- METHOD:REQUEST (booked, rescheduled; STATUS:CONFIRMED) or METHOD:CANCEL (STATUS:CANCELLED);
- DTSTART/DTEND in UTC; the reader's wall time and zone in DESCRIPTION;
- DTSTAMP: when the message was queued, so a message rendered again is byte for byte the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//Mentorships//Session invites//EN"


def uid(session_id: str) -> str:
    return f"session-{session_id}@mentorships"


@dataclass(frozen=True, kw_only=True)
class Invite:
    method: Method
    session_id: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    summary: str
    description: str
    url: str
    organizer_email: str
    organizer_name: str
    attendee_email: str
    attendee_name: str

    def to_ical(self) -> bytes:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("method", self.method)
        event = Event()
        event.add("uid", uid(self.session_id))
        event.add("sequence", self.sequence)
        event.add("dtstamp", self.stamp.astimezone(UTC))
        event.add("dtstart", self.starts_at.astimezone(UTC))
        event.add("dtend", self.ends_at.astimezone(UTC))
        event.add("summary", self.summary)
        event.add("description", self.description)
        event.add("url", self.url)
        event.add("status", "CANCELLED" if self.method == "CANCEL" else "CONFIRMED")
        event.add("transp", "OPAQUE")
        organizer = vCalAddress(f"mailto:{self.organizer_email}")
        organizer.params["cn"] = vText(self.organizer_name)
        event.add("organizer", organizer)
        attendee = vCalAddress(f"mailto:{self.attendee_email}")
        attendee.params["cn"] = vText(self.attendee_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee)
        cal.add_component(event)
        ical: bytes = cal.to_ical()
        return ical
