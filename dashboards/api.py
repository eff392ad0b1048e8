"""The gateway as the signed-in person sees it: PostgREST reads and RPCs with their JWT.

    api = Api(settings, token)
    rows = api.rows("sessions", {"select": "id,starts_at", "order": "starts_at.desc"})
    api.rpc("cancel_session", {"session_id": sid, "reason": None})

A refusal raises ApiError with PostgREST's JSON shape (`code`, `message`, `details`, `hint`) and
the HTTP status; `str(error)` is what a page shows. Nothing here decides a rule."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import httpx

from dashboards.settings import DashboardSettings


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    details: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        text = self.message
        if self.details and self.details not in text:
            text += f" ({self.details})"
        if self.hint:
            text += f". {self.hint}"
        return text

    @classmethod
    def of(cls, r: httpx.Response) -> ApiError:
        try:
            body = r.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("message"):
            reason = r.reason_phrase or "error"
            return cls(r.status_code, f"HTTP{r.status_code}", f"the server answered {reason}")
        return cls(
            r.status_code,
            str(body.get("code") or f"HTTP{r.status_code}"),
            str(body["message"]),
            None if body.get("details") is None else str(body["details"]),
            None if body.get("hint") is None else str(body["hint"]),
        )


@functools.cache
def _client(timeout: float) -> httpx.Client:
    """One connection pool for the app (kept alive between reruns and sessions)."""
    return httpx.Client(timeout=timeout, headers={"Accept": "application/json"})


class Api:
    def __init__(
        self, settings: DashboardSettings, token: str | None, client: httpx.Client | None = None
    ) -> None:
        self.s = settings
        self.token = token
        self.http = client or _client(settings.dashboards_timeout_seconds)

    def _headers(self, profile: str | None = None, write: bool = False) -> dict[str, str]:
        anon = self.s.supabase_anon_key.get_secret_value()
        h = {"apikey": anon, "Authorization": f"Bearer {self.token or anon}"}
        if profile:
            h["Content-Profile" if write else "Accept-Profile"] = profile
        return h

    def _send(self, r: httpx.Response) -> Any:
        if r.status_code >= 400:
            raise ApiError.of(r)
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.HTTPError as e:
            raise ApiError(
                503,
                "HTTP503",
                f"the API at {self.s.supabase_url} did not answer ({type(e).__name__}); "
                "try again in a moment",
            ) from None

    def rows(
        self, table: str, params: dict[str, str] | None = None, *, profile: str | None = None
    ) -> list[dict[str, Any]]:
        """A table or view read (RLS decides which rows)."""
        r = self._call(
            "GET", f"{self.s.rest_url}/{table}", params=params or {}, headers=self._headers(profile)
        )
        return list(self._send(r) or [])

    def page(
        self,
        table: str,
        params: dict[str, str],
        *,
        offset: int,
        limit: int,
        profile: str | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a read and the count of all rows it matches (server-side paging)."""
        headers = {
            **self._headers(profile),
            "Prefer": "count=exact",
            "Range-Unit": "items",
            "Range": f"{offset}-{offset + limit - 1}",
        }
        r = self._call("GET", f"{self.s.rest_url}/{table}", params=params, headers=headers)
        rows = list(self._send(r) or [])
        total = r.headers.get("Content-Range", "").rpartition("/")[2]
        return rows, int(total) if total.isdigit() else None

    def rpc(self, name: str, args: dict[str, Any] | None = None, *, read: bool = False) -> Any:
        """A function of the API: POST (a change), or GET for a read-only one when `read`."""
        url = f"{self.s.rest_url}/rpc/{name}"
        if read:
            params = {k: str(v) for k, v in (args or {}).items() if v is not None}
            return self._send(self._call("GET", url, params=params, headers=self._headers()))
        return self._send(self._call("POST", url, json=args or {}, headers=self._headers()))

    def update(
        self, table: str, match: dict[str, str], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A write of the columns the person may change (PATCH, the changed rows back)."""
        headers = {**self._headers(), "Prefer": "return=representation"}
        params = {k: f"eq.{v}" for k, v in match.items()}
        r = self._call(
            "PATCH", f"{self.s.rest_url}/{table}", params=params, json=values, headers=headers
        )
        return list(self._send(r) or [])

    def service(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A call to the services (checkout, the Discord and Google starts) as the person."""
        if not self.s.dashboards_services_url:
            raise ApiError(
                503,
                "HTTP503",
                "the services' address is not set (MENTORSHIPS_DASHBOARDS_SERVICES_URL)",
            )
        url = self.s.dashboards_services_url + path
        headers = {"Authorization": f"Bearer {self.token}"}
        return self._send(self._call(method, url, json=body, headers=headers))

    def upsert(self, table: str, values: dict[str, Any], on_conflict: str) -> list[dict[str, Any]]:
        """Insert or update one row of the person's own (PostgREST's upsert on a unique key:
        `Prefer: resolution=merge-duplicates`), the row back."""
        headers = {
            **self._headers(),
            "Prefer": "resolution=merge-duplicates,return=representation",
        }
        r = self._call(
            "POST",
            f"{self.s.rest_url}/{table}",
            params={"on_conflict": on_conflict},
            json=values,
            headers=headers,
        )
        return list(self._send(r) or [])
