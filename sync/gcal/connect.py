"""Connecting a mentor's Google Calendar: Google's OAuth2 authorization code flow with PKCE
(google-auth-oauthlib), the refresh token sealed at rest (sealing.py), the calendars listed
(google-api-python-client), and disconnecting (the grant revoked at Google).

    gcal = GoogleConnect(settings, rest, http)
    await gcal.start(bearer)            # {"url": Google's consent URL, "expires_at"}
    await gcal.finish(code, state)      # {"mentor_id", "scopes", "calendars"}
    await gcal.disconnect(bearer)       # {"disconnected", "revoked_at_google"}
    await gcal.revoke_due(mentor_id)    # revokes the mentor's queued grants at Google

The state is signed (sync/oauth_state.py, MENTORSHIPS_GOOGLE_STATE_SECRET), names the mentor,
lives 10 minutes and carries a nonce that begin_google_connect recorded: the callback takes it
(claim_google_state) before anything else, so a state is good once. Which mentor may connect,
what is stored and which calendars they may choose are the SQL rules' (sql/rules/google/).
No token, code or client secret reaches an answer, an error or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httplib2
import httpx
import requests
from googleapiclient.errors import HttpError
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError, OAuth2Error

from sync.errors import ApiError, quoted
from sync.gcal import channels, google
from sync.gcal.sealing import SealError, TokenKeys
from sync.oauth_state import StateSigner
from sync.orders import token_subject
from sync.placeholders import google_is_placeholder
from sync.rest import Rest
from sync.settings import GOOGLE_API_KEYS, ServiceSettings, env_name

log = logging.getLogger(__name__)

START_HINT = "Start again at GET /oauth/google/start."
# What the stored calendar list keeps of a calendarList entry.
CALENDAR_FIELDS = ("id", "summary", "primary", "accessRole", "timeZone")


def google_states(secret: str, clock: Callable[[], float] = time.time) -> StateSigner:
    """The signer of Google consent states (sync/oauth_state.py)."""
    return StateSigner(secret, purpose="google calendar", hint=START_HINT, clock=clock)


def refuse_when_unavailable(settings: ServiceSettings) -> None:
    """503 naming the variables when connecting cannot work: a setting missing, or placeholder
    client keys (Google would refuse them)."""
    missing = [line.split(" ", 1)[0] for line in settings.missing_google_settings()]
    if missing:
        variables = ", ".join(missing)
        raise ApiError.message(
            503,
            f"connecting Google Calendar is not available: {variables} not set",
            details=variables,
            hint="Set them (README: Google Calendar: connecting) and start the services again.",
        )
    if google_is_placeholder(settings):
        variables = " and ".join(env_name(field) for field in GOOGLE_API_KEYS)
        raise ApiError.message(
            503,
            "connecting Google Calendar is not available: this stack runs on local placeholder "
            f"Google keys; set {variables} to your OAuth client's",
            details=variables,
            hint=f"Set {variables} (Google Cloud console, Credentials) and start the services again.",
        )


def _unreachable(what: str) -> ApiError:
    return ApiError.message(502, f"Google {what} failed; try again in a moment", hint=START_HINT)


class GoogleConnect:
    def __init__(
        self,
        settings: ServiceSettings,
        rest: Rest,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.rest = rest
        self.http = http
        secret = settings.google_state_secret
        # Without the settings every endpoint answers 503 (refuse_when_unavailable).
        self.states = google_states(secret.get_secret_value() if secret else "unset" * 8, clock)
        self.keys = TokenKeys.from_settings(settings) if settings.google_token_keys else None

    def _keys(self) -> TokenKeys:
        refuse_when_unavailable(self.settings)
        assert self.keys is not None
        return self.keys

    async def start(self, bearer: str) -> dict[str, Any]:
        """Google's consent URL for the signed-in mentor (begin_google_connect, with their token,
        decides who is one and records the state's nonce)."""
        refuse_when_unavailable(self.settings)
        rows = await self.rest.rpc("begin_google_connect", {}, token=bearer)
        row = rows[0]
        mentor_id = uuid.UUID(row["mentor_id"])
        state, verifier, expires_at = self.states.issue(mentor_id, row["nonce"])
        flow = google.consent_flow(self.settings, verifier)
        url, _ = flow.authorization_url(access_type="offline", prompt="consent", state=state)
        log.info("google connect started", extra={"mentor_id": str(mentor_id)})
        return {"url": url, "expires_at": expires_at.isoformat()}

    async def finish(
        self, code: str | None, state: str | None, error: str | None = None
    ) -> dict[str, Any]:
        """The callback: the state checked and taken (once), the code redeemed with the PKCE
        verifier, the calendars listed, the sealed grant and the calendars stored together."""
        keys = self._keys()
        claims = self.states.claims(state, "Google")
        mentor_id = claims.user_id
        await self.rest.rpc(
            "claim_google_state",
            {"nonce": claims.nonce, "mentor_id": str(mentor_id)},
            service=True,
        )
        if not code:
            if error:
                raise ApiError.message(
                    403,
                    f"Google did not authorize the connection: {quoted(error)}",
                    details="error",
                    hint=START_HINT,
                )
            raise ApiError.message(
                400,
                "code is missing (Google sends it back with the state)",
                details="code",
                hint=START_HINT,
            )
        token = await asyncio.to_thread(self._redeem, code, claims.verifier)
        refresh_token, access_token = token["refresh_token"], token["access_token"]
        scope = token.get("scope") or []
        granted = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
        missing = [scope for scope in google.SCOPES if scope not in granted]
        if missing:
            await self._revoke(refresh_token)
            raise ApiError.message(
                403,
                "Google granted the connection without " + ", ".join(missing),
                details="scope",
                hint="Start again and leave every permission ticked on Google's consent screen.",
            )
        try:
            calendars = await asyncio.to_thread(self._calendars, refresh_token, access_token)
        except ApiError:
            await self._revoke(refresh_token)
            raise
        sealed = keys.seal(refresh_token, mentor_id)
        stored = await self.rest.rpc(
            "google_connected",
            {
                "mentor_id": str(mentor_id),
                "refresh_token_sealed": sealed.text,
                "key_version": str(sealed.key_version),
                "scopes": granted,
                "calendars": calendars,
            },
            service=True,
        )
        log.info(
            "google calendar connected",
            extra={"mentor_id": str(mentor_id), "calendars": len(stored)},
        )
        await self.revoke_due(mentor_id)  # the grant this one replaced, if any
        return {"mentor_id": str(mentor_id), "scopes": granted, "calendars": stored}

    def _redeem(self, code: str, verifier: str) -> dict[str, Any]:
        """POST {token_uri} (authorization_code, code_verifier) through google-auth-oauthlib."""
        flow = google.consent_flow(self.settings, verifier)
        try:
            token: dict[str, Any] = flow.fetch_token(code=code)
        except InvalidGrantError as e:
            log.warning("google refused the code", extra={"error": "invalid_grant"})
            raise ApiError.message(
                400,
                'Google refused the authorization code ("invalid_grant")',
                details="code",
                hint=START_HINT,
            ) from e
        except OAuth2Error as e:
            log.error("google token exchange failed", extra={"error": str(e.error)[:100]})
            raise _unreachable("token endpoint") from e
        except (requests.RequestException, ValueError) as e:
            log.error("google token endpoint unreachable", extra={"error": type(e).__name__})
            raise _unreachable("token endpoint") from e
        if not token.get("refresh_token") or not token.get("access_token"):
            log.error("google token answer without a refresh token")
            raise ApiError.message(502, "Google answered without a refresh token", hint=START_HINT)
        return token

    def _calendars(self, refresh_token: str, access_token: str) -> list[dict[str, Any]]:
        credentials = google.user_credentials(self.settings, refresh_token, access_token)
        try:
            items = google.list_calendars(google.calendar_api(self.settings, credentials))
        except HttpError as e:
            log.error("google calendarList.list failed", extra={"status": e.status_code})
            raise _unreachable(f"Calendar API ({e.status_code})") from e
        except (OSError, httplib2.HttpLib2Error) as e:
            log.error("google calendar API unreachable", extra={"error": type(e).__name__})
            raise _unreachable("Calendar API") from e
        return [{k: item[k] for k in CALENDAR_FIELDS if k in item} for item in items]

    async def disconnect(self, bearer: str) -> dict[str, Any]:
        """disconnect_google with the mentor's token (the grant queued, the calendars gone),
        then the queued grant revoked at Google."""
        revocation = await self.rest.rpc("disconnect_google", {}, token=bearer)
        mentor_id = token_subject(bearer)  # the RPC above verified this very token
        revoked = await self.revoke_due(mentor_id) if revocation is not None else True
        log.info(
            "google calendar disconnected",
            extra={"mentor_id": str(mentor_id), "revoked_at_google": revoked},
        )
        return {"disconnected": revocation is not None, "revoked_at_google": revoked}

    async def revoke_due(self, mentor_id: uuid.UUID) -> bool:
        """Revokes the mentor's queued grants at Google; whether all went (a failure stays
        queued: google_revocations_due lists it again)."""
        if self.keys is None:
            return False
        rows = await self.rest.rpc(
            "google_revocations_due", {"for_mentor_id": str(mentor_id)}, service=True
        )
        done = True
        for row in rows:
            try:
                token = self.keys.open(
                    row["refresh_token_sealed"], row["key_version"], uuid.UUID(row["mentor_id"])
                )
            except SealError as e:
                log.error(
                    "a queued google grant does not open",
                    extra={"revocation_id": row["revocation_id"], "error": str(e)},
                )
                done = False
                continue
            await channels.stop_gone(self.settings, self.rest, uuid.UUID(row["mentor_id"]), token)
            if await self._revoke(token):
                await self.rest.rpc(
                    "google_revoked", {"revocation_id": str(row["revocation_id"])}, service=True
                )
            else:
                done = False
        return done

    async def _revoke(self, token: str) -> bool:
        """POST {oauth base}/revoke with the token in the form (never in the URL). 200, or 400
        invalid_token (already dead), is done."""
        try:
            response = await self.http.post(
                f"{self.settings.google_oauth_base}{google.REVOKE_PATH}",
                data={"token": token},
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as e:
            log.warning("google revoke unreachable", extra={"error": type(e).__name__})
            return False
        if response.status_code == 200:
            return True
        error = _json_error(response)
        if response.status_code == 400 and error == "invalid_token":
            return True
        log.warning(
            "google revoke failed", extra={"status": response.status_code, "error": error[:100]}
        )
        return False


def _json_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
