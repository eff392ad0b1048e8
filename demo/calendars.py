"""The demo's Google Calendars, in local Google mode (mentorships/stack/google_local.py): four
mentors connect theirs two days before the history ends, through the real flow (the services'
/oauth/google/start with the mentor's JWT, the local Google's consent page, the services'
callback with the code it issued), each with busy events in the week that follows: a recurring
class, an all-day conference, ordinary appointments and a "free" (transparent) one that must not
block. From then on the real calendar sync (sync/gcal/worker.py's Syncer) runs at every hour of
the history, at the frozen clock, so the mentors stay fresh (slots open) and their busy times
close slots; the storylines book around them, and the same worker writes each session booked,
moved or canceled into the mentor's calendar (check: Google holds exactly the sessions). An hour before the end the fourth mentor removes
the app's access at Google: the next sync meets invalid_grant, the grant is marked revoked, their
slots close and `calendar_disconnected` goes to them. The stack's own calendar sync is stopped while
the history plays (it would claim at the frozen clock too), as the dispatcher is."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg

from demo.cast import DAY, Cast, Mentor
from demo.stage import Stage
from mentorships import jwt as jwt_
from mentorships.settings import Settings
from mentorships.stack import GcalWorker, LocalGoogle
from sync.gcal import events
from sync.gcal.worker import Syncer
from testing.fakes.google_events import event, weekly
from testing.fakes.google_local import LocalGoogleAdmin

CONNECTED = 4  # the first four mentors; the last of them is revoked at the end
CONNECT_BEFORE_END = 2 * DAY
REVOKE_BEFORE_END = dt.timedelta(hours=1)


@dataclass
class Calendars:
    settings: Settings
    stage: Stage
    google: LocalGoogle
    connected: list[Mentor] = field(default_factory=list)
    connected_at: dict[Mentor, dt.datetime] = field(default_factory=dict)
    revoked: Mentor | None = None

    def __post_init__(self) -> None:
        self.admin = LocalGoogleAdmin(self.google.address)
        gcal = GcalWorker(self.settings).gcal_settings(gcal_status_file=None)
        self.syncer = Syncer(gcal, f"{self.settings.stack}-seed")
        # the revoked mentor's failure is the story; check() finds any other
        logging.getLogger("sync.gcal").setLevel(logging.ERROR)

    @classmethod
    def of(cls, settings: Settings, stage: Stage) -> Calendars | None:
        """None when the stack is not in local Google mode (a real client: no demo accounts)."""
        google = LocalGoogle(settings)
        if not google.enabled:
            return None
        return cls(settings, stage, google)

    def close(self) -> None:
        self.syncer.close()
        self.admin.http.close()

    def story(self, cast: Cast, end: dt.datetime) -> Iterator[dt.datetime]:
        """Two days before the end the mentors connect; an hour before it one removes the
        app's access at Google (the next hourly sync finds out)."""
        mentors = [m for m in cast.mentors if not m.leaves][:CONNECTED]
        yield end - CONNECT_BEFORE_END
        for m in mentors:
            self.admin.add_account(m.person.email, m.person.zone)
            for e in week_of_events(m.person.zone, end):
                self.admin.put_event(m.person.email, m.person.email, e)
            self.connect(m)
        self.stage.calendars = self
        self.sync()
        yield end - REVOKE_BEFORE_END  # the hour's sync meets invalid_grant
        self.revoked = mentors[-1]
        self.admin.revoke_account(self.revoked.person.email)

    def connect(self, m: Mentor) -> None:
        """The mentor's browser: start, allow at the local Google, back to the callback."""
        self.stage.share_clock()
        http = self.stage.http
        token = jwt_.user_token(self.settings, m.id, m.person.email)
        start = http.get(
            f"{self.settings.services_url}/oauth/google/start",
            headers={"Authorization": f"Bearer {token}"},
        )
        _ok(start, "GET /oauth/google/start")
        back = self.admin.approve(start.json()["url"], m.person.email)
        _ok(http.get(back), "the Google callback")
        self.connected.append(m)
        self.connected_at[m] = self.stage.now
        self.stage.count("calendars connected")

    def sync(self) -> None:
        """The calendar worker's turn at this instant: the session events queued since (booked,
        moved, canceled) written into the mentors' calendars, then every due mentor listed and
        reported."""
        self.stage.share_clock()
        self.stage.count("session events", self.syncer.drain_events())
        self.stage.count("calendar syncs", self.syncer.drain())


