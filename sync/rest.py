"""A small PostgREST client (through the gateway at /rest/v1, as supabase-py talks to it):
as the caller with their own JWT, as anon, or as the service role. Every call made while a
request is served carries its X-Request-Id (sync.logs.request_id), so PostgREST's and
Postgres's lines of it can be found by the same id."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from sync.errors import ApiError
from sync.logs import request_id
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)

# Connections kept open to the gateway; PostgREST's own pool is the real limit behind them.
POOL_SIZE = 32


@dataclass(frozen=True)
class Reply:
    status: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


class Unreachable(Exception):
    """The gateway did not answer (connection refused, reset, timed out)."""


# aiohttp rather than httpx: far less CPU per call on the webhook path (bench/webhooks.py).
def session() -> aiohttp.ClientSession:
    """One per app (created inside its event loop, closed at shutdown)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=POOL_SIZE, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(total=30),
        raise_for_status=False,
    )


class Rest:
    """RPC calls and reads. Every error answer of PostgREST (4xx) is raised as an ApiError
    carrying PostgREST's own status and JSON, so handlers can pass it through unchanged; a 5xx
    or an unreachable gateway becomes a 502 of ours (SV502)."""

    def __init__(self, settings: ServiceSettings, http: aiohttp.ClientSession) -> None:
        # The keys are given (MENTORSHIPS_SUPABASE_*), never minted: the services hold no JWT
        # secret.
        assert settings.supabase_anon_key is not None  # checked at start
        assert settings.supabase_service_role_key is not None
        self.url = settings.rest_url
        self.http = http
        self.anon_key = settings.supabase_anon_key
        self.service_key = settings.supabase_service_role_key.get_secret_value()

    def _headers(self, token: str | None, *, service: bool) -> dict[str, str]:
        # The API key is always the service-role key: it names the platform's own server to the
        # gateway (its request id kept, no rate limit: the person's own request was limited on
        # its way in); the bearer token decides the role PostgREST runs as.
        key = self.service_key if service else self.anon_key
        headers = {
            "apikey": self.service_key,
            "Authorization": f"Bearer {token or key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        current = request_id.get()
        if current is not None:
            headers["X-Request-Id"] = current
        return headers

    async def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """One request (within `timeout` seconds when given, else the session's 30); Unreachable
        when no answer came."""
        # (aiohttp reads timeout=None as "no limit": the session's own applies unless given.)
        limit = self.http.timeout if timeout is None else aiohttp.ClientTimeout(total=timeout)
        try:
            async with self.http.request(
                method,
                f"{self.url}{path}",
                data=body,
                headers=headers,
                params=params,
                timeout=limit,
            ) as response:
                return Reply(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as e:
            raise Unreachable(repr(e)) from e

    async def _checked(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        try:
            reply = await self.send(
                method, path, headers, body=body, params=params, timeout=timeout
            )
        except Unreachable as e:
            log.error("database API unreachable", extra={"path": path, "error": str(e)})
            raise ApiError.message(
                502, "the database API is not reachable", hint="Try again in a moment."
            ) from e
        if reply.status >= 500:
            log.error(
                "database API error",
                extra={"path": path, "status": reply.status, "body": reply.text[:500]},
            )
            raise ApiError.message(
                502, f"the database API failed ({reply.status})", hint="Try again in a moment."
            )
        if reply.status >= 400:
            raise ApiError.passthrough(reply.status, reply.content, source="the database API")
        return reply

    async def rpc(
        self,
        name: str,
        args: dict[str, Any],
        *,
        token: str | None = None,
        service: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """POST /rpc/NAME as the user holding `token`, or as the service role."""
        reply = await self._checked(
            "POST",
            f"/rpc/{name}",
            self._headers(token, service=service),
            body=json.dumps(args).encode(),
            timeout=timeout,
        )
        return reply.json()

    async def rpc_raw(self, name: str, body: bytes) -> Reply:
        """POST /rpc/NAME as the service role with a body already encoded; the answer as it
        came (the webhook handlers decide what a 5xx means for them). Unreachable when none."""
        return await self.send("POST", f"/rpc/{name}", self._headers(None, service=True), body=body)

    async def select(
        self, table: str, params: dict[str, str], *, token: str | None = None
    ) -> list[dict[str, Any]]:
        """GET /TABLE?params as anon (what anyone may read), or as the user holding `token`."""
        reply = await self._checked(
            "GET", f"/{table}", self._headers(token, service=False), params=params
        )
        rows: list[dict[str, Any]] = reply.json()
        return rows
