"""Connected mentors for the calendar sync's tests (and later the demo's local Google mode): a
mentor, their account at the fake Google with a grant, and the grant stored sealed through the
same RPC the OAuth callback calls (google_connected, service role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from mentorships import jwt
from mentorships.settings import Settings
from sync.gcal.sealing import TokenKeys
from testing.factories import Scenario
from testing.fakes import google as google_fake
from testing.fakes.google import GoogleFake, Grant


@dataclass(frozen=True)
class Connected:
    mentor: uuid.UUID
    email: str
    grant: Grant


def service_rpc(settings: Settings, name: str, **args: Any) -> httpx.Response:
    """POST /rest/v1/rpc/NAME with the service-role key."""
    key = jwt.service_role_key(settings)
    return httpx.post(
        f"{settings.rest_url}/rpc/{name}",
        json=args,
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        timeout=30,
    )


def connect_mentor(
    scenario: Scenario,
    google: GoogleFake,
    keys: TokenKeys,
    *,
    calendars: list[dict[str, Any]] | None = None,
    time_zone: str = "Europe/Berlin",
    mentor: uuid.UUID | None = None,
) -> Connected:
    """A mentor (weekdays 9 to 5 in `time_zone`; or `mentor`, who exists) connected to a new
    Google account whose primary calendar (and any of `calendars`, listed after it) exist at the
    fake; the primary counts as busy and receives session events."""
    mentor = mentor or scenario.mentor(time_zone)
    email = f"{mentor.hex[:12]}@gmail.test"
    entries = [
        google_fake.calendar(email, "Me", primary=True, time_zone=time_zone),
        *(calendars or []),
    ]
    google.add_account(email, entries)
    grant = google.issue_grant(email)
    sealed = keys.seal(grant.refresh_token, mentor)
    response = service_rpc(
        scenario.settings,
        "google_connected",
        mentor_id=str(mentor),
        refresh_token_sealed=sealed.text,
        key_version=str(sealed.key_version),
        scopes=list(grant.scopes),
        calendars=entries,
    )
    assert response.status_code == 200, response.text
    for entry in entries:
        google.events.add_calendar(email, entry["id"])
    return Connected(mentor, email, grant)