def week_of_events(zone: str, end: dt.datetime) -> list[dict[str, Any]]:
    """The mentor's week after the end of the history, in their zone."""
    tz = ZoneInfo(zone)
    day = (end + DAY).astimezone(tz).date()

    def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute), tz)

    return [
        event("dentist", at(0, 14), at(0, 15, 30), summary="Dentist", time_zone=zone),
        event(
            "studio",
            at(1, 10),
            at(1, 12),
            summary="Studio class",
            recurrence=weekly(4),
            time_zone=zone,
        ),
        event("conference", day + dt.timedelta(days=2), day + dt.timedelta(days=3)),
        event(
            "opening",
            at(3, 11),
            at(3, 13),
            summary="Gallery opening (free)",
            transparency="transparent",
            time_zone=zone,
        ),
        event("client", at(4, 9), at(4, 10, 30), summary="Client call", time_zone=zone),
    ]


def _ok(r: httpx.Response, what: str) -> None:
    if r.status_code != 200:
        raise RuntimeError(f"seed: {what} answered {r.status_code}: {r.text[:300]}")


def check(conn: psycopg.Connection, calendars: Calendars) -> list[str]:
    """What disagrees with the calendars' story: every connected mentor has busy times (none
    from the free event), no scheduled session overlaps them, the fresh ones offer slots and
    none in a busy time, the revoked one is marked and told."""
    wrong = []
    for m in calendars.connected:
        busy = conn.execute(
            "select count(*), count(*) filter (where source_event_id = 'opening')"
            " from private.calendar_busy_intervals where mentor_id = %s",
            (m.id,),
        ).fetchone()
        assert busy is not None
        if not busy[0] or busy[1]:
            wrong.append(
                f"{m.person.handle}: {busy[0]} busy intervals, {busy[1]} of the free event"
            )
        clash = conn.execute(
            "select count(*) from public.sessions s"
            " join private.calendar_busy_intervals b on b.mentor_id = s.mentor_id"
            " where s.mentor_id = %s and s.status = 'scheduled'"
            " and tstzrange(s.starts_at, s.ends_at) && tstzrange(b.starts_at, b.ends_at)",
            (m.id,),
        ).fetchone()
        if clash and clash[0]:
            wrong.append(f"{m.person.handle}: {clash[0]} scheduled sessions in a busy time")
        revoked = conn.execute(
            "select revoked_at is not null from private.google_credentials where mentor_id = %s",
            (m.id,),
        ).fetchone()
        if (revoked and revoked[0]) != (m is calendars.revoked):
            wrong.append(f"{m.person.handle}: revoked is {revoked}")
        if m is not calendars.revoked:
            wrong += _events_check(conn, calendars, m)
    if calendars.revoked is not None:
        told = conn.execute(
            "select count(*) from public.notifications where recipient_id = %s"
            " and kind = 'calendar_disconnected' and status = 'sent'",
            (calendars.revoked.id,),
        ).fetchone()
        if not told or not told[0]:
            wrong.append(f"{calendars.revoked.person.handle}: no calendar_disconnected sent")
    return wrong


def _events_check(conn: psycopg.Connection, calendars: Calendars, m: Mentor) -> list[str]:
    """The mentor's calendar at the local Google holds one event of ours per session that was
    still to come when they connected or was booked after (canceled ones deleted), and they
    changed none of them there."""
    with httpx.Client(timeout=10) as http:  # the seed's own client is closed by now
        items = LocalGoogleAdmin(calendars.google.address, http).events(
            m.person.email, m.person.email
        )
    ours = sorted(e["id"] for e in items if events.is_ours(e))
    expected = sorted(
        events.event_id(r[0])
        for r in conn.execute(
            "select id from public.sessions where mentor_id = %s and ends_at > %s"
            " and status not in ('canceled', 'late_canceled')",
            (m.id, calendars.connected_at[m]),
        )
    )
    wrong = []
    if not expected:
        wrong.append(f"{m.person.handle}: no session to put in their calendar")
    if ours != expected:
        wrong.append(
            f"{m.person.handle}: Google holds {len(ours)} session events, expected {len(expected)}"
            f" ({len(set(ours) - set(expected))} extra, {len(set(expected) - set(ours))} missing)"
        )
    flagged = conn.execute(
        "select count(*) from public.calendar_event_changes where mentor_id = %s", (m.id,)
    ).fetchone()
    if flagged and flagged[0]:
        wrong.append(f"{m.person.handle}: {flagged[0]} session events flagged as changed in Google")
    return wrong
