"""Linking a person's Discord account: Discord's OAuth2 authorization code flow with PKCE (scope
`identify`), finished without any storage on the services' side.

    link = DiscordLink(settings, rest, http)
    await link.start(bearer)             # {"url": Discord's authorize URL, "expires_at"}
    await link.finish(code, state)       # link_discord as the service role; {"user_id", ...}

The state is signed with MENTORSHIPS_DISCORD_STATE_SECRET and the PKCE verifier derived from it
(sync/oauth_state.py): it names the person who started (the callback links that person, and
nobody else) and dies after 10 minutes. Nothing is stored between start and callback.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from sync.errors import ApiError, quoted
from sync.oauth_state import StateSigner, challenge
from sync.orders import token_subject
from sync.placeholders import discord_is_placeholder
from sync.rest import Rest
from sync.settings import DISCORD_API_KEYS, ServiceSettings, env_name

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/discord/callback"
SCOPE = "identify"
_DISCORD_USER_ID = re.compile(r"^[0-9]{17,20}$")

START_HINT = "Start again at GET /oauth/discord/start."


def discord_states(secret: str, clock: Callable[[], float] = time.time) -> StateSigner:
    """The signer of Discord states (sync/oauth_state.py)."""
    return StateSigner(secret, purpose="discord", hint=START_HINT, clock=clock)


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
        self.states = discord_states(settings.discord_state_secret.get_secret_value(), clock)

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
        user_id, verifier = self.states.check(state, "Discord")
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
