"""Each process of sync/ names its component in every log line: started with no settings at all
(an empty folder, no MENTORSHIPS_* variable), each refuses to start (exit 78) in JSON lines of
the common fields with its own component."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("module", "component"),
    [
        ("sync", "services"),
        ("sync.messaging", "dispatcher"),
        ("sync.gcal", "gcal-worker"),
        ("sync.reports", "reports-worker"),
    ],
)
def test_each_process_logs_its_component(module: str, component: str, tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORSHIPS_", "OTEL_", "DBT_", "PG"))
    }
    env["PYTHONPATH"] = str(PROJECT)  # this checkout's sync/, from a folder without a .env
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 78, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines, done.stderr
    for line in lines:
        assert {"ts", "level", "component", "logger", "msg"} <= set(line), line
        assert line["component"] == component
    assert lines[-1]["msg"].startswith("refusing to start")
