"""Busy times from Google Calendar: one claimed mentor's sync (the worker, sync/gcal/worker.py,
claims and reports; sql/rules/google/busy.sql decides the rest).

    result = sync_mentor(settings, keys, claim)   # Synced(calendars) or Failed(error, invalid_grant)

Per busy calendar the claim names, events.list with singleEvents=true (recurring events come as
their instances, each with its own id): incrementally from the calendar's syncToken, or in full
over the claim's window (timeMin..timeMax) when it has none; a 410 (the token expired) drops the
token and lists in full. Every page is read (nextPageToken); the last one carries the new
nextSyncToken. What is busy (busy_span): a confirmed event that is not transparent ("free") and
that the mentor did not decline; an all-day event (start.date) is busy from midnight to midnight
in the calendar's time zone; a cancelled one is not (it is only removed).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import google.auth.exceptions
from googleapiclient.errors import HttpError

from sync.gcal.events import is_ours
from sync.gcal.google import calendar_api, user_credentials
from sync.gcal.sealing import TokenKeys
from sync.settings import ProviderSettings

log = logging.getLogger("sync.gcal")

PAGE_SIZE = 250


@dataclass(frozen=True)
class Synced:
    """Every busy calendar listed: the argument `calendars` of calendar_synced."""

    calendars: list[dict[str, Any]]


@dataclass(frozen=True)
class Failed:
    """What calendar_sync_failed is told; invalid_grant: Google will not take the grant again."""

    error: str
    invalid_grant: bool = False


def busy_span(event: dict[str, Any], zone: str) -> tuple[datetime, datetime] | None:
    """The instants an event makes the mentor busy, or None when it does not. Our own session
    events are not busy: the session itself blocks its time (and a group session has seats)."""
    if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
        return None
    if is_ours(event):
        return None
    for attendee in event.get("attendees", []):
        if attendee.get("self") and attendee.get("responseStatus") == "declined":
            return None
    start, end = event.get("start", {}), event.get("end", {})
    if "dateTime" in start and "dateTime" in end:
        return datetime.fromisoformat(start["dateTime"]), datetime.fromisoformat(end["dateTime"])
    if "date" in start and "date" in end:
        tz = ZoneInfo(zone)
        return (
            datetime.combine(datetime.fromisoformat(start["date"]).date(), time(), tz),
            datetime.combine(datetime.fromisoformat(end["date"]).date(), time(), tz),
        )
    return None


def _list(calendar: Any, cal: dict[str, Any], token: str | None) -> tuple[list[Any], str]:
    """Every page of one events.list: the items and the nextSyncToken."""
    events = calendar.events()
    if token is not None:
        request = events.list(
            calendarId=cal["calendar_id"], singleEvents=True, syncToken=token, maxResults=PAGE_SIZE
        )
    else:
        request = events.list(
            calendarId=cal["calendar_id"],
            singleEvents=True,
            timeMin=cal["time_min"],
            timeMax=cal["time_max"],
            maxResults=PAGE_SIZE,
        )
    items: list[Any] = []
    while True:
        page = request.execute()
        items += page.get("items", [])
        following = events.list_next(request, page)
        if following is None:
            return items, page["nextSyncToken"]
        request = following


def list_calendar(calendar: Any, cal: dict[str, Any]) -> dict[str, Any]:
    """One busy calendar's part of calendar_synced."""
    token = cal.get("sync_token")
    if token is not None:
        try:
            items, new_token = _list(calendar, cal, token)
        except HttpError as e:
            if e.resp.status != 410:
                raise
            log.info("sync token expired: full list", extra={"calendar_id": cal["calendar_id"]})
            token = None
    if token is None:
        items, new_token = _list(calendar, cal, None)
    intervals = []
    for event in items if cal.get("busy", True) else []:
        span = busy_span(event, cal["time_zone"])
        if span is not None:
            intervals.append(
                {
                    "event_id": event["id"],
                    "starts_at": span[0].isoformat(),
                    "ends_at": span[1].isoformat(),
                }
            )
    return {
        "calendar_id": cal["calendar_id"],
        "sync_token": new_token,
        "full": token is None,
        "time_min": cal["time_min"],
        "time_max": cal["time_max"],
        "changed_event_ids": [event["id"] for event in items],
        "intervals": intervals,
        # Our session events as Google has them (sql/rules/google/changes.sql compares them
        # with what we last wrote: a deletion or a move made in Google).
        "ours": [
            {
                "event_id": event["id"],
                "starts_at": event["start"]["dateTime"],
                "ends_at": event["end"]["dateTime"],
            }
            for event in items
            if is_ours(event)
            and event.get("status") != "cancelled"
            and "dateTime" in event.get("start", {})
        ],
        "cancelled_event_ids": [e["id"] for e in items if e.get("status") == "cancelled"],
    }


def _http_error(e: HttpError, calendar_id: str) -> str:
    reason = e.reason if isinstance(e.reason, str) else ""
    return f"events.list of {calendar_id} answered {e.resp.status} {reason}".strip()


def sync_mentor(
    settings: ProviderSettings, keys: TokenKeys, claim: dict[str, Any]
) -> Synced | Failed:
    """Lists every busy calendar of one claimed mentor (claim_calendar_syncs' row). Errors say
    what failed, never with which token."""
    mentor_id = claim["mentor_id"]
    calendar_id = "?"
    try:
        refresh_token = keys.open(
            claim["refresh_token_sealed"], claim["key_version"], uuid.UUID(mentor_id)
        )
        calendar = calendar_api(settings, user_credentials(settings, refresh_token))
        done = []
        for cal in claim["calendars"]:
            calendar_id = cal["calendar_id"]
            done.append(list_calendar(calendar, cal))
        return Synced(done)
    except google.auth.exceptions.RefreshError as e:
        data = e.args[1] if len(e.args) > 1 and isinstance(e.args[1], dict) else {}
        error = str(data.get("error") or "")
        if error == "invalid_grant":
            return Failed(
                "Google refused the grant (invalid_grant): the mentor must reconnect", True
            )
        return Failed(f"refreshing the access token failed ({error or type(e).__name__})")
    except HttpError as e:
        return Failed(_http_error(e, calendar_id))
    except Exception as e:  # the network, a key missing (SealError), an unexpected answer
        log.exception("calendar sync failed", extra={"mentor_id": mentor_id})
        return Failed(f"{type(e).__name__}: {e}"[:2000])
