"""Calendar v3 events.list, faked (a part of testing.fakes.google.GoogleFake: `google.events`).

    events = google.events
    events.put("m@x.test", "m@x.test", event("e1", start, end))       # add or change
    events.put(..., event("w", start, end, recurrence=weekly(4)))     # a recurring event
    events.delete("m@x.test", "m@x.test", "e1")                      # status cancelled
    events.expire_sync_tokens("m@x.test", "m@x.test")                 # the next use answers 410

Like Google: a full list (no syncToken) returns the live events overlapping timeMin..timeMax,
page by page (`page_size`), the last page with `nextSyncToken`; a list with syncToken returns
every event changed since that token (cancelled ones too, as `{id, status: cancelled}`), within
the window of the full list that began the chain, and a new token. syncToken together with
timeMin or timeMax is a 400, as Google answers it; an expired token is 410 (fullSyncRequired).
singleEvents=true expands a recurring event (RRULE FREQ=DAILY or WEEKLY with COUNT) into its
instances (`<id>_<start as YYYYMMDDTHHMMSSZ>`, recurringEventId, originalStartTime); without it
the recurring event itself is returned. A change to a recurring event changes every instance.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from testing.fakes.http import Request
from testing.fakes.server import Answer

if TYPE_CHECKING:
    from testing.fakes.google import GoogleFake, Grant

EVENTS_PATH = r"/calendar/v3/calendars/([^/]+)/events"
EVENTS_SCOPES = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.readonly",
}
LIST_PARAMS = {
    "alt",
    "singleEvents",
    "syncToken",
    "timeMin",
    "timeMax",
    "pageToken",
    "maxResults",
    "showDeleted",
}
RRULE = re.compile(r"RRULE:FREQ=(DAILY|WEEKLY);COUNT=(\d+)")


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event(
    event_id: str,
    start: datetime | date,
    end: datetime | date,
    *,
    summary: str = "Busy",
    transparency: str | None = None,
    self_response: str | None = None,
    recurrence: list[str] | None = None,
    time_zone: str = "Europe/Berlin",
) -> dict[str, Any]:
    """An event as Google stores it: dateTime for timed events (instants), date for all-day ones
    (end exclusive); `self_response` adds the mentor as an attendee with that responseStatus."""
    e: dict[str, Any] = {"kind": "calendar#event", "id": event_id, "status": "confirmed"}
    e["summary"] = summary
    for key, value in (("start", start), ("end", end)):
        if isinstance(value, datetime):
            e[key] = {"dateTime": value.isoformat(), "timeZone": time_zone}
        else:
            e[key] = {"date": value.isoformat()}
    if transparency is not None:
        e["transparency"] = transparency
    if self_response is not None:
        e["attendees"] = [
            {"email": "organizer@example.test", "organizer": True, "responseStatus": "accepted"},
            {"email": "mentor@example.test", "self": True, "responseStatus": self_response},
        ]
    if recurrence is not None:
        e["recurrence"] = recurrence
    return e


def weekly(count: int) -> list[str]:
    return [f"RRULE:FREQ=WEEKLY;COUNT={count}"]


def _span(e: dict[str, Any]) -> tuple[datetime, datetime]:
    """An event's instants, all-day ones read as UTC days (enough to filter by the window)."""

    def at(side: dict[str, str]) -> datetime:
        if "dateTime" in side:
            return datetime.fromisoformat(side["dateTime"]).astimezone(UTC)
        return datetime.combine(date.fromisoformat(side["date"]), datetime.min.time(), UTC)

    return at(e["start"]), at(e["end"])


def _instances(e: dict[str, Any]) -> list[dict[str, Any]]:
    """A recurring event's instances; any other event alone."""
    if "recurrence" not in e:
        return [e]
    match = RRULE.fullmatch(e["recurrence"][0])
    assert match, f"the fake expands only FREQ=DAILY|WEEKLY;COUNT=n, not {e['recurrence']}"
    step = timedelta(days=1 if match[1] == "DAILY" else 7)
    start, end = _span(e)
    out = []
    for i in range(int(match[2])):
        s, t = start + i * step, end + i * step
        instance = {k: v for k, v in e.items() if k != "recurrence"}
        instance["id"] = f"{e['id']}_{s.strftime('%Y%m%dT%H%M%SZ')}"
        instance["recurringEventId"] = e["id"]
        instance["originalStartTime"] = {"dateTime": _rfc3339(s)}
        instance["start"] = {"dateTime": _rfc3339(s), "timeZone": e["start"].get("timeZone")}
        instance["end"] = {"dateTime": _rfc3339(t), "timeZone": e["end"].get("timeZone")}
        out.append(instance)
    return out


@dataclass
class Stored:
    event: dict[str, Any]
    changed: int  # the calendar's change number when it last changed
    cancelled: bool = False


@dataclass
class Calendar:
    events: dict[str, Stored] = field(default_factory=dict)
    changes: int = 0
    expired_below: int = 0  # tokens issued before this change number answer 410


@dataclass
class Token:
    calendar: tuple[str, str]
    changes: int
    issued: int
    window: tuple[str | None, str | None]
    single: bool


