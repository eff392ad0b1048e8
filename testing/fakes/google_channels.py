"""Calendar v3 push, faked (a part of testing.fakes.google.GoogleFake: `google.channels`):
events.watch and channels.stop, strict, and the notifications Google would send.

    channels = google.channels
    channels.now = dt.datetime(2027, 1, 4, 6, tzinfo=dt.UTC)   # expirations from this clock
    channels.live("m@x.test", "m@x.test")                       # the calendar's open channels
    channels.notify(channel_id, "sync")                         # POST it to the channel's address
    channels.changed("m@x.test", "m@x.test")                    # `exists` on every live channel

events.watch wants exactly {id (a UUID, new), type: web_hook, address (https, or http on a
loopback host), token, params: {ttl: seconds}} on a calendar of the caller's account, and answers
an api#channel with a resourceId stable per calendar and `expiration` (ms since the epoch) =
`now` + ttl, at most MAX_TTL. channels.stop wants exactly {id, resourceId} of a live channel of
the caller's account (404 otherwise) and answers 204. A notification carries the headers Google
sends (X-Goog-Channel-ID, -Token, -Expiration, X-Goog-Resource-ID, -URI, -State,
X-Goog-Message-Number) and an empty body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import httpx

from testing.fakes.google_events import EVENTS_SCOPES
from testing.fakes.http import Request
from testing.fakes.server import Answer

if TYPE_CHECKING:
    from testing.fakes.google import GoogleFake, Grant

WATCH_PATH = r"/calendar/v3/calendars/([^/]+)/events/watch"
STOP_PATH = "/calendar/v3/channels/stop"
MAX_TTL = dt.timedelta(days=30)
LOOPBACK = ("127.0.0.1", "localhost")


@dataclass
class Channel:
    id: str
    account: str
    calendar_id: str
    resource_id: str
    token: str
    address: str
    expires_at: dt.datetime
    stopped: bool = False
    messages: int = 0


class ChannelStore:
    def __init__(self, google: GoogleFake) -> None:
        self.google = google
        google.route("POST", WATCH_PATH, EVENTS_SCOPES, self._watch)
        google.route("POST", STOP_PATH, EVENTS_SCOPES, self._stop)
        self.reset()

    def reset(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.now: dt.datetime | None = None  # None: the real time
        self.stops: list[str] = []  # channel ids stopped, in order

    def _now(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)

    # --- what a test reads and does

    def live(self, account: str, calendar_id: str) -> list[Channel]:
        with self.google.lock:
            return [
                c
                for c in self.channels.values()
                if c.account == account
                and c.calendar_id == calendar_id
                and not c.stopped
                and c.expires_at > self._now()
            ]

    def notify(
        self,
        channel_id: str,
        state: str = "exists",
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POSTs a notification of the channel to its address, as Google does (`token` and
        `headers` replace what Google would send, for the refusals)."""
        with self.google.lock:
            c = self.channels[channel_id]
            c.messages += 1
            sent = {
                "X-Goog-Channel-ID": c.id,
                "X-Goog-Channel-Token": c.token if token is None else token,
                "X-Goog-Channel-Expiration": format_datetime(c.expires_at, usegmt=True),
                "X-Goog-Resource-ID": c.resource_id,
                "X-Goog-Resource-URI": _resource_uri(c.calendar_id),
                "X-Goog-Resource-State": state,
                "X-Goog-Message-Number": str(c.messages),
            } | (headers or {})
            address = c.address
        return httpx.post(address, headers=sent, content=b"", timeout=10)

    def changed(self, account: str, calendar_id: str) -> list[httpx.Response]:
        """The calendar changed: `exists` to each of its live channels."""
        return [self.notify(c.id) for c in self.live(account, calendar_id)]

    # --- answering

    def _watch(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        from testing.fakes.google import api_error

        calendar_id = unquote(match[1])
        problem = _json_problem(request, {"alt"})
        body = {} if problem else json.loads(request.body)
        if not problem:
            problem = _watch_problem(body, self.channels)
        if problem:
            return self.google.fail(f"events.watch: {problem}")
        if (grant.account, calendar_id) not in self.google.events.calendars:
            return api_error(404, "notFound", "Not Found")
        ttl = dt.timedelta(seconds=int(body["params"]["ttl"]))
        channel = Channel(
            body["id"],
            grant.account,
            calendar_id,
            _resource_id(grant.account, calendar_id),
            body["token"],
            body["address"],
            (self._now() + min(ttl, MAX_TTL)).replace(microsecond=0),
        )
        self.channels[channel.id] = channel
        return Answer(
            200,
            {
                "kind": "api#channel",
                "id": channel.id,
                "resourceId": channel.resource_id,
                "resourceUri": _resource_uri(calendar_id),
                "token": channel.token,
                "expiration": str(int(channel.expires_at.timestamp() * 1000)),
            },
        )

    def _stop(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        from testing.fakes.google import api_error

        problem = _json_problem(request, {"alt"})
        body = {} if problem else json.loads(request.body)
        if not problem and (not isinstance(body, dict) or set(body) != {"id", "resourceId"}):
            problem = f"a body with {sorted(body) if isinstance(body, dict) else body!r}"
        if problem:
            return self.google.fail(f"channels.stop: {problem}")
        c = self.channels.get(body["id"])
        if c is None or c.stopped or c.account != grant.account:
            return api_error(404, "notFound", f"Channel '{body['id']}' not found for project")
        if c.resource_id != body["resourceId"]:
            return self.google.fail("channels.stop: a resourceId that is not the channel's")
        c.stopped = True
        self.stops.append(c.id)
        return Answer(204, b"")


def _resource_id(account: str, calendar_id: str) -> str:
    return hashlib.sha256(f"{account}/{calendar_id}".encode()).hexdigest()[:27]


def _resource_uri(calendar_id: str) -> str:
    return (
        f"https://www.googleapis.com/calendar/v3/calendars/{quote(calendar_id, safe='')}"
        "/events?alt=json"
    )


def _json_problem(request: Request, query: set[str]) -> str | None:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return f"Content-Type {request.headers.get('content-type')!r}"
    if not set(request.query) <= query:
        return f"a query string {request.query_string!r}"
    try:
        json.loads(request.body)
    except ValueError:
        return "a body that is not JSON"
    return None


def _watch_problem(body: object, channels: dict[str, Channel]) -> str | None:
    if not isinstance(body, dict) or set(body) != {"id", "type", "address", "token", "params"}:
        return f"a body with {sorted(body) if isinstance(body, dict) else body!r}"
    try:
        uuid.UUID(str(body["id"]))
    except ValueError:
        return "an id that is not a UUID"
    if body["id"] in channels:
        return "a channel id used before (Google: channelIdNotUnique)"
    if body["type"] != "web_hook":
        return f"type {body['type']!r}"
    address = urlsplit(str(body["address"]))
    if not (
        address.scheme == "https" or (address.scheme == "http" and address.hostname in LOOPBACK)
    ):
        return "an address that is not https"
    if not isinstance(body["token"], str) or not 0 < len(body["token"]) <= 256:
        return "a token that is not 1 to 256 characters"
    params = body["params"]
    if not isinstance(params, dict) or set(params) != {"ttl"} or not str(params["ttl"]).isdigit():
        return f"params {params!r}"
    return None
