"""`mentorships reports build|docs` and the reports' schedule as a component of the stack
(mentorships/stack/reports_worker.py), on the test stack: the real dbt project built and recorded,
then every mart in analytics checked over HTTP for every actor; a failing build exits 1 showing
dbt's error; the docs site served where the command says; the schedule started, healthy, building
once, shown by `status` with the reports' "as of" in the reader's zone (named), and stopped."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from mentorships import jwt
from mentorships.info import reports_lines
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack import Stack
from mentorships.stack.reports_worker import ReportsWorker
from testing.api import Api
from testing.clock import Clock
from testing.reports import (
    NOBODY,
    PROFILE,
    READERS,
    check_contract,
    clear_runs,
    mart_like_post_hook,
    marts,
    served,
)
from testing.world import World, email

CLI = Path(sys.executable).parent / "mentorships"


def cli_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    env.update(
        {
            "MENTORSHIPS_STACK": settings.stack,
            "MENTORSHIPS_HOST": settings.host,
            "MENTORSHIPS_DB_PORT": str(settings.db_port),
            "MENTORSHIPS_DB_NAME": settings.db_name,
            "MENTORSHIPS_DB_PASSWORD": settings.db_password.get_secret_value(),
        }
    )
    return env


def reports(
    settings: Settings, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "reports", *args],
        env=cli_env(settings),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_run(conn: psycopg.Connection) -> tuple[object, ...]:
    row = conn.execute(
        "select id, outcome, trigger, error from public.report_runs order by id desc limit 1"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_reports_build_builds_the_project_and_every_actor_reads_every_mart_as_expected(
    settings: Settings, conn: psycopg.Connection, actors: dict[str, Api]
) -> None:
    done = reports(settings, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    run_id, outcome, trigger, error = last_run(conn)
    assert (outcome, trigger, error) == ("succeeded", "command", None)
    assert "Running with dbt=" in done.stdout  # dbt's own lines, streamed
    assert re.search(r"^dbt build succeeded: .* in [\d.]+ s$", done.stdout, re.M), done.stdout
    assert f"run #{run_id} succeeded" in done.stdout
    for mart in marts(conn):
        served(conn, actors["service"], mart)
        for actor in READERS:
            r = actors[actor].get(f"/{mart}?limit=1", headers=PROFILE)
            assert r.status_code == 200, f"{actor} {mart}: {r.text}"
        for actor in NOBODY:
            r = actors[actor].get(f"/{mart}", headers=PROFILE)
            assert (r.status_code, r.json()) == (200, []), f"{actor} {mart}"
        check_contract(actors["anon"].get(f"/{mart}", headers=PROFILE), 401, "42501")
        for actor in ("admin", "service"):
            r = actors[actor].request(
                "DELETE", f"/{mart}", headers={"Content-Profile": "analytics"}, rollback=True
            )
            check_contract(r, 403, "42501")
    # the issue's marts, all built; the README's three questions answer as the analyst
    assert set(marts(conn)) >= set(ISSUE_MARTS)
    analyst = settings.dsn("analyst", settings.analyst_password.get_secret_value())
    with psycopg.connect(analyst, autocommit=True) as c:
        for question in readme_questions():
            cur = c.execute(question)
            assert cur.description, question
            cur.fetchall()


ISSUE_MARTS = (
    "mentor_roster", "instructor_overview", "revenue_daily", "renewals",
    "seat_occupancy_daily", "session_outcomes", "promotion_performance", "message_delivery",
)  # fmt: skip


def readme_questions() -> list[str]:
    """The README's example SQL for analysts, one statement each."""
    text = (PROJECT_DIR / "README.md").read_text()
    start = text.index("```sql\n", text.index("Three questions, answered in SQL")) + len("```sql\n")
    block = text[start : text.index("```", start)]
    questions = [q.strip() for q in block.split(";") if q.strip()]
    assert len(questions) == 3, block
    return questions


def test_after_a_full_build_the_next_is_incremental_and_builds_the_tables_only(
    settings: Settings, conn: psycopg.Connection, clock: Clock
) -> None:
    clock.unfreeze()
    full = reports(settings, "build", "--full-refresh")
    assert full.returncode == 0, full.stdout + full.stderr
    assert re.search(r"^a full build \(run #\d+\)$", full.stdout, re.M), full.stdout
    done = reports(settings, "build")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^an incremental build \(run #\d+\)$", done.stdout, re.M), done.stdout
    row = conn.execute("select kind from public.report_runs order by id desc limit 1").fetchone()
    assert row == ("incremental",)
    results = json.loads(
        (ReportsWorker(settings).place.target_dir / "run_results.json").read_text()
    )
    built = {r["unique_id"] for r in results["results"]}
    models = {u.split(".")[-1] for u in built if u.startswith("model.")}
    assert models and not any(m.startswith(("stg_", "int_payments")) for m in models), models
    assert "mentor_roster" in models and "renewals" in models
    tests = [u.split(".")[2] for u in built if u.startswith("test.")]
    assert tests and not [
        t for t in tests if t.startswith(("unique_", "not_null_", "relationships_"))
    ]
    assert not [u for u in built if u.startswith("unit_test.")]


def test_a_failing_build_exits_1_showing_dbts_error_and_is_recorded(
    settings: Settings, conn: psycopg.Connection
) -> None:
    done = reports(settings, "build", "--threads", "many")
    assert done.returncode == 1
    run_id, outcome, trigger, error = last_run(conn)
    assert (outcome, trigger) == ("failed", "command")
    assert "many" in str(error)
    assert f"run #{run_id} failed" in done.stdout
    assert done.stderr.startswith("error: ")


@pytest.mark.parametrize("command", ["build", "docs"])
def test_help_answers(settings: Settings, command: str) -> None:
    done = reports(settings, command, "--help", timeout=60)
    assert done.returncode == 0
    assert ("dbt build" if command == "build" else "127.0.0.1:PORT") in done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_reports_docs_serves_the_docs_site_where_it_says(settings: Settings, stack: Stack) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(CLI), "reports", "docs", "--port", str(port)],
        env=cli_env(settings),
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/catalog.json", timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the docs site did not come up"
            time.sleep(0.5)
        assert "nodes" in r.json()
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert f"serving the reports' docs on http://127.0.0.1:{port}/" in out


