"""`mentorships status` with the health figures and `mentorships logs`, as a user runs them: real
processes against the test stack (and a stack that does not run)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any

import httpx

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack


def env_for(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "MENTORSHIPS_STACK": settings.stack,
        "MENTORSHIPS_GATEWAY_PORT": str(settings.gateway_port),
        "MENTORSHIPS_DB_PORT": str(settings.db_port),
        "MENTORSHIPS_POSTGREST_PORT": str(settings.postgrest_port),
        "MENTORSHIPS_POSTGREST_ADMIN_PORT": str(settings.postgrest_admin_port),
        "MENTORSHIPS_SERVICES_PORT": str(settings.services_port),
        "MENTORSHIPS_PAYPAL_LOCAL_PORT": str(settings.paypal_local_port),
        "MENTORSHIPS_ALLOW_TX_ROLLBACK": "true",
        "MENTORSHIPS_EPHEMERAL": "true",
        "MENTORSHIPS_MESSAGES_WORKER": "false",
        "MENTORSHIPS_GCAL_WORKER": "false",
        "MENTORSHIPS_REPORTS_WORKER": "false",
        "MENTORSHIPS_DASHBOARDS": "false",
        "MENTORSHIPS_DASHBOARDS_PORT": str(settings.dashboards_port),
        "MENTORSHIPS_GOOGLE_LOCAL": "false",
        "TZ": "Europe/Berlin",
    }


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mentorships.cli", *args],
        capture_output=True,
        text=True,
        env=env_for(settings),
        timeout=120,
        check=False,
    )


def service_get(settings: Settings, path: str) -> httpx.Response:
    key = jwt.service_role_key(settings)
    return httpx.get(
        settings.rest_url + path, headers={"apikey": key, "Authorization": f"Bearer {key}"}
    )


def test_status_shows_the_health_figures(settings: Settings, stack: Stack) -> None:
    out = run(settings, "status", "--tz", "Asia/Tokyo")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "Asia/Tokyo (public.ops_health):" in text
    for label in ("outbox", "messages", "calendar sync", "calendar jobs", "reports", "webhooks"):
        assert any(line.startswith(f"  {label} ") for line in text.splitlines()), (label, text)
    # the components come first, the figures after them
    assert text.index("  postgres ") < text.index("health at ")

    machine = run(settings, "status", "--json")
    assert machine.returncode == 0, machine.stderr
    answer: dict[str, Any] = json.loads(machine.stdout)
    assert answer["healthy"] is True and answer["health_error"] is None
    assert set(answer["health"]) == {
        "at",
        "outbox",
        "messages",
        "calendar",
        "calendar_jobs",
        "reports",
        "webhooks",
    }
    assert answer["calendar_sync_interval_seconds"] == 300
    assert {c["name"] for c in answer["components"]} >= {"postgres", "gateway", "services"}


def test_status_says_the_database_is_down_and_still_shows_the_processes(
    settings: Settings,
) -> None:
    base = settings.gateway_port - 1 + 41  # PORT + 41..: ports of our own, nothing runs there
    down = settings.model_copy(
        update={
            "stack": "health-down",
            "gateway_port": base,
            "db_port": base + 1,
            "postgrest_port": base + 2,
            "postgrest_admin_port": base + 3,
            "services_port": base + 4,
            "paypal_local_port": base + 5,
            "dashboards_port": base + 6,
        }
    )
    out = run(down, "status")
    assert out.returncode == 1
    assert "health: unknown (the database is down)" in out.stdout
    for name in ("postgres", "postgrest", "gateway", "services"):
        line = next(x for x in out.stdout.splitlines() if x.strip().startswith(name))
        assert "stopped" in line, line
    machine = json.loads(run(down, "status", "--json").stdout)
    assert machine["health"] is None and machine["health_error"] == "the database is down"


def test_logs_merge_the_components_as_json_without_query_strings(
    settings: Settings, stack: Stack
) -> None:
    assert service_get(settings, "/mentors?select=id&apikey=query-secret-1").status_code == 200
    deadline = time.monotonic() + 20  # nginx flushes its access log every second
    while time.monotonic() < deadline:
        time.sleep(1)
        out = run(settings, "logs", "--no-follow", "-n", "100000", "--json")
        if '"/rest/v1/mentors"' in out.stdout:
            break
    assert out.returncode == 0, out.stderr
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    # The stack's logs are emptied when a run starts (testing.stacks.clear_logs): -n keeps the
    # newest of whatever is there.
    assert len(entries) > 20
    last = run(settings, "logs", "--no-follow", "-n", "20", "--json").stdout.splitlines()
    assert len(last) == 20
    assert json.loads(last[0])["ts"] >= entries[-20]["ts"]
    assert "query-secret-1" not in out.stdout
    for e in entries:
        assert {"ts", "level", "component", "logger", "msg"} <= set(e), e
    times = [e["ts"] for e in entries]
    assert times == sorted(times)
    assert {e["component"] for e in entries} >= {"gateway", "postgres"}
    mine = [e for e in entries if e.get("path") == "/rest/v1/mentors"]
    assert mine and mine[-1]["status"] == 200 and mine[-1]["method"] == "GET"

    postgres = run(settings, "logs", "postgres", "--no-follow", "-n", "5", "--json")
    lines = [json.loads(line) for line in postgres.stdout.splitlines()]
    assert lines and {e["component"] for e in lines} == {"postgres"}

    readable = run(settings, "logs", "gateway", "--no-follow", "-n", "3").stdout.splitlines()
    assert len(readable) == 3
    assert all(" CET gateway " in line for line in readable), readable


def test_logs_follow_new_lines(settings: Settings, stack: Stack) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mentorships.cli", "logs", "gateway", "-f", "-n", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(settings),
    )
    try:
        time.sleep(1.5)  # it has opened the files
        # an unknown filter: PostgREST's 400, logged like any request
        assert service_get(settings, "/mentors?select=id&x=eq.follow-1").status_code == 400
        assert proc.stdout is not None
        deadline = time.monotonic() + 15
        line = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = proc.stdout.readline()
            if '"/rest/v1/mentors"' in line:
                break
        entry = json.loads(line)
        assert (entry["component"], entry["path"], entry["status"]) == (
            "gateway",
            "/rest/v1/mentors",
            400,
        )
        assert "follow-1" not in line
    finally:
        proc.terminate()
        proc.wait(timeout=10)
