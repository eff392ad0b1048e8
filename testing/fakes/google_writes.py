"""Calendar v3 events.insert, get, patch, update and delete, faked (a part of
testing.fakes.google.GoogleFake: `google.writes`), on the same store as events.list
(testing/fakes/google_events.py), so a sync sees what the session events wrote.

    google.writes.live(account, calendar_id)          # {event id: event} of the live events
    google.writes.move(account, calendar_id, id, s, e) # the mentor drags it in Google
    google.events.delete(account, calendar_id, id)     # the mentor deletes it in Google
    google.writes.stall_next_insert(seconds)           # apply the next insert, answer late

Like Google: a client-chosen id is 5 to 1024 characters of base32hex (a-v, 0-9), else 400; an
insert of an id the calendar holds, even a cancelled (deleted) one, is 409 `duplicate`; patch
changes the fields sent (and can set status back to confirmed), update replaces the event; delete
of a cancelled event is 410 `deleted`, of an unknown one 404. Every write gets a new etag. Strict:
only the fields our worker sends, `start`/`end` as {dateTime, timeZone}, no query but `alt`.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from testing.fakes.google_events import EVENTS_PATH, Stored
from testing.fakes.http import Request
from testing.fakes.server import Answer

if TYPE_CHECKING:
    from testing.fakes.google import GoogleFake, Grant
    from testing.fakes.google_events import EventStore

EVENT_PATH = EVENTS_PATH + r"/([^/]+)"
WRITE_SCOPES = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.events",
}
EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
FIELDS = {
    "id",
    "summary",
    "description",
    "location",
    "start",
    "end",
    "status",
    "extendedProperties",
}
REQUIRED = {"summary", "start", "end", "extendedProperties"}


class EventWrites:
    def __init__(self, google: GoogleFake, store: EventStore) -> None:
        self.google = google
        self.store = store
        google.route("POST", EVENTS_PATH, WRITE_SCOPES, self._insert)
        google.route("GET", EVENT_PATH, WRITE_SCOPES, self._get)
        google.route("PATCH", EVENT_PATH, WRITE_SCOPES, self._patch)
        google.route("PUT", EVENT_PATH, WRITE_SCOPES, self._update)
        google.route("DELETE", EVENT_PATH, WRITE_SCOPES, self._delete)
        self.reset()

    def reset(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (method, event id) of every write, in order
        self._stall: list[float] = []
        self._etag = 0

    # --- what a test arranges and reads

    def stall_next_insert(self, seconds: float) -> None:
        """The next insert is applied, then answered only after `seconds` (past the client's
        timeout: Google has the event, the worker does not know)."""
        with self.google.lock:
            self._stall.append(seconds)

    def live(self, account: str, calendar_id: str) -> dict[str, dict[str, Any]]:
        with self.google.lock:
            cal = self.store.calendars.get((account, calendar_id))
            if cal is None:
                return {}
            return {
                i: copy.deepcopy(s.event)
                for i, s in cal.events.items()
                if not s.cancelled and s.event.get("status") != "cancelled"
            }

    def move(
        self, account: str, calendar_id: str, event_id: str, start: datetime, end: datetime
    ) -> None:
        """The mentor moves the event in Google."""
        with self.google.lock:
            stored = self.store.calendars[(account, calendar_id)].events[event_id]
            e = copy.deepcopy(stored.event)
            zone = e["start"].get("timeZone")
            e["start"] = {"dateTime": start.isoformat(), "timeZone": zone}
            e["end"] = {"dateTime": end.isoformat(), "timeZone": zone}
            e["etag"] = self._next_etag()
            self.store.put(account, calendar_id, e)

    # --- answering

    def _next_etag(self) -> str:
        self._etag += 1
        return f'"{3400000000000000 + self._etag}"'

    def _body(self, request: Request, verb: str, required: set[str]) -> dict[str, Any] | Answer:
        if set(request.query) - {"alt"}:
            return self.google.fail(f"events.{verb} with {request.query_string!r}")
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return self.google.fail(
                f"events.{verb}: Content-Type {request.headers.get('content-type')}"
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            return self.google.fail(f"events.{verb}: a body that is not JSON")
        if not isinstance(body, dict) or not set(body) <= FIELDS or not required <= set(body):
            return self.google.fail(f"events.{verb}: fields {sorted(body)}")
        for side in ("start", "end"):
            if side in body:
                value = body[side]
                if set(value) != {"dateTime", "timeZone"}:
                    return self.google.fail(f"events.{verb}: {side} {value}")
                datetime.fromisoformat(value["dateTime"])
        if body.get("status", "confirmed") not in ("confirmed", "tentative"):
            return self.google.fail(f"events.{verb}: status {body['status']!r}")
        return body

    def _stored(self, grant: Grant, match: re.Match[str]) -> tuple[Any, Stored | None] | Answer:
        from testing.fakes.google import api_error

        cal = self.store.calendars.get((grant.account, unquote(match[1])))
        if cal is None:
            return api_error(404, "notFound", "Not Found")
        return cal, cal.events.get(unquote(match[2]))

    def _save(self, grant: Grant, calendar_id: str, e: dict[str, Any], created: bool) -> Answer:
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        e["kind"] = "calendar#event"
        e["etag"] = self._next_etag()
        e.setdefault("status", "confirmed")
        e["updated"] = now
        if created:
            e["created"] = now
            e["iCalUID"] = f"{e['id']}@google.com"
            e["htmlLink"] = f"https://www.google.com/calendar/event?eid={e['id']}"
            e["sequence"] = 0
        self.store.put(grant.account, calendar_id, e)
        return Answer(200, copy.deepcopy(e))

    def _insert(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        from testing.fakes.google import api_error

        body = self._body(request, "insert", REQUIRED | {"id"})
        if isinstance(body, Answer):
            return body
        self.calls.append(("insert", str(body["id"])))
        if not EVENT_ID.fullmatch(str(body["id"])):
            return api_error(400, "invalid", "Invalid resource id value.")
        calendar_id = unquote(match[1])
        cal = self.store.calendars.get((grant.account, calendar_id))
        if cal is None:
            return api_error(404, "notFound", "Not Found")
        if body["id"] in cal.events:
            return api_error(409, "duplicate", "The requested identifier already exists.")
        answer = self._save(grant, calendar_id, body, created=True)
        if self._stall:
            answer.delay = self._stall.pop(0)
        return answer

    def _get(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        from testing.fakes.google import api_error

        found = self._stored(grant, match)
        if isinstance(found, Answer):
            return found
        if set(request.query) - {"alt"} or request.body:
            return self.google.fail(f"events.get with {request.query_string!r}")
        _, stored = found
        if stored is None:
            return api_error(404, "notFound", "Not Found")
        e = copy.deepcopy(stored.event)
        if stored.cancelled:
            e["status"] = "cancelled"
        return Answer(200, e)

    def _change(self, request: Request, match: re.Match[str], grant: Grant, verb: str) -> Answer:
        from testing.fakes.google import api_error

        body = self._body(request, verb, REQUIRED if verb == "update" else set())
        if isinstance(body, Answer):
            return body
        found = self._stored(grant, match)
        if isinstance(found, Answer):
            return found
        _, stored = found
        event_id = unquote(match[2])
        self.calls.append((verb, event_id))
        if body.get("id", event_id) != event_id:
            return self.google.fail(f"events.{verb}: id {body['id']} in the body of {event_id}")
        if stored is None:
            return api_error(404, "notFound", "Not Found")
        if verb == "update":
            keep = {k: stored.event[k] for k in ("created", "iCalUID", "htmlLink", "sequence")}
            e = {**keep, **body, "id": event_id}
        else:
            e = {**copy.deepcopy(stored.event), **body}
        if stored.cancelled and e.get("status", "cancelled") == "cancelled":
            e["status"] = "cancelled"  # still deleted unless the write says confirmed
        answer = self._save(grant, unquote(match[1]), e, created=False)
        if e["status"] == "cancelled":
            self.store.delete(grant.account, unquote(match[1]), event_id)
        return answer

    def _patch(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        return self._change(request, match, grant, "patch")

    def _update(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        return self._change(request, match, grant, "update")

    def _delete(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        from testing.fakes.google import api_error

        if set(request.query) - {"alt"} or request.body:
            return self.google.fail(f"events.delete with {request.query_string!r}")
        found = self._stored(grant, match)
        if isinstance(found, Answer):
            return found
        _, stored = found
        event_id = unquote(match[2])
        self.calls.append(("delete", event_id))
        if stored is None:
            return api_error(404, "notFound", "Not Found")
        if stored.cancelled:
            return api_error(410, "deleted", "Resource has been deleted")
        self.store.delete(grant.account, unquote(match[1]), event_id)
        stored.event["status"] = "cancelled"
        return Answer(204, b"")