@pytest.fixture
def schedule(settings: Settings, conn: psycopg.Connection, clock: Clock) -> Iterator[Stack]:
    stack = Stack(settings.model_copy(update={"reports_worker": True}))
    clear_runs(conn)
    clock.freeze(dt.datetime(2042, 7, 1, 10, 0, tzinfo=dt.UTC))
    try:
        yield stack
    finally:
        stack.reports.stop()
        clear_runs(conn)


def test_the_schedule_starts_builds_once_and_status_shows_as_of(
    schedule: Stack, conn: psycopg.Connection
) -> None:
    assert schedule.reports.start()
    assert schedule.reports.healthy()
    name = f"{schedule.settings.stack}-reports"
    deadline = time.monotonic() + 180
    while True:
        row = conn.execute(
            "select outcome, trigger from public.report_runs where claimed_by = %s"
            " and outcome <> 'running' order by id desc limit 1",
            (name,),
        ).fetchone()
        if row is not None:
            break
        assert time.monotonic() < deadline, schedule.reports.log.read_text()[-2000:]
        time.sleep(0.5)
    assert row == ("succeeded", "schedule")
    (line,) = schedule._reports_status(ZoneInfo("Asia/Tokyo"))
    assert line.healthy
    # 2042-07-01 10:00 UTC is 19:00 in Tokyo
    assert re.search(
        r"last run #\d+ \(schedule, (full|incremental)\) succeeded 2042-07-01 19:00;"
        r" reports as of 2042-07-01 19:00 Asia/Tokyo",
        line.detail,
    ), line.detail
    assert schedule.reports.stop()
    assert schedule.reports.pid() is None


def test_info_prints_the_analyst_login_and_a_curl_line_that_works(
    settings: Settings, conn: psycopg.Connection, actors: dict[str, Api], world: World
) -> None:
    mart_like_post_hook(conn, "aaa_info_probe")  # the first mart when the real ones are not there
    try:
        served(conn, actors["service"], "aaa_info_probe")
        lines = reports_lines(settings)
        pw = settings.analyst_password.get_secret_value()
        assert any(
            f"postgresql://analyst:{pw}@{settings.host}:{settings.db_port}/postgres" in line
            for line in lines
        )
        (curl,) = [line.strip() for line in lines if line.strip().startswith("curl ")]
        token = jwt.user_token(settings, world.uid("admin"), email("admin"))
        done = subprocess.run(
            ["bash", "-c", f"ADMIN={token}; {curl} -w '\\n%{{http_code}}'"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        body, status = done.stdout.rsplit("\n", 1)
        assert status == "200", done.stdout
        assert isinstance(json.loads(body), list)
    finally:
        conn.execute("drop table analytics.aaa_info_probe")


def test_a_build_refuses_while_another_runs_or_waits_for_it(
    settings: Settings, conn: psycopg.Connection
) -> None:
    row = conn.execute(
        "select private.claim_report_build('elsewhere', 'command', null, 600)"
    ).fetchone()
    assert row is not None and row[0] is not None
    other = int(row[0])
    try:
        refused = reports(settings, "build", timeout=120)
        assert refused.returncode == 1
        assert f"another build of the reports is running (run #{other} by elsewhere since" in (
            refused.stderr
        )
        waiting = subprocess.Popen(
            [str(CLI), "reports", "build", "--wait", "--select", "nothing_at_all"],
            env=cli_env(settings),
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert waiting.stdout is not None
        first = waiting.stdout.readline() + waiting.stdout.readline()
        assert f"waiting for run #{other} (command, by elsewhere) to end" in first
    finally:
        conn.execute(
            "select private.finish_report_build(%s, 'failed', 'stopped by the test')", (other,)
        )
    out, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, first + out
    assert "succeeded" in out
    _, outcome, _, _ = last_run(conn)
    assert outcome == "succeeded"
    row = conn.execute(
        "select selector from public.report_runs order by id desc limit 1"
    ).fetchone()
    assert row == ("nothing_at_all",)
