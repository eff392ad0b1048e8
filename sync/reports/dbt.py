"""Running dbt (`dbt build`, `dbt docs ...`) against one database: the connection from a Postgres
URL (dbt/profiles.yml reads DBT_PG*), dbt's own lines streamed, then what its run_results.json
says: nodes by kind, seconds, the version, and the errors of the nodes that failed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent / "dbt"
DBT_BIN = Path(sys.executable).parent / "dbt"
ERROR_LINES = 20  # dbt's last lines kept as the error when it failed before its results


@dataclass(frozen=True)
class Place:
    """Which dbt, which project, and where its target/ and logs/ go."""

    dbt_bin: Path = DBT_BIN
    project_dir: Path = PROJECT_DIR
    target_dir: Path = PROJECT_DIR / "target"
    log_dir: Path = PROJECT_DIR / "logs"


@dataclass
class Build:
    """What one `dbt build` did."""

    ok: bool
    seconds: float
    counts: Counter[str] = field(default_factory=Counter)  # model, test, unit_test, seed, ...
    errors: list[str] = field(default_factory=list)
    dbt_version: str | None = None

    def summary(self) -> str:
        kinds = ", ".join(
            f"{n} {kind.replace('_', ' ')}(s)" for kind, n in sorted(self.counts.items())
        )
        state = "succeeded" if self.ok else "FAILED"
        return f"dbt build {state}: {kinds or 'nothing selected'} in {self.seconds:.1f} s"

    def error(self) -> str | None:
        return "\n".join(self.errors)[:2000] if self.errors else None


def environment(database_url: str, place: Place) -> dict[str, str]:
    """The process environment dbt runs with: the connection as DBT_PG*, no usage stats, no
    version check, tests of what is built (indirect selection `buildable`), target/ and logs/
    where `place` says."""
    parts = conninfo_to_dict(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env.update(
        {
            "DBT_PGHOST": str(parts.get("host") or "127.0.0.1"),
            "DBT_PGPORT": str(parts.get("port") or 5432),
            "DBT_PGUSER": str(parts.get("user") or "postgres"),
            "DBT_PGPASSWORD": str(parts.get("password") or ""),
            "DBT_PGDATABASE": str(parts.get("dbname") or "postgres"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
            # A test runs only when everything it reads is selected or built before: `--select
            # +mentor_roster` does not run a relationships test of a model it does not build.
            "DBT_INDIRECT_SELECTION": os.environ.get("DBT_INDIRECT_SELECTION", "buildable"),
            # No JIT: the planner's estimates for the incremental builds' CTEs are large, and
            # compiling their plans (1 to 2 s a model, measured at 1M sessions) cost more than
            # running them; the full build runs as fast without it (bench/README.md).
            "PGOPTIONS": " ".join(filter(None, [os.environ.get("PGOPTIONS", ""), "-c jit=off"])),
            "DBT_TARGET_PATH": str(place.target_dir),
            "DBT_LOG_PATH": str(place.log_dir),
        }
    )
    return env


# What each kind of run (sql/rules/reports.sql decides it at the claim) adds to `dbt build`.
# Incremental: the tables only, not the views (the staging views and the intermediate ones: the
# same as the last full build's of this project), nor the tests that read a view (they re-check
# the app tables' own keys and foreign keys over every row: `cautious` keeps only the tests whose
# every parent is built), nor the tables' unique and not_null tests (every one of them is also a
# constraint of the table's enforced contract, which the database checks on every write:
# tests/reports/test_dbt_project.py holds the project to that), nor the unit tests (fixtures, not
# data: they change with the project only). The tables' other tests (accepted values, keys of
# several columns) run.
KIND_ARGS: dict[str, tuple[str, ...]] = {
    "full": ("--full-refresh",),
    "incremental": (
        "--select",
        "config.materialized:table",
        "config.materialized:incremental",
        "--exclude",
        "test_name:unique",
        "test_name:not_null",
        "--exclude-resource-type",
        "unit_test",
        "--indirect-selection",
        "cautious",
    ),
    "selected": (),
}


def project_checksum(place: Place) -> str:
    """A digest of the dbt project's files (models, macros, tests, its yml) and the dbt version:
    a build of another checksum than the last full build's is a full one."""
    digest = hashlib.sha256()
    for path in sorted(place.project_dir.rglob("*")):
        rel = path.relative_to(place.project_dir)
        if not path.is_file() or rel.parts[0] in ("target", "logs", "dbt_packages"):
            continue
        if path.suffix not in (".sql", ".yml", ".yaml", ".md", ".csv"):
            continue
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(installed_version().encode())
    return digest.hexdigest()[:32]


def installed_version() -> str:
    """dbt-core's version, as installed beside this Python."""
    try:
        return version("dbt-core")
    except PackageNotFoundError:
        return "none"


def command(place: Place, *args: str) -> list[str]:
    return [
        str(place.dbt_bin),
        *args,
        "--project-dir",
        str(place.project_dir),
        "--profiles-dir",
        str(place.project_dir),
    ]


def build(
    database_url: str,
    args: Sequence[str] = (),
    *,
    place: Place | None = None,
    on_line: Callable[[str], None] = lambda line: None,
) -> Build:
    """`dbt build [args]`: each of dbt's lines to `on_line` as it comes, then the result."""
    place = place or Place()
    results = place.target_dir / "run_results.json"
    results.unlink(missing_ok=True)
    started = time.monotonic()
    tail: list[str] = []
    with subprocess.Popen(
        command(place, "build", "--no-use-colors", *args),
        env=environment(database_url, place),
        cwd=place.project_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            on_line(line)
            tail = [*tail[-(ERROR_LINES - 1) :], line]
        code = proc.wait()
    result = Build(ok=code == 0, seconds=time.monotonic() - started)
    if results.exists():
        _read_results(result, json.loads(results.read_text()))
    if not result.ok and not result.errors:
        result.errors = [line for line in tail if line.strip()] or [f"dbt exited with {code}"]
    return result


def _read_results(result: Build, data: dict[str, object]) -> None:
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        result.dbt_version = str(metadata.get("dbt_version") or "") or None
    for node in data.get("results") or []:  # type: ignore[attr-defined]
        unique_id = str(node.get("unique_id", ""))
        result.counts[unique_id.split(".", 1)[0]] += 1
        if node.get("status") in ("error", "fail", "runtime error"):
            message = " ".join(str(node.get("message") or node.get("status")).split())
            result.errors.append(f"{unique_id}: {message}")
