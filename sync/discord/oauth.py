"""Linking a person's Discord account: Discord's OAuth2 authorization code flow with PKCE (scope
`identify`), finished without any storage on the services' side.

    link = DiscordLink(settings, rest, http)
    await link.start(bearer)             # {"url": Discord's authorize URL, "expires_at"}
    await link.finish(code, state)       # link_discord as the service role; {"user_id", ...}

The state is `<payload>.<signature>`, both base64url without padding: the payload is the JSON
{"sub": user id, "exp": Unix seconds, "nonce": 16 random bytes}, the signature HMAC-SHA256 of the
payload's text under a key derived from MENTORSHIPS_DISCORD_STATE_SECRET. It names the person who
started (the callback links that person, and nobody else) and dies after STATE_LIFETIME.

The PKCE verifier is never in the state: it is derived from it, HMAC-SHA256 of the payload's text
under a second key derived from the same secret (base64url, 43 characters, as RFC 7636 asks).
The callback computes it again from the state it is given, so nothing is stored between start and
callback, and someone who reads the authorize URL and the redirect (state, challenge, code) still
cannot redeem the code: that needs the verifier, which needs the secret. Nothing in the state is
secret, so it is signed, not encrypted.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from sync.errors import ApiError, quoted
from sync.orders import token_subject
from sync.rest import Rest
from sync.settings import DISCORD_API_KEYS, ServiceSettings, discord_is_placeholder, env_name

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/discord/callback"
SCOPE = "identify"
STATE_LIFETIME = dt.timedelta(minutes=10)
# A state is a few hundred characters; anything much longer is not one of ours.
_STATE = re.compile(r"^[A-Za-z0-9_-]{1,600}\.[A-Za-z0-9_-]{43}$")
_DISCORD_USER_ID = re.compile(r"^[0-9]{17,20}$")

START_HINT = "Start again at GET /oauth/discord/start."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 4.2)."""
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _bad_state(reason: str) -> ApiError:
    return ApiError.message(400, f"state: {reason}", details="state", hint=START_HINT)


class StateSigner:
    """Makes and checks states (see the module's docstring); `clock` gives Unix seconds."""

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        root = secret.encode()
        self._signing_key = hmac.new(root, b"mentorships discord oauth state", "sha256").digest()
        self._verifier_key = hmac.new(root, b"mentorships discord oauth pkce", "sha256").digest()
        self.clock = clock

    def _signature(self, payload: str) -> str:
        return _b64(hmac.new(self._signing_key, payload.encode(), "sha256").digest())

    def verifier(self, payload: str) -> str:
        return _b64(hmac.new(self._verifier_key, payload.encode(), "sha256").digest())

    def issue(self, user_id: uuid.UUID) -> tuple[str, str, dt.datetime]:
        """A new state for `user_id`: (state, PKCE verifier, when the state expires)."""
        expires = int(self.clock() + STATE_LIFETIME.total_seconds())
        claims = {"sub": str(user_id), "exp": expires, "nonce": _b64(secrets.token_bytes(16))}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        state = f"{payload}.{self._signature(payload)}"
        return state, self.verifier(payload), dt.datetime.fromtimestamp(expires, dt.UTC)

    def check(self, state: str | None) -> tuple[uuid.UUID, str]:
        """(user id, PKCE verifier) of a state these services signed and that has not expired;
        a 400 (SV400, details "state") otherwise."""
        if not state:
            raise _bad_state("it is missing (Discord sends it back with the code)")
        if not _STATE.match(state):
            raise _bad_state("it is not a state these services issued")
        payload, signature = state.split(".")
        if not hmac.compare_digest(signature, self._signature(payload)):
            raise _bad_state("its signature does not match (not issued by these services)")
        try:
            claims = json.loads(_unb64(payload))
            user_id = uuid.UUID(claims["sub"])
            expires = claims["exp"]
        except (ValueError, binascii.Error, KeyError, TypeError) as e:
            raise _bad_state("it is not a state these services issued") from e
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise _bad_state("it is not a state these services issued")
        if self.clock() >= expires:
            at = dt.datetime.fromtimestamp(expires, dt.UTC).isoformat()
            raise _bad_state(f"it expired at {at} (a link is valid for 10 minutes)")
        return user_id, self.verifier(payload)


def refuse_on_placeholder_keys(settings: ServiceSettings) -> None:
    """Placeholder client keys cannot reach Discord: nobody is sent there for nothing."""
    if discord_is_placeholder(settings):
        variable = " and ".join(env_name(field) for field in DISCORD_API_KEYS)
        raise ApiError.message(
            503,
            "linking Discord is not available: this stack runs on local placeholder Discord keys;"
            f" set {variable} to your Discord application's",
            details=variable,
            hint=f"Set {variable} (Discord Developer Portal, OAuth2) and start the services again.",
        )


