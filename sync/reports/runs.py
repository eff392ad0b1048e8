"""One recorded build of the reports: claimed (private.claim_report_build), built (dbt.py),
finished (private.finish_report_build), over a direct connection, the one dbt uses too. The
rules decide whether a build is due and that only one runs at a time (sql/rules/reports.sql)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from sync.reports import dbt


@dataclass(frozen=True)
class Run:
    """A row of public.report_runs."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    trigger: str
    selector: str | None
    error: str | None
    rows_per_mart: dict[str, int] | None
    dbt_version: str | None
    claimed_by: str
    kind: str
    project_checksum: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Run:
        return cls(**{f: row[f] for f in cls.__dataclass_fields__})


def _connect(database_url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(database_url, autocommit=True, connect_timeout=10, row_factory=dict_row)


def claim(
    database_url: str,
    worker: str,
    trigger: str,
    selector: str | None,
    lease_seconds: int,
    *,
    project_checksum: str | None = None,
    full_refresh: bool = False,
) -> tuple[int, str] | None:
    """A new run's id and kind (full, incremental or selected: the rules decide), or None when
    a run is live or (schedule) none is due."""
    with _connect(database_url) as conn:
        row = conn.execute(
            "select private.claim_report_build(%s, %s, %s, %s, %s, %s) as id",
            (worker, trigger, selector, lease_seconds, project_checksum, full_refresh),
        ).fetchone()
        if row is None or row["id"] is None:
            return None
        kind = conn.execute(
            "select kind from public.report_runs where id = %s", (row["id"],)
        ).fetchone()
    assert kind is not None
    return int(row["id"]), str(kind["kind"])


def finish(database_url: str, run_id: int, result: dbt.Build) -> Run:
    """Ends the run with dbt's outcome; the rules count the rows of every mart."""
    with _connect(database_url) as conn:
        row = conn.execute(
            "select * from private.finish_report_build(%s, %s, %s, %s)",
            (run_id, "succeeded" if result.ok else "failed", result.error(), result.dbt_version),
        ).fetchone()
    assert row is not None
    return Run.of(row)


def live(database_url: str) -> Run | None:
    """The run in progress, if any."""
    with _connect(database_url) as conn:
        row = conn.execute("select * from public.report_runs where outcome = 'running'").fetchone()
    return None if row is None else Run.of(row)


def latest(database_url: str) -> tuple[Run | None, Run | None]:
    """The newest run of any outcome, and the newest succeeded one (the reports' "as of")."""
    with _connect(database_url) as conn:
        last = conn.execute("select * from public.report_runs order by id desc limit 1").fetchone()
        ok = conn.execute(
            "select * from public.report_runs where outcome = 'succeeded'"
            " order by finished_at desc limit 1"
        ).fetchone()
    return (None if last is None else Run.of(last)), (None if ok is None else Run.of(ok))


def selector_of(args: Sequence[str]) -> str | None:
    """The --select/-s/-m values among dbt's arguments, as recorded with the run."""
    picked: list[str] = []
    taking = False
    for arg in args:
        if arg in ("--select", "-s", "--models", "-m", "--model"):
            taking = True
            continue
        if arg.startswith("--select="):
            picked.append(arg.split("=", 1)[1])
            taking = False
            continue
        if arg.startswith("-"):
            taking = False
        elif taking:
            picked.append(arg)
    return " ".join(picked) or None


KIND_TEXT = {
    "full": "a full build",
    "incremental": "an incremental build",
    "selected": "a build of the selected models",
}


def build_once(
    database_url: str,
    *,
    worker: str,
    trigger: str,
    args: Sequence[str] = (),
    lease_seconds: int = 3600,
    place: dbt.Place | None = None,
    on_line: Callable[[str], None] = lambda line: None,
) -> tuple[Run, dbt.Build] | None:
    """Claims a run, builds, finishes it: the recorded run and dbt's result, or None when the
    rules gave no run (one is live, or a scheduled build is not due). What is built is the run's
    kind (dbt.KIND_ARGS) and then `args`; `--full-refresh` among them asks for a full build."""
    place = place or dbt.Place()
    asked_full = "--full-refresh" in args
    claimed = claim(
        database_url,
        worker,
        trigger,
        selector_of(args),
        lease_seconds,
        project_checksum=dbt.project_checksum(place),
        full_refresh=asked_full,
    )
    if claimed is None:
        return None
    run_id, kind = claimed
    own = [a for a in args if a != "--full-refresh"] if kind == "full" else list(args)
    on_line(f"{KIND_TEXT[kind]} (run #{run_id})")
    try:
        result = dbt.build(database_url, [*dbt.KIND_ARGS[kind], *own], place=place, on_line=on_line)
    except Exception as e:  # dbt missing or killed: the run still ends, as failed
        result = dbt.Build(ok=False, seconds=0.0, errors=[f"{type(e).__name__}: {e}"])
        finish(database_url, run_id, result)
        raise
    return finish(database_url, run_id, result), result