class EventStore:
    def __init__(self, google: GoogleFake) -> None:
        self.google = google
        google.route("GET", EVENTS_PATH, EVENTS_SCOPES, self._list)
        self.reset()

    def reset(self) -> None:
        self.calendars: dict[tuple[str, str], Calendar] = {}
        self.tokens: dict[str, Token] = {}
        self.pages: dict[str, list[dict[str, Any]]] = {}
        self.page_size = 250
        self.lists: list[dict[str, str]] = []  # the query of every events.list, in order
        self._issued = 0

    # --- what a test arranges

    def _calendar(self, account: str, calendar_id: str) -> Calendar:
        return self.calendars.setdefault((account, calendar_id), Calendar())

    def add_calendar(self, account: str, calendar_id: str) -> None:
        """An empty calendar (events.list of a calendar never added is a 404)."""
        with self.google.lock:
            self._calendar(account, calendar_id)

    def put(self, account: str, calendar_id: str, e: dict[str, Any]) -> None:
        """Adds the event, or changes it (same id)."""
        with self.google.lock:
            cal = self._calendar(account, calendar_id)
            cal.changes += 1
            cal.events[e["id"]] = Stored(copy.deepcopy(e), cal.changes)

    def delete(self, account: str, calendar_id: str, event_id: str) -> None:
        with self.google.lock:
            cal = self._calendar(account, calendar_id)
            cal.changes += 1
            stored = cal.events[event_id]
            stored.cancelled, stored.changed = True, cal.changes

    def expire_sync_tokens(self, account: str, calendar_id: str) -> None:
        """Every sync token issued so far for the calendar answers 410 from now on."""
        with self.google.lock:
            self._calendar(account, calendar_id).expired_below = self._issued + 1

    # --- answering

    def _list(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        from testing.fakes.google import api_error

        query = request.query
        if not set(query) <= LIST_PARAMS or request.body:
            return self.google.fail(f"events.list with {request.query_string!r}")
        self.lists.append(dict(query))
        key = (grant.account, unquote(match[1]))
        if key not in self.calendars:
            return api_error(404, "notFound", "Not Found")
        cal = self.calendars[key]
        if "pageToken" in query:
            rest = self.pages.pop(query["pageToken"], None)
            if rest is None:
                return self.google.fail(f"events.list with an unknown pageToken {query}")
            return self._page(rest, self._size(query))
        single = query.get("singleEvents") == "true"
        token_text = query.get("syncToken")
        if token_text is not None:
            if "timeMin" in query or "timeMax" in query:
                return api_error(
                    400, "invalid", "Sync token cannot be used with timeMin or timeMax."
                )
            token = self.tokens.get(token_text)
            if token is None or token.calendar != key:
                return self.google.fail("events.list with a sync token never issued for it")
            if token.issued < cal.expired_below:
                return api_error(410, "fullSyncRequired", "Sync token is no longer valid.")
            if token.single != single:
                return self.google.fail("singleEvents differs from the list that began the chain")
            items = self._changed(cal, token.changes, token.window, single)
            window = token.window
        else:
            window = (query.get("timeMin"), query.get("timeMax"))
            items = [
                i
                for s in cal.events.values()
                if not s.cancelled
                for i in (_instances(s.event) if single else [s.event])
                if self._overlaps(i, window)
            ]
        self._issued += 1
        new_token = f"CP{secrets.token_urlsafe(12)}="
        self.tokens[new_token] = Token(key, cal.changes, self._issued, window, single)
        return self._page([*items, {"nextSyncToken": new_token}], self._size(query))

    def _size(self, query: dict[str, str]) -> int:
        """Google may answer fewer than maxResults: at most page_size here."""
        return min(int(query.get("maxResults") or 250), self.page_size)

    def _changed(
        self, cal: Calendar, since: int, window: tuple[str | None, str | None], single: bool
    ) -> list[dict[str, Any]]:
        items = []
        for s in cal.events.values():
            if s.changed <= since:
                continue
            for i in _instances(s.event) if single else [s.event]:
                if s.cancelled:
                    items.append({"kind": "calendar#event", "id": i["id"], "status": "cancelled"})
                elif self._overlaps(i, window):
                    items.append(i)
        return items

    @staticmethod
    def _overlaps(e: dict[str, Any], window: tuple[str | None, str | None]) -> bool:
        start, end = _span(e)
        lo, hi = (datetime.fromisoformat(w.replace("Z", "+00:00")) if w else None for w in window)
        return (lo is None or end > lo) and (hi is None or start < hi)

    def _page(self, items: list[dict[str, Any]], size: int) -> Answer:
        """One page of items; the last element of `items` is the nextSyncToken marker."""
        *events, marker = items
        page: dict[str, Any] = {"kind": "calendar#events", "items": events[:size]}
        if len(events) > size:
            token = secrets.token_urlsafe(16)
            self.pages[token] = [*events[size:], marker]
            page["nextPageToken"] = token
        else:
            page.update(marker)
        return Answer(200, page)
