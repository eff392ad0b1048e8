"""Local Google mode (mentorships/stack/google_local.py, testing/fakes/google_local.py): the
standing local Google as the stack starts it, driven by Google's own client libraries as the
services and the calendar sync drive it: consent page, code exchange with PKCE, calendarList,
events.list (free events not busy), a restart that keeps the grant and the sync token, requests
answered in Google's error shape, and a removed access answering invalid_grant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import google.auth.exceptions
import httpx
import pytest
from googleapiclient.errors import HttpError

from mentorships.settings import Settings
from mentorships.stack import LocalGoogle, Services
from sync.gcal.busy import list_calendar
from sync.gcal.google import calendar_api, consent_flow, list_calendars, user_credentials
from sync.settings import ServiceSettings
from testing.fakes.google_events import event
from testing.fakes.google_local import LocalGoogleAdmin

UTC = dt.UTC
ACCOUNT = "mentor@local-google.test"
DAY = dt.datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture
def local(settings: Settings) -> Iterator[LocalGoogle]:
    google = LocalGoogle(settings.model_copy(update={"google_local": True}))
    google.stop()
    (google.state_dir / "state.pickle").unlink(missing_ok=True)
    google.start()
    try:
        yield google
    finally:
        google.stop()


def services_settings(google: LocalGoogle) -> ServiceSettings:
    return Services(google.s).service_settings()


def test_the_services_settings_point_at_local_google(
    settings: Settings, local: LocalGoogle
) -> None:
    s = services_settings(local)
    assert (s.google_accounts_base, s.google_oauth_base, s.google_api_base) == (local.address,) * 3
    assert s.google_client_id == local.client()[0]
    assert s.google_client_id.endswith(".apps.googleusercontent.com")
    # a client of one's own switches local mode off
    own = settings.model_copy(update={"google_local": True, "google_client_id": "x.apps"})
    assert not LocalGoogle(own).enabled
    assert not LocalGoogle(settings).enabled  # the test stack: MENTORSHIPS_GOOGLE_LOCAL=false


def test_connect_sync_restart_and_revoke_with_googles_own_clients(local: LocalGoogle) -> None:
    s = services_settings(local)
    admin = LocalGoogleAdmin(local.address)
    admin.add_account(ACCOUNT, "Europe/Berlin")
    busy = event("busy", DAY.replace(hour=9), DAY.replace(hour=10))
    free = event("free", DAY.replace(hour=11), DAY.replace(hour=12), transparency="transparent")
    for e in (busy, free):
        admin.put_event(ACCOUNT, ACCOUNT, e)

    # the consent page lists the account; allowing sends the browser back with a code
    verifier = "v" * 64  # PKCE: 43 to 128 unreserved characters
    flow = consent_flow(s, verifier)
    url, _ = flow.authorization_url(state="state-1", access_type="offline", prompt="consent")
    page = httpx.get(url)
    assert page.status_code == 200 and ACCOUNT in page.text
    back = urlsplit(admin.approve(url, ACCOUNT))
    assert f"{back.scheme}://{back.netloc}{back.path}" == s.google_redirect_uri
    query = parse_qs(back.query)
    assert query["state"] == ["state-1"]
    token = flow.fetch_token(code=query["code"][0])
    refresh = token["refresh_token"]

    def calendar() -> object:
        return calendar_api(s, user_credentials(s, refresh))

    assert [c["id"] for c in list_calendars(calendar())] == [ACCOUNT]
    window = {
        "calendar_id": ACCOUNT,
        "time_zone": "Europe/Berlin",
        "time_min": (DAY - dt.timedelta(days=1)).isoformat(),
        "time_max": (DAY + dt.timedelta(days=30)).isoformat(),
    }
    full = list_calendar(calendar(), window)
    assert [i["event_id"] for i in full["intervals"]] == ["busy"]  # the free one does not block

    # a restart keeps the grant and the sync token
    local.stop()
    local.start()
    admin.put_event(ACCOUNT, ACCOUNT, event("later", DAY.replace(hour=14), DAY.replace(hour=15)))
    incremental = list_calendar(calendar(), {**window, "sync_token": full["sync_token"]})
    assert not incremental["full"]
    assert [i["event_id"] for i in incremental["intervals"]] == ["later"]

    # what the tests' fake would fail the test on is answered as Google answers
    with pytest.raises(HttpError) as unknown:
        list_calendar(calendar(), {**window, "calendar_id": "nobody@local-google.test"})
    assert unknown.value.resp.status == 404
    stray = httpx.get(f"{local.address}/calendar/v3/colors")
    assert stray.status_code == 404 and stray.json()["error"]["code"] == 404
    token_form = httpx.post(f"{local.address}/token", data={"grant_type": "password"})
    assert token_form.status_code in (400, 401) and "error" in token_form.json()

    # the person removes the app's access: the next refresh is invalid_grant
    admin.revoke_account(ACCOUNT)
    with pytest.raises(google.auth.exceptions.RefreshError) as refused:
        list_calendars(calendar())
    assert "invalid_grant" in str(refused.value)
