"""The reports' schedule (sync/reports/worker.py) against the test stack: a due build runs real dbt
on a throwaway copy of the project with a mart of the test's own (the real post-hook and contract)
and is recorded with its rows; the next poll finds nothing due; a failing build is recorded
failed with dbt's error; the worker refuses to start without its database. The clock is frozen in
2041, with no run but the test world's (2031) before each test."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mentorships.settings import Settings
from sync.reports.settings import load
from sync.reports.worker import Scheduler
from testing.clock import Clock
from testing.reports import clear_runs, probe_project

NOW = dt.datetime(2041, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture
def frozen(conn: psycopg.Connection, clock: Clock) -> Iterator[Clock]:
    clear_runs(conn)
    clock.freeze(NOW)
    try:
        yield clock
    finally:
        clear_runs(conn)
        conn.execute("drop table if exists analytics.worker_probe, analytics.worker_broken")


def scheduler(settings: Settings, project: Path, status: Path | None = None) -> Scheduler:
    place = probe_project(project, "worker_probe")
    return Scheduler(
        load(
            reports_database_url=settings.dsn(),
            reports_project_dir=place.project_dir,
            reports_target_dir=place.target_dir,
            reports_log_dir=place.log_dir,
            reports_status_file=status,
        ),
        worker_name="test-reports",
    )


def test_a_due_build_runs_and_is_recorded_with_its_rows(
    settings: Settings, conn: psycopg.Connection, frozen: Clock, tmp_path: Path
) -> None:
    status = tmp_path / "status.json"
    worker = scheduler(settings, tmp_path / "p", status)
    run = worker.tick()
    assert run is not None
    assert (run.outcome, run.trigger, run.claimed_by, run.error) == (
        "succeeded",
        "schedule",
        "test-reports",
        None,
    )
    assert run.rows_per_mart is not None and run.rows_per_mart["worker_probe"] == 2
    assert run.dbt_version and run.dbt_version.startswith("1.11")
    assert (run.started_at, run.finished_at) == (NOW, NOW)
    # the post-hook ran: RLS on, the two policies
    policies = conn.execute(
        "select policyname from pg_policies where schemaname = 'analytics' and tablename = 'worker_probe' order by 1"
    ).fetchall()
    assert policies == [("admins read the report",), ("analysts read the report",)]
    assert worker.tick() is None  # not due again within the hour
    frozen.advance(dt.timedelta(hours=1))
    again = worker.tick()
    assert again is not None and again.outcome == "succeeded"
    worker.write_status()
    health = json.loads(status.read_text())
    assert (health["pid"], health["succeeded"], health["failed"], health["last_run_id"]) == (
        os.getpid(),
        2,
        0,
        again.id,
    )


def test_a_failing_build_is_recorded_failed_with_dbts_error(
    settings: Settings, conn: psycopg.Connection, frozen: Clock, tmp_path: Path
) -> None:
    place = probe_project(tmp_path / "p", "worker_broken", "select 1 / 0 as id, 'x'::text as label")
    worker = Scheduler(
        load(
            reports_database_url=settings.dsn(),
            reports_project_dir=place.project_dir,
            reports_target_dir=place.target_dir,
            reports_log_dir=place.log_dir,
        )
    )
    run = worker.tick()
    assert run is not None
    assert run.outcome == "failed"
    assert run.error is not None
    assert "model.mentorships.worker_broken" in run.error
    assert "division by zero" in run.error
    assert worker.totals.failed == 1


def test_the_worker_refuses_to_start_without_its_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "sync.reports"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 78
    assert "MENTORSHIPS_REPORTS_DATABASE_URL is not set" in proc.stderr + proc.stdout
