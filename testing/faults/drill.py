"""The backup and restore drill (scripts/backup-drill.sh, tests_faults/test_backup_drill.py): a
stack of its own seeded with the demo's data (`mentorships seed`'s play), its roles
(`pg_dumpall --roles-only`) and database (`pg_dump -Fc`) dumped, both restored into a fresh
cluster on another port (the stack's Postgres class, another stack name), `db apply` run on top;
then the invariants (testing/invariants.py) hold there and every table has the rows it had."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg

from mentorships import db
from mentorships.settings import Settings
from mentorships.stack import Postgres, Stack
from mentorships.stack.common import PG_BIN
from testing import invariants
from testing.faults.stack import port_base
from testing.stacks import _FixedSettings

# Every table of the platform's and pg_cron's schedule; not pg_cron's run history
# (cron.job_run_details), which each cluster writes for itself as its jobs run, between the dump
# and the count on one side and between the restore and the count on the other.
TABLES = """select format('%I.%I', n.nspname, c.relname) from pg_class c
              join pg_namespace n on n.oid = c.relnamespace
             where c.relkind in ('r', 'p') and n.nspname in ('public', 'private', 'auth', 'cron')
               and (n.nspname, c.relname) <> ('cron', 'job_run_details')
             order by 1"""


def drill_settings(base: int | None = None) -> Settings:
    """The drill's source stack (`drill-<base>`, ports base+50..59): local Google and PayPal
    modes as the demo, no worker (the seed plays at a frozen clock)."""
    base = base or port_base()
    return _FixedSettings(
        stack=f"drill-{base}",
        gateway_port=base + 51,
        db_port=base + 52,
        postgrest_port=base + 55,
        postgrest_admin_port=base + 56,
        paypal_local_port=base + 57,
        google_local_port=base + 58,
        services_port=base + 59,
        dashboards_port=base + 54,
        ephemeral=True,
        messages_worker=False,
        gcal_worker=False,
        reports_worker=False,
        dashboards=False,
    )


def restore_settings(source: Settings) -> Settings:
    """The fresh cluster the dump goes into: another stack name, the next port."""
    return source.model_copy(
        update={"stack": f"{source.stack}-restore", "db_port": source.db_port + 10}
    )


@dataclass
class Drill:
    seeded: dict[str, int]  # what the seed reported
    dump_bytes: int
    seconds: dict[str, float]  # seed, dump, restore, apply
    source_rows: dict[str, int]
    restored_rows: dict[str, int]
    broken: dict[str, int]  # invariants broken in the restored database

    def differences(self) -> dict[str, tuple[int, int]]:
        names = set(self.source_rows) | set(self.restored_rows)
        return {
            n: (self.source_rows.get(n, -1), self.restored_rows.get(n, -1))
            for n in sorted(names)
            if self.source_rows.get(n) != self.restored_rows.get(n)
        }


def row_counts(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.dsn(), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(TABLES)]
        out = {}
        for t in tables:
            row = conn.execute(f"select count(*) from {t}").fetchone()
            out[t] = int(row[0]) if row else -1
        return out


def _run(cmd: list[str], settings: Settings, what: str) -> bytes:
    env = {"PGPASSWORD": settings.db_password.get_secret_value(), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}):\n{proc.stderr.decode()[-3000:]}"
        )
    return proc.stdout


def _conn_args(s: Settings) -> list[str]:
    return ["-h", s.host, "-p", str(s.db_port), "-U", "postgres"]


@contextlib.contextmanager
def source_stack(settings: Settings) -> Iterator[Stack]:
    """The source stack started on an empty database, as `make demo` starts it; stopped after."""
    stack = Stack(settings)
    try:
        for _ in stack.stop():
            pass
        stack.postgres.start()
        db.reset(settings)
        db.apply(settings)
        stack.postgrest.start()
        stack.gateway.start()
        stack.google.start()
        stack.services.start()
        yield stack
    finally:
        for _ in stack.stop():
            pass


def run(base: int | None = None, progress: Callable[[str], None] = print) -> Drill:
    from demo.play import run as seed

    source = drill_settings(base)
    target = restore_settings(source)
    seconds: dict[str, float] = {}
    with source_stack(source) as stack:
        t = time.monotonic()
        seeded = seed(source, scale=1, random_seed=20261121, progress=progress)
        seconds["seed"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        roles = _run(
            [str(PG_BIN / "pg_dumpall"), *_conn_args(source), "--roles-only"], source, "pg_dumpall"
        )
        dump = stack.postgres.p.state / "drill.dump"
        dump.parent.mkdir(parents=True, exist_ok=True)
        _run(
            [str(PG_BIN / "pg_dump"), *_conn_args(source), "-Fc", "-f", str(dump), source.db_name],
            source,
            "pg_dump",
        )
        seconds["dump"] = round(time.monotonic() - t, 1)
        source_rows = row_counts(source)
    fresh = Postgres(target)
    try:
        fresh.destroy()  # a fresh cluster: nothing of an earlier drill
        fresh.start()
        t = time.monotonic()
        # every role but the cluster's own superuser, which the fresh cluster has already
        script = dump.with_name("drill-roles.sql")
        script.write_text(
            "".join(
                line
                for line in roles.decode().splitlines(keepends=True)
                if line.strip() != "CREATE ROLE postgres;"
            )
        )
        script.chmod(0o644)  # psql runs as postgres
        db.psql(target, "-f", str(script), what="restoring the roles", single_transaction=False)
        _run(
            [
                str(PG_BIN / "pg_restore"),
                *_conn_args(target),
                "-d",
                target.db_name,
                "--exit-on-error",
                str(dump),
            ],
            target,
            "pg_restore",
        )
        seconds["restore"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        db.apply(target)
        seconds["apply"] = round(time.monotonic() - t, 1)
        restored_rows = row_counts(target)
        with psycopg.connect(target.dsn(), autocommit=True) as conn:
            broken = invariants.broken(invariants.check(conn))
    finally:
        fresh.destroy()
    return Drill(seeded, dump.stat().st_size, seconds, source_rows, restored_rows, broken)
