"""The platform's health figures for `mentorships status`: public.ops_health (sql/rules/
ops_health.sql) read through the gateway with the stack's service-role key, and the lines that
show them (ages in words, instants in the reader's zone, named)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from mentorships import jwt
from mentorships.settings import Settings


@dataclass(frozen=True)
class Health:
    """ops_health's answer (figures), or why there is none (error)."""

    figures: dict[str, Any] | None
    sync_interval_seconds: int | None = None
    error: str = ""


def read_health(settings: Settings, timeout: float = 5) -> Health:
    """ops_health and the calendar sync interval, through the gateway as the service role."""
    key = jwt.service_role_key(settings)
    headers = {"apikey": key, "Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=settings.rest_url, headers=headers, timeout=timeout) as http:
            answer = http.post("/rpc/ops_health", json={})
            if answer.status_code != 200:
                return Health(None, error=_refusal(answer))
            interval = http.get(
                "/platform_settings", params={"select": "calendar_sync_interval_seconds"}
            )
    except httpx.HTTPError as e:
        return Health(None, error=f"the gateway did not answer ({type(e).__name__})")
    rows = interval.json() if interval.status_code == 200 else []
    seconds = rows[0].get("calendar_sync_interval_seconds") if rows else None
    return Health(answer.json(), int(seconds) if seconds is not None else None)


def _refusal(answer: httpx.Response) -> str:
    try:
        message = str(answer.json().get("message", ""))
    except ValueError:
        message = answer.text[:200]
    return f"ops_health answered {answer.status_code}: {message}".rstrip(": ")


def age(seconds: float | None) -> str:
    """12.5 -> '12.5 s', 330 -> '5 min 30 s', 7380 -> '2 h 3 min', 200000 -> '2 d 7 h'."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = int(seconds)
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _counts(rows: list[dict[str, Any]], group: str, what: str) -> str:
    """[{channel: email, status: sent, count: 3}, ...] -> 'email: 3 sent, 1 pending; discord: ...'."""
    by: dict[str, list[str]] = {}
    for r in rows:
        by.setdefault(str(r[group]), []).append(f"{r['count']} {r[what]}")
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in by.items()) or "none"


def lagging(figures: dict[str, Any], interval: int | None) -> list[dict[str, Any]]:
    """The connected mentors whose lag exceeds the sync interval, or who never synced."""
    return [
        c
        for c in figures["calendar"]
        if c["lag_seconds"] is None or (interval is not None and c["lag_seconds"] > interval)
    ]


def describe(health: Health, zone: ZoneInfo) -> list[str]:
    """The figures as `status` shows them, one line each."""
    f = health.figures
    if f is None:
        return [f"health: unknown ({health.error})"]
    at = dt.datetime.fromisoformat(f["at"]).astimezone(zone)
    o, j, r = f["outbox"], f["calendar_jobs"], f["reports"]
    lines = [f"health at {at:%Y-%m-%d %H:%M:%S} {zone.key} (public.ops_health):"]
    lines.append(
        f"  outbox         {o['pending']} pending, {o['due']} due (oldest waiting "
        f"{age(o['oldest_due_age_seconds'])}); {o['failed']} failed, {o['sent']} sent"
    )
    lines.append(f"  messages       {_counts(f['messages'], 'channel', 'status')}")
    calendar = f["calendar"]
    if calendar:
        lags = [c["lag_seconds"] for c in calendar if c["lag_seconds"] is not None]
        never = len(calendar) - len(lags)
        interval = health.sync_interval_seconds
        behind = len(lagging(f, interval))
        lines.append(
            f"  calendar sync  {len(calendar)} connected mentor(s): worst lag "
            f"{age(max(lags)) if lags else '-'}"
            + (f"; {never} never synced" if never else "")
            + f"; {behind} behind the sync interval"
            + (f" ({age(interval)})" if interval is not None else "")
        )
    else:
        lines.append("  calendar sync  no connected mentor")
    lines.append(
        f"  calendar jobs  {j['pending']} pending, {j['due']} due (oldest waiting "
        f"{age(j['oldest_due_age_seconds'])}); {j['failed']} gave up"
    )
    if r["last_succeeded_at"]:
        built = dt.datetime.fromisoformat(r["last_succeeded_at"]).astimezone(zone)
        report = f"last built {built:%Y-%m-%d %H:%M} {zone.key} ({age(r['age_seconds'])} ago)"
    else:
        report = "never built"
    lines.append(f"  reports        {report}{'; a build is running' if r['running'] else ''}")
    lines.append(f"  webhooks       {_counts(f['webhooks'], 'provider', 'status')}")
    return lines
