"""Push channels on the mentors' watched calendars (events.watch), opened, renewed and stopped by
the calendar sync (`python -m sync.gcal`) when MENTORSHIPS_GOOGLE_WEBHOOK_URL is set. What to open
or stop, and when, is SQL's (claim_calendar_channels, sql/rules/google/channels.sql); here only
Google is called and the outcome reported.

    Channels(settings, keys, rpc, worker).drain()     # the worker's loop, after each sync drain
    stop_with(calendar, channel_id, resource_id)      # channels.stop
    await stop_gone(settings, rest, mentor_id, token) # the services, before revoking a grant

The channel's id and token come from the claim (the token only there, only once); Google's
resourceId and expiration come back from the watch and are reported with calendar_channel_opened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from itertools import groupby
from typing import Any

import google.auth.exceptions
from googleapiclient.errors import HttpError

from sync.gcal.google import calendar_api, user_credentials
from sync.gcal.sealing import TokenKeys
from sync.gcal.settings import GcalSettings
from sync.rest import Rest
from sync.settings import ProviderSettings

log = logging.getLogger("sync.gcal")

Rpc = Callable[..., Any]


def watch(calendar: Any, claim: dict[str, Any], address: str) -> dict[str, Any]:
    """events.watch on the claimed calendar: Google's channel (id, resourceId, expiration)."""
    body = {
        "id": claim["channel_id"],
        "type": "web_hook",
        "address": address,
        "token": claim["token"],
        "params": {"ttl": str(claim["ttl_seconds"])},
    }
    answer: dict[str, Any] = (
        calendar.events().watch(calendarId=claim["calendar_id"], body=body).execute()
    )
    return answer


def stop_with(calendar: Any, channel_id: str, resource_id: str) -> None:
    """channels.stop; a 404 (Google no longer knows the channel) counts as stopped."""
    try:
        calendar.channels().stop(body={"id": channel_id, "resourceId": resource_id}).execute()
    except HttpError as e:
        if e.resp.status != 404:
            raise


def expiry(channel: dict[str, Any]) -> str:
    """The watch answer's expiration (milliseconds since the epoch, as a string) as ISO 8601."""
    return dt.datetime.fromtimestamp(int(channel["expiration"]) / 1000, dt.UTC).isoformat()


def failure(e: Exception, what: str) -> str:
    """What failed, never with which token."""
    if isinstance(e, HttpError):
        reason = e.reason if isinstance(e.reason, str) else ""
        return f"{what} answered {e.resp.status} {reason}".strip()[:2000]
    if isinstance(e, google.auth.exceptions.RefreshError):
        return f"{what}: refreshing the access token failed"
    return f"{what}: {type(e).__name__}"


class Channels:
    """One worker's channel work through the database API (`rpc(name, **args)`)."""

    def __init__(self, settings: GcalSettings, keys: TokenKeys, rpc: Rpc, worker: str) -> None:
        assert settings.google_webhook_url is not None
        self.settings = settings
        self.address = settings.google_webhook_url
        self.keys = keys
        self.rpc = rpc
        self.worker = worker
        self.opened = self.stopped = self.failed = 0

    def drain(self) -> int:
        """Claims and carries out channel work until none is left: how many done."""
        done = 0
        while True:
            claims: list[dict[str, Any]] = self.rpc(
                "claim_calendar_channels",
                worker=self.worker,
                max_channels=str(self.settings.gcal_batch_size),
                lease_seconds=str(self.settings.gcal_lease_seconds),
            )
            for _, group in groupby(claims, key=lambda c: c["mentor_id"]):
                done += self._mentor(list(group))
            if not claims:  # (an opened channel's predecessor is to stop at once: claimed next)
                return done

    def _mentor(self, claims: list[dict[str, Any]]) -> int:
        first = claims[0]
        try:
            token = self.keys.open(
                first["refresh_token_sealed"], first["key_version"], uuid.UUID(first["mentor_id"])
            )
            calendar = calendar_api(self.settings, user_credentials(self.settings, token))
        except Exception as e:  # a key missing (SealError): each claim fails with it
            for claim in claims:
                self._failed(claim, failure(e, "opening the grant"))
            return len(claims)
        for claim in claims:
            self._one(calendar, claim)
        return len(claims)

    def _one(self, calendar: Any, claim: dict[str, Any]) -> None:
        action = claim["action"]
        what = "events.watch" if action == "open" else "channels.stop"
        try:
            if action == "open":
                channel = watch(calendar, claim, self.address)
                self.rpc(
                    "calendar_channel_opened",
                    channel_id=claim["channel_id"],
                    worker=self.worker,
                    resource_id=channel["resourceId"],
                    expires_at=expiry(channel),
                )
                self.opened += 1
            else:
                stop_with(calendar, claim["channel_id"], claim["resource_id"])
                self.rpc(
                    "calendar_channel_stopped", channel_id=claim["channel_id"], worker=self.worker
                )
                self.stopped += 1
        except (HttpError, google.auth.exceptions.RefreshError, OSError) as e:
            self._failed(claim, failure(e, f"{what} of {claim['calendar_id']}"))

    def _failed(self, claim: dict[str, Any], error: str) -> None:
        log.warning(
            "calendar channel failed",
            extra={"channel_id": claim["channel_id"], "action": claim["action"], "error": error},
        )
        self.rpc(
            "calendar_channel_failed",
            channel_id=claim["channel_id"],
            worker=self.worker,
            error=error,
        )
        self.failed += 1


async def stop_gone(
    settings: ProviderSettings, rest: Rest, mentor_id: uuid.UUID, refresh_token: str
) -> None:
    """Before a removed or replaced grant is revoked (disconnect, reconnect): the channels opened
    with it stopped at Google with it (afterwards nothing could stop them). One that will not stop
    is reported with its error: it only runs out at its expiry, and google_push refuses it."""
    rows = await rest.rpc(
        "google_channels_to_stop", {"for_mentor_id": str(mentor_id)}, service=True
    )
    if not rows:
        return
    calendar = calendar_api(settings, user_credentials(settings, refresh_token))
    for row in rows:
        error = None
        try:
            await asyncio.to_thread(stop_with, calendar, row["channel_id"], row["resource_id"])
        except (HttpError, google.auth.exceptions.RefreshError, OSError) as e:
            error = failure(e, f"channels.stop of {row['calendar_id']}")
            log.warning(
                "calendar channel not stopped",
                extra={"channel_id": row["channel_id"], "error": error},
            )
        await rest.rpc(
            "google_channel_stopped",
            {"channel_id": row["channel_id"], "error": error},
            service=True,
        )
