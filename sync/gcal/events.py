"""Session events out: one claimed session's event written to (or removed from) the mentor's
Google Calendar (the worker, sync/gcal/worker.py, claims and reports; sql/rules/google/events.sql
decides the rest, including whether the session wants an event at all).

    result = apply_claim(settings, keys, claim)   # Applied(written) or Failed(error, invalid_grant)

The event id is the session id in base32hex (`event_id`), chosen by us, so a retried insert can
never create a second event: an insert answered 409 (the id exists: a crash between Google's
answer and our report, or an event the mentor deleted, which Google keeps as cancelled) becomes an
update of that id with status confirmed. A written event is patched (a reschedule); one in another
calendar (the mentor chose another) is deleted there first. A delete answered 404 or 410 is done.
The event carries the session's title, both names, the call page link, and in its private
extended properties the session id and our marker (`is_ours`: the busy sync skips them).
"""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
from googleapiclient.errors import HttpError

from sync.gcal.google import calendar_api, user_credentials
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings
from sync.messaging.templates import Links

log = logging.getLogger("sync.gcal")

MARKER_KEY = "mentorships"
MARKER = "session"
SESSION_KEY = "mentorships_session_id"


@dataclass(frozen=True)
class Applied:
    """Google has the event as claimed: `written` for calendar_job_done (None: no event)."""

    written: dict[str, Any] | None


@dataclass(frozen=True)
class Failed:
    error: str
    invalid_grant: bool = False


def event_id(session_id: uuid.UUID | str) -> str:
    """The session's event id: its 16 bytes in base32hex, lowercase, unpadded (26 characters,
    within Google's 5 to 1024 of a-v and 0-9); the same as private.google_event_id."""
    raw = uuid.UUID(str(session_id)).bytes
    return base64.b32hexencode(raw).decode().rstrip("=").lower()


def is_ours(event: dict[str, Any]) -> bool:
    """A session event we wrote (its private extended properties carry our marker)."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    return private.get(MARKER_KEY) == MARKER


def event_body(claim: dict[str, Any], call_page_url: str) -> dict[str, Any]:
    """The event as we write it (insert; patch and update send it without the id)."""
    link = Links(dashboard_url=call_page_url, services_url=call_page_url).call(claim["session_id"])
    student = claim.get("student_name") or "a student"
    description = (
        f"{claim['summary']}\n\nMentor: {claim['mentor_name']}\nStudent: {student}\n"
        f"Join the call: {link}\n\nBooked on Mentorships: reschedule or cancel it there."
    )
    zone = claim["time_zone"]
    return {
        "id": claim["event_id"],
        "summary": claim["summary"],
        "description": description,
        "location": link,
        "start": {"dateTime": claim["starts_at"], "timeZone": zone},
        "end": {"dateTime": claim["ends_at"], "timeZone": zone},
        "status": "confirmed",
        "extendedProperties": {
            "private": {MARKER_KEY: MARKER, SESSION_KEY: str(claim["session_id"])}
        },
    }


def _delete(events: Any, calendar_id: str, eid: str) -> None:
    """Deletes the event; gone already (404) or deleted before (410) is done."""
    try:
        events.delete(calendarId=calendar_id, eventId=eid).execute()
    except HttpError as e:
        if e.resp.status not in (404, 410):
            raise


def _write(events: Any, claim: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    calendar_id, eid = claim["calendar_id"], claim["event_id"]
    without_id = {k: v for k, v in body.items() if k != "id"}
    if claim.get("written_calendar_id") == calendar_id:
        try:  # a reschedule (or the same times again): patch what we wrote
            return events.patch(calendarId=calendar_id, eventId=eid, body=without_id).execute()  # type: ignore[no-any-return]
        except HttpError as e:
            if e.resp.status not in (404, 410):
                raise
    try:
        return events.insert(calendarId=calendar_id, body=body).execute()  # type: ignore[no-any-return]
    except HttpError as e:
        if e.resp.status != 409:
            raise
    log.info("event exists: updated", extra={"session_id": claim["session_id"]})
    return events.update(calendarId=calendar_id, eventId=eid, body=without_id).execute()  # type: ignore[no-any-return]


def apply_claim(settings: GcalSettings, keys: TokenKeys, claim: dict[str, Any]) -> Applied | Failed:
    """One claimed session (claim_calendar_jobs' row) applied at Google. Errors say what failed,
    never with which token."""
    step = "opening the grant"
    try:
        refresh_token = keys.open(
            claim["refresh_token_sealed"], claim["key_version"], uuid.UUID(claim["mentor_id"])
        )
        calendar = calendar_api(
            settings,
            user_credentials(settings, refresh_token),
            timeout=settings.gcal_http_timeout_seconds,
        )
        events = calendar.events()
        eid, calendar_id, old = (
            claim["event_id"],
            claim["calendar_id"],
            claim["written_calendar_id"],
        )
        if claim["action"] == "delete":
            for cal in dict.fromkeys(c for c in (old, calendar_id) if c):
                step = f"events.delete of {cal}"
                _delete(events, cal, eid)
            return Applied(None)
        if old and old != calendar_id:
            step = f"events.delete of {old}"
            _delete(events, old, eid)
        step = f"writing the event into {calendar_id}"
        answer = _write(events, claim, event_body(claim, settings.call_page_url))
        return Applied(
            {
                "calendar_id": calendar_id,
                "event_id": eid,
                "starts_at": claim["starts_at"],
                "ends_at": claim["ends_at"],
                "etag": answer.get("etag"),
            }
        )
    except google.auth.exceptions.RefreshError as e:
        data = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], dict) else {}
        error = str(data.get("error") or "")
        if error == "invalid_grant":
            return Failed(
                "Google refused the grant (invalid_grant): the mentor must reconnect", True
            )
        return Failed(f"refreshing the access token failed ({error or type(e).__name__})")
    except HttpError as e:
        reason = e.reason if isinstance(e.reason, str) else ""
        return Failed(f"{step} answered {e.resp.status} {reason}".strip())
    except Exception as e:  # the network (a timeout), a key missing (SealError), an odd answer
        log.warning("session event failed", extra={"session_id": claim["session_id"], "step": step})
        return Failed(f"{step}: {type(e).__name__}: {e}"[:2000])
