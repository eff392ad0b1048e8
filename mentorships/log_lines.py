"""One log line of any component in the common JSON shape (`ts`, `level`, `component`,
`logger`, `msg`, `request_id`, and for a request `method`, `path`, `status`, `duration_ms`,
`client`), for `mentorships logs`.

Most components already write that shape (the Python services and workers through sync/logs.py,
Postgres with log_destination = 'jsonlog', the gateway once its access log is JSON). The others
are converted here, at read time: PostgREST 12 (it cannot write JSON; its lines are
`03/Dec/2026:18:53:30 +0000: Schema cache loaded`), nginx's `combined` access log and its error
log, and Streamlit's plain lines. A query string never survives the conversion (it can carry
keys), nor does Postgres's `statement` (it can carry literals)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

Entry = dict[str, Any]

# Postgres's severities -> the common levels.
PG_LEVELS = {
    "DEBUG1": "debug",
    "DEBUG2": "debug",
    "DEBUG3": "debug",
    "DEBUG4": "debug",
    "DEBUG5": "debug",
    "LOG": "info",
    "INFO": "info",
    "NOTICE": "info",
    "WARNING": "warning",
    "ERROR": "error",
    "FATAL": "critical",
    "PANIC": "critical",
}
# jsonlog fields kept besides the common ones (not statement, query or internal_query).
PG_KEPT = (
    "pid",
    "user",
    "dbname",
    "application_name",
    "backend_type",
    "state_code",
    "detail",
    "hint",
    "context",
)
COMBINED = re.compile(
    r'^(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<target>\S+)[^"]*" '
    r"(?P<status>\d{3}) \S+"
)
NGINX_ERROR = re.compile(
    r"^(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(?P<level>\w+)\] (?P<msg>.*)$"
)
POSTGREST = re.compile(r"^(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}): (?P<msg>.*)$")
QUERY = re.compile(r"\?[^\s\"]*")
NGINX_LEVELS = {"emerg": "critical", "alert": "critical", "crit": "critical", "warn": "warning"}


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def without_query(path: str) -> str:
    return path.split("?", 1)[0]


def parse(component: str, line: str) -> Entry | None:
    """The line as a common entry (`ts` None when the line has no time); None for a blank one."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return None
    if text.startswith("{"):
        try:
            found = json.loads(text)
        except ValueError:
            found = None
        if isinstance(found, dict):
            return _from_json(component, found)
    if component == "gateway":
        return _from_nginx(text)
    if component == "postgrest":
        m = POSTGREST.match(text)
        if m:
            moment = dt.datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z")
            msg = m["msg"]
            level = "error" if re.search(r"(?i)\b(error|failed|fatal)\b", msg) else "info"
            return _entry(component, _iso(moment), level, "postgrest", msg)
    # A line that is not JSON from a Python component is stderr noise (a traceback, a warning).
    python = component in ("services", "dispatcher", "gcal-worker", "reports-worker")
    return _entry(component, None, "warning" if python else "info", component, QUERY.sub("", text))


def _entry(component: str, ts: str | None, level: str, logger: str, msg: str) -> Entry:
    return {"ts": ts, "level": level, "component": component, "logger": logger, "msg": msg}


def _from_json(component: str, found: dict[str, Any]) -> Entry:
    if "error_severity" in found and "message" in found:  # Postgres's jsonlog
        moment = dt.datetime.strptime(found["timestamp"], "%Y-%m-%d %H:%M:%S.%f %Z")
        entry = _entry(
            "postgres",
            _iso(moment.replace(tzinfo=dt.UTC)),
            PG_LEVELS.get(str(found["error_severity"]), "info"),
            str(found.get("backend_type") or "postgres"),
            str(found["message"]),
        )
        entry.update({k: found[k] for k in PG_KEPT if k in found})
        return entry
    entry = dict(found)
    entry.setdefault("component", component)
    entry.setdefault("level", "info")
    entry.setdefault("logger", component)
    entry["msg"] = str(entry.get("msg", entry.get("message", "")))
    if isinstance(entry.get("path"), str):
        entry["path"] = without_query(entry["path"])
    ts = entry.get("ts")
    entry["ts"] = _normal_ts(ts) if isinstance(ts, str) else None
    return entry


def _normal_ts(ts: str) -> str | None:
    try:
        moment = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _iso(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


def _from_nginx(text: str) -> Entry:
    m = COMBINED.match(text)
    if m:
        moment = dt.datetime.strptime(m["time"], "%d/%b/%Y:%H:%M:%S %z")
        status = int(m["status"])
        path = without_query(m["target"])
        level = "error" if status >= 500 else "warning" if status >= 400 else "info"
        entry = _entry("gateway", _iso(moment), level, "nginx.access", f"{m['method']} {path}")
        entry.update(method=m["method"], path=path, status=status, client=m["client"])
        return entry
    m = NGINX_ERROR.match(text)
    if m:
        # nginx's error log is in the machine's zone; the stack's machines run in UTC.
        moment = dt.datetime.strptime(m["time"], "%Y/%m/%d %H:%M:%S").replace(tzinfo=dt.UTC)
        level = NGINX_LEVELS.get(m["level"], m["level"])
        return _entry("gateway", _iso(moment), level, "nginx.error", QUERY.sub("", m["msg"]))
    return _entry("gateway", None, "info", "nginx", QUERY.sub("", text))


def readable(entry: Entry, zone: dt.tzinfo) -> str:
    """One line for people: time in `zone` (named), component, level, request id, message."""
    ts = entry.get("ts")
    when = (
        dt.datetime.fromisoformat(ts).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        + " "
        + (dt.datetime.fromisoformat(ts).astimezone(zone).tzname() or "")
        if ts
        else "-"
    )
    request = entry.get("request_id") or "-"
    msg = str(entry.get("msg", ""))
    if entry.get("status") is not None and entry.get("method"):
        duration = entry.get("duration_ms")
        msg = f"{entry['method']} {entry.get('path', '')} {entry['status']}" + (
            f" {duration} ms" if duration is not None else ""
        )
    return (
        f"{when} {entry.get('component', '-'):<14} {entry.get('level', '-'):<8} "
        f"{request:<20} {' '.join(msg.split())}"
    )
