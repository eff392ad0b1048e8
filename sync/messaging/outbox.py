"""The dispatcher's two calls to the rules (sql/rules/outbox.sql), through PostgREST with the
service-role key: claim_messages (a batch of due messages with what their templates need) and
report_notifications (the batch's outcomes). One round trip each per batch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from sync.messaging.context import MessageContext
from sync.messaging.settings import WorkerSettings


class OutboxError(Exception):
    """The database API did not answer, or answered an error (the worker retries the call)."""


@dataclass(frozen=True)
class Claimed:
    """A claimed message as claim_messages answers it (see its comment in outbox.sql)."""

    row: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def channel(self) -> str:
        return str(self.row["channel"])

    @property
    def dedupe_key(self) -> str:
        return str(self.row["dedupe_key"])

    @property
    def kind(self) -> str:
        return str(self.row["kind"])

    @property
    def recipient_id(self) -> str:
        return str(self.row["recipient_id"])

    @property
    def address(self) -> str | None:
        """Where it goes: the email address, or the linked Discord user id."""
        value = self.row.get("email" if self.channel == "email" else "discord_user_id")
        return str(value) if value else None

    @property
    def request_id(self) -> str | None:
        """The X-Request-Id of the API request that queued it (null: a job queued it)."""
        value = self.row.get("request_id")
        return str(value) if value else None

    @property
    def queued_at(self) -> datetime:
        return datetime.fromisoformat(str(self.row["queued_at"]))

    def context(self, *, dashboard_url: str, services_url: str, sender: str) -> MessageContext:
        """The renderer's input (raises MessageError when the row cannot make one)."""
        r = self.row
        return MessageContext(
            notification_id=self.id,
            kind=self.kind,
            channel=r["channel"],
            payload=r.get("payload") or {},
            queued_at=self.queued_at,
            recipient_name=str(r.get("recipient_name") or ""),
            recipient_role=r.get("recipient_role") or "admin",
            time_zone=str(r.get("time_zone") or "UTC"),
            dashboard_url=dashboard_url,
            services_url=services_url,
            other_party_name=r.get("other_party_name"),
            mentor_name=r.get("mentor_name"),
            product_title=r.get("product_title"),
            remaining_sessions=r.get("remaining_sessions"),
            reschedule_count=int(r.get("reschedule_count") or 0),
            recipient_email=r.get("email"),
            organizer_email=sender,
        )


@dataclass(frozen=True)
class Batch:
    messages: list[Claimed]
    voided: int


class Outbox:
    def __init__(self, settings: WorkerSettings, http: aiohttp.ClientSession) -> None:
        assert settings.supabase_service_role_key is not None  # checked at start
        key = settings.supabase_service_role_key.get_secret_value()
        self.url = settings.rest_url
        self.http = http
        self.headers = {
            "apikey": key,
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    async def _rpc(self, name: str, args: dict[str, Any]) -> Any:
        try:
            async with self.http.post(
                f"{self.url}/rpc/{name}", data=json.dumps(args), headers=self.headers
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as e:
            raise OutboxError(f"{name}: the database API did not answer: {e!r}") from e
        if status >= 300:
            raise OutboxError(f"{name}: {status} {body[:500].decode(errors='replace')}")
        return json.loads(body)

    async def claim(self, worker: str, max_messages: int, lease_seconds: int) -> Batch:
        answer = await self._rpc(
            "claim_messages",
            {
                "worker": worker,
                "max_messages": str(max_messages),
                "lease_seconds": str(lease_seconds),
            },
        )
        return Batch([Claimed(row) for row in answer["messages"]], int(answer["voided"]))

    async def report(self, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each outcome's message as the rules left it: {id, status, attempts, next_attempt_at}."""
        if not outcomes:
            return []
        answer: list[dict[str, Any]] = await self._rpc(
            "report_notifications", {"outcomes": outcomes}
        )
        return answer
