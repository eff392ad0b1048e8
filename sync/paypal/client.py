"""PayPal REST over HTTP (no SDK): an OAuth client-credentials token cached until it expires,
and Orders v2 create / show / capture, each with a PayPal-Request-Id so a retry is idempotent."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from sync.errors import ApiError
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)

# Renew the token this long before PayPal says it expires.
TOKEN_MARGIN_SECONDS = 60


class PayPalError(Exception):
    """PayPal answered with an error (status, its `name`/`details[].issue`, debug id)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        details = body.get("details") or [{}]
        self.issue: str = details[0].get("issue") or body.get("name") or body.get("error") or ""
        self.debug_id: str | None = body.get("debug_id")
        message = (
            details[0].get("description") or body.get("message") or body.get("error_description")
        )
        self.description: str = message or f"PayPal answered {status}"
        super().__init__(f"{status} {self.issue}: {self.description}")


class PayPal:
    def __init__(self, settings: ServiceSettings, http: httpx.AsyncClient) -> None:
        assert settings.paypal_client_id is not None  # checked at start
        assert settings.paypal_client_secret is not None
        self.base = settings.paypal_api_base
        self.http = http
        self._auth = (settings.paypal_client_id, settings.paypal_client_secret.get_secret_value())
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            response = await self._send(
                "POST",
                "/v1/oauth2/token",
                auth=self._auth,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
            )
            body = response.json()
            self._token = str(body["access_token"])
            lifetime = int(body.get("expires_in", 0))
            self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 0)
            log.info("paypal token obtained", extra={"expires_in": lifetime})
            return self._token

    async def _send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, f"{self.base}{path}", **kw)
        except httpx.HTTPError as e:
            log.error("paypal unreachable", extra={"path": path, "error": repr(e)})
            raise ApiError.message(
                502, "PayPal is not reachable; try again in a moment", hint="Try again in a moment."
            ) from e
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text[:200]}
            error = PayPalError(response.status_code, body if isinstance(body, dict) else {})
            log.error(
                "paypal refused",
                extra={
                    "path": path,
                    "status": response.status_code,
                    "issue": error.issue,
                    "debug_id": error.debug_id,
                },
            )
            raise error
        return response

    async def call(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, headers: dict[str, str]
    ) -> dict[str, Any]:
        """An authenticated call; one new token and retry if PayPal no longer takes ours."""
        for attempt in (1, 2):
            token = await self.token()
            try:
                response = await self._send(
                    method,
                    path,
                    json=json,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                        **headers,
                    },
                )
            except PayPalError as e:
                if e.status == 401 and attempt == 1:
                    async with self._lock:
                        if self._token == token:
                            self._token = None
                    continue
                raise
            body: dict[str, Any] = response.json()
            return body
        raise AssertionError("unreachable")

    async def create_order(self, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        return await self.call(
            "POST", "/v2/checkout/orders", json=body, headers={"PayPal-Request-Id": request_id}
        )

    async def show_order(self, paypal_order_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/v2/checkout/orders/{paypal_order_id}", headers={})

    async def capture(self, paypal_order_id: str, request_id: str) -> dict[str, Any]:
        return await self.call(
            "POST",
            f"/v2/checkout/orders/{paypal_order_id}/capture",
            headers={"PayPal-Request-Id": request_id, "Prefer": "return=representation"},
        )


def approval_url(paypal_order: dict[str, Any]) -> str | None:
    """Where the buyer approves: the `payer-action` link (orders created with a payment_source),
    else `approve`."""
    links = {link.get("rel"): link.get("href") for link in paypal_order.get("links") or []}
    url = links.get("payer-action") or links.get("approve")
    return str(url) if url else None
