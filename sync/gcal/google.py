"""Google's own client libraries, built for the configured addresses (MENTORSHIPS_GOOGLE_*_BASE:
Google's, or the local fake's). They are synchronous (requests, httplib2): callers in the event
loop run them in a thread.

    flow = consent_flow(settings, verifier)           # google-auth-oauthlib Flow, PKCE S256
    creds = user_credentials(settings, refresh_token) # google-auth, refreshes at token_uri
    calendar = calendar_api(settings, creds)          # Calendar v3 from the bundled discovery doc
    list_calendars(calendar)                          # every calendarList entry, page by page
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit

import google.oauth2.credentials
import google_auth_httplib2
import httplib2
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build

from sync.settings import ProviderSettings

# Least needed: events on the mentor's calendars (busy times, session events, push channels) and
# the list of their calendars (to choose from); nothing of their settings, ACLs or other data.
SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)
AUTH_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
TIMEOUT = 30

# requests-oauthlib logs the token request's body and the tokens at DEBUG: never let those out.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# Google may grant fewer scopes than asked (the person unticks one): oauthlib would raise a
# Warning; the callback compares the granted scopes itself and says what is missing.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")


def _allow_loopback_http(url: str) -> None:
    """oauthlib refuses http token URLs; the settings allow http only for a loopback host (the
    local fake), and only then is the check relaxed."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def token_uri(settings: ProviderSettings) -> str:
    return f"{settings.google_oauth_base}{TOKEN_PATH}"


def consent_flow(settings: ProviderSettings, verifier: str) -> Flow:
    """The OAuth client with this consent's PKCE verifier (its S256 challenge goes in the URL)."""
    assert settings.google_client_id is not None
    assert settings.google_client_secret is not None
    assert settings.google_redirect_uri is not None
    _allow_loopback_http(settings.google_oauth_base)
    config = {
        "web": {
            "client_id": settings.google_client_id,
            "client_secret": settings.google_client_secret.get_secret_value(),
            "auth_uri": f"{settings.google_accounts_base}{AUTH_PATH}",
            "token_uri": token_uri(settings),
            "redirect_uris": [settings.google_redirect_uri],
        }
    }
    return Flow.from_client_config(
        config,
        scopes=list(SCOPES),
        redirect_uri=settings.google_redirect_uri,
        code_verifier=verifier,
        autogenerate_code_verifier=False,
    )


def user_credentials(
    settings: ProviderSettings, refresh_token: str, access_token: str | None = None
) -> google.oauth2.credentials.Credentials:
    """A mentor's credentials: google-auth refreshes the access token at the token URI."""
    assert settings.google_client_id is not None
    assert settings.google_client_secret is not None
    return google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
        token=access_token,
        refresh_token=refresh_token,
        token_uri=token_uri(settings),
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret.get_secret_value(),
        scopes=list(SCOPES),
    )


def calendar_api(
    settings: ProviderSettings,
    credentials: google.oauth2.credentials.Credentials,
    timeout: float = TIMEOUT,
) -> Any:
    """Calendar v3 from the discovery document google-api-python-client ships (never fetched),
    at MENTORSHIPS_GOOGLE_API_BASE; `timeout` seconds a request."""
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
    return build(
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": f"{settings.google_api_base}/calendar/v3/"},
        num_retries=0,
    )


def list_calendars(calendar: Any) -> list[dict[str, Any]]:
    """Every calendarList entry (calendarList.list, page by page; hidden ones too)."""
    items: list[dict[str, Any]] = []
    request = calendar.calendarList().list(showHidden=True)
    while request is not None:
        page = request.execute()
        items += page.get("items", [])
        request = calendar.calendarList().list_next(request, page)
    return items