class DiscordLink:
    def __init__(
        self,
        settings: ServiceSettings,
        rest: Rest,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # All checked at start (ServiceSettings.missing_discord_settings).
        assert settings.discord_client_id is not None
        assert settings.discord_client_secret is not None
        assert settings.discord_redirect_uri is not None
        assert settings.discord_state_secret is not None
        self.settings = settings
        self.rest = rest
        self.http = http
        self.base = settings.discord_api_base
        self.client_id = settings.discord_client_id
        self.client_secret = settings.discord_client_secret.get_secret_value()
        self.redirect_uri = settings.discord_redirect_uri
        self.states = StateSigner(settings.discord_state_secret.get_secret_value(), clock)

    async def start(self, bearer: str) -> dict[str, Any]:
        """Discord's authorize URL for the signed-in caller. PostgREST verifies the token: the
        caller's own profile row answers only to a genuine token of that user."""
        user_id = token_subject(bearer)
        rows = await self.rest.select(
            "profiles", {"select": "id", "id": f"eq.{user_id}"}, token=bearer
        )
        if not rows:
            raise ApiError.message(404, "you have no profile", hint="Sign in with your account.")
        refuse_on_placeholder_keys(self.settings)
        state, verifier, expires_at = self.states.issue(user_id)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "scope": SCOPE,
                "redirect_uri": self.redirect_uri,
                "state": state,
                "code_challenge": challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        log.info("discord link started", extra={"user_id": str(user_id)})
        return {
            "url": f"{self.base}/oauth2/authorize?{query}",
            "expires_at": expires_at.isoformat(),
        }

    async def finish(
        self, code: str | None, state: str | None, error: str | None = None
    ) -> dict[str, Any]:
        """The callback: the state checked, the code redeemed with the verifier, the account
        read, its id stored for the state's user (link_discord, service role)."""
        user_id, verifier = self.states.check(state)
        if not code:
            if error:
                raise ApiError.message(
                    403,
                    f"Discord did not authorize the link: {quoted(error)}",
                    details="error",
                    hint=START_HINT,
                )
            raise ApiError.message(
                400,
                "code is missing (Discord sends it back with the state)",
                details="code",
                hint=START_HINT,
            )
        refuse_on_placeholder_keys(self.settings)
        access_token = await self._redeem(code, verifier)
        account = await self._me(access_token)
        await self.rest.rpc(
            "link_discord",
            {"user_id": str(user_id), "discord_user_id": account["id"]},
            service=True,
        )
        log.info("discord linked", extra={"user_id": str(user_id)})
        return {
            "user_id": str(user_id),
            "discord_user_id": account["id"],
            "discord_username": account.get("username"),
        }

    async def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return await self.http.request(method, f"{self.base}{path}", **kw)
        except httpx.HTTPError as e:
            log.error("discord unreachable", extra={"path": path, "error": repr(e)})
            raise ApiError.message(
                502, "Discord is not reachable; try again in a moment", hint=START_HINT
            ) from e

    async def _redeem(self, code: str, verifier: str) -> str:
        response = await self._send(
            "POST",
            "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            headers={"Accept": "application/json"},
        )
        body = _json_object(response)
        if response.status_code == 400:
            # invalid_grant: the code is unknown, used, expired, or its challenge does not match.
            reason = str(body.get("error") or "invalid_request")
            log.warning("discord refused the code", extra={"error": reason[:100]})
            raise ApiError.message(
                400,
                f"Discord refused the authorization code ({quoted(reason)})",
                details="code",
                hint=START_HINT,
            )
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            log.error(
                "discord token exchange failed",
                extra={"status": response.status_code, "error": str(body.get("error"))[:100]},
            )
            raise ApiError.message(
                502, f"Discord's token endpoint failed ({response.status_code})", hint=START_HINT
            )
        return token

    async def _me(self, access_token: str) -> dict[str, Any]:
        response = await self._send(
            "GET",
            "/api/users/@me",
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        )
        body = _json_object(response)
        account_id = body.get("id")
        if (
            response.status_code != 200
            or not isinstance(account_id, str)
            or not _DISCORD_USER_ID.match(account_id)
        ):
            log.error("discord /users/@me failed", extra={"status": response.status_code})
            raise ApiError.message(
                502, f"Discord did not name the account ({response.status_code})", hint=START_HINT
            )
        return body


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
