"""A small PostgREST client (through the gateway at /rest/v1, as supabase-py talks to it):
as the caller with their own JWT, as anon, or as the service role."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from mentorships import jwt
from mentorships.settings import Settings

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer to pass to our own caller as is: status and JSON body."""

    def __init__(self, status: int, body: bytes | dict[str, Any]) -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        super().__init__(f"{status} {self.body[:200]!r}")

    @classmethod
    def message(cls, status: int, error: str, **details: Any) -> ApiError:
        return cls(status, {"error": error, **details})


class Rest:
    """RPC calls and reads. Every error answer of PostgREST (4xx) is raised as an ApiError
    carrying PostgREST's own status and JSON, so handlers can pass it through unchanged; a 5xx
    or an unreachable gateway becomes a 502 of ours."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.url = settings.rest_url
        self.http = http
        self.anon_key = jwt.anon_key(settings)
        self.service_key = jwt.service_role_key(settings)

    def _headers(self, token: str | None, *, service: bool) -> dict[str, str]:
        key = self.service_key if service else self.anon_key
        return {
            "apikey": key,
            "Authorization": f"Bearer {token or key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    async def _send(
        self, method: str, path: str, headers: dict[str, str], **kw: Any
    ) -> httpx.Response:
        try:
            response = await self.http.request(method, f"{self.url}{path}", headers=headers, **kw)
        except httpx.HTTPError as e:
            log.error("database API unreachable", extra={"path": path, "error": repr(e)})
            raise ApiError.message(502, "the database API is not reachable") from e
        if response.status_code >= 500:
            log.error(
                "database API error",
                extra={"path": path, "status": response.status_code, "body": response.text[:500]},
            )
            raise ApiError.message(
                502, "the database API failed", upstream_status=response.status_code
            )
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.content)
        return response

    async def rpc(
        self, name: str, args: dict[str, Any], *, token: str | None = None, service: bool = False
    ) -> Any:
        """POST /rpc/NAME as the user holding `token`, or as the service role."""
        response = await self._send(
            "POST", f"/rpc/{name}", self._headers(token, service=service), json=args
        )
        return response.json()

    async def rpc_raw(self, name: str, body: bytes) -> httpx.Response:
        """POST /rpc/NAME as the service role with a body already encoded; the response as it
        came (the webhook handlers decide what a 5xx means for them)."""
        return await self.http.post(
            f"{self.url}/rpc/{name}", content=body, headers=self._headers(None, service=True)
        )

    async def select(self, table: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET /TABLE?params as anon (what anyone may read)."""
        response = await self._send(
            "GET", f"/{table}", self._headers(None, service=False), params=params
        )
        rows: list[dict[str, Any]] = response.json()
        return rows
