"""The gateway as one actor (Api: apikey + bearer token, as supabase-js sends them), what its
answers must be (ok, refused, refusal), and concurrency: together() releases threads at once,
race() fires RPCs at once and counts the statuses."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import psycopg

from mentorships import jwt
from mentorships.settings import Settings


class Api:
    """One actor talking to the gateway the way supabase-js does: apikey + bearer token."""

    def __init__(
        self, settings: Settings, token: str | None, *, name: str = "", apikey: str | None = None
    ) -> None:
        self.name = name
        headers = {"apikey": apikey or jwt.anon_key(settings)}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=settings.rest_url, headers=headers, timeout=30)

    def request(
        self, method: str, path: str, *, rollback: bool = False, **kw: Any
    ) -> httpx.Response:
        """A table request; writes return their rows, and with rollback=True nothing persists."""
        headers = dict(kw.pop("headers", {}) or {})
        prefer = [p for p in [headers.pop("Prefer", "")] if p]
        if method in ("POST", "PATCH", "DELETE"):
            prefer.append("return=representation")
        if rollback:
            prefer.append("tx=rollback")
        if prefer:
            headers["Prefer"] = ", ".join(prefer)
        return self.http.request(method, path, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def rpc(self, name: str, **args: Any) -> httpx.Response:
        body = {
            k: (
                v.isoformat()
                if isinstance(v, dt.datetime)
                else str(v)
                if isinstance(v, uuid.UUID)
                else v
            )
            for k, v in args.items()
        }
        return self.http.post(f"/rpc/{name}", json=body)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    return response.json()


def refused(response: httpx.Response, status: int, message: str) -> None:
    """The RPC answered `status` with a message starting with `message`."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.json()["message"].startswith(message), response.json()["message"]


def refusal(error: psycopg.Error) -> tuple[str, str] | None:
    """(code, message) of a refusal the rules raised (private.refuse: SQLSTATE PGRST with the
    JSON body PostgREST answers as its message), e.g. ("PT409", "that slot is taken"); None for
    any other error."""
    if error.sqlstate != "PGRST" or not error.diag.message_primary:
        return None
    body = json.loads(error.diag.message_primary)
    return str(body["code"]), str(body["message"])


def together(work: Callable[..., None], calls: list[tuple[Any, ...]], timeout: float = 60) -> None:
    """Run work(*call) for every call on its own thread, released at once by a barrier. A thread
    that fails (before or after the barrier) fails the caller with its exception; one that is
    still running after `timeout` seconds fails it too, instead of hanging the suite."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(*args: Any) -> None:
        try:
            work(barrier, *args)
        except BaseException as e:
            barrier.abort()
            with lock:
                errors.append(e)

    threads = [threading.Thread(target=run, args=c, daemon=True) for c in calls]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    hung = sum(t.is_alive() for t in threads)
    assert not hung, f"{hung} of {len(threads)} threads still running after {timeout} s"
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real or errors:
        raise (real or errors)[0]


def race(
    settings: Settings, rpc: str, calls: list[tuple[uuid.UUID | str, dict[str, Any]]]
) -> Counter[int]:
    """Fire every (user or bearer token, RPC arguments) at once, each on its own connection;
    the HTTP statuses counted."""
    statuses: list[int] = []
    unexpected: list[str] = []
    lock = threading.Lock()

    def call(barrier: threading.Barrier, who: uuid.UUID | str, body: dict[str, Any]) -> None:
        token = who if isinstance(who, str) else jwt.user_token(settings, who, None)
        headers = {"apikey": jwt.anon_key(settings), "Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=settings.rest_url, headers=headers, timeout=60) as client:
            barrier.wait()
            response = client.post(f"/rpc/{rpc}", json=body)
        with lock:
            statuses.append(response.status_code)
            if response.status_code not in (200, 409):
                unexpected.append(f"{response.status_code} {response.text}")

    together(call, list(calls))
    assert not unexpected, unexpected  # neither success nor a lost race: show why
    return Counter(statuses)
