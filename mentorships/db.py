"""Applying the SQL: migrations in order (recorded as the Supabase CLI records them), then the
desired-state files in sql/rules/ and sql/rls/; resetting; bundling for `supabase db push`."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings

MIGRATIONS_DIR = PROJECT_DIR / "supabase" / "migrations"
RULES_DIR = PROJECT_DIR / "sql" / "rules"
RLS_DIR = PROJECT_DIR / "sql" / "rls"
LOCAL_SHIM = PROJECT_DIR / "sql" / "local" / "auth_shim.sql"
# pgTAP helpers (tests.*), installed on test databases only.
TEST_HELPERS_DIR = PROJECT_DIR / "tests" / "sql" / "helpers"
MIGRATION_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")

MIGRATIONS_TABLE = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text primary key,
  statements text[],
  name text
);
"""


@contextmanager
def connect(settings: Settings, *, autocommit: bool = True) -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(settings.dsn(), autocommit=autocommit, connect_timeout=5)
    except psycopg.OperationalError as e:
        raise StackError(
            f"cannot connect to PostgreSQL at {settings.host}:{settings.db_port} ({e}). "
            "Is the stack up? Run `mentorships up`."
        ) from e
    with conn:
        yield conn


def psql(
    settings: Settings,
    *args: str,
    what: str,
    variables: dict[str, str] | None = None,
    single_transaction: bool = True,
) -> str:
    """Run psql with ON_ERROR_STOP; args are -f FILE / -c SQL pairs. Errors keep psql's
    file:line prefix, which is what a person needs to find the statement."""
    cmd = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        settings.host,
        "-p",
        str(settings.db_port),
        "-U",
        "postgres",
        "-d",
        settings.db_name,
    ]
    for k, v in (variables or {}).items():
        cmd += ["-v", f"{k}={v}"]
    if single_transaction:
        cmd.append("-1")
    cmd += list(args)
    env = {
        **os.environ,
        "PGPASSWORD": settings.db_password.get_secret_value(),
        "PGOPTIONS": "-c client_min_messages=warning",
        "PGCONNECT_TIMEOUT": "5",
    }
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, check=False, timeout=600
        )
    except FileNotFoundError as e:
        raise StackError("psql is not installed; run `make setup`") from e
    if proc.returncode != 0:
        raise StackError(f"{what} failed:\n{proc.stderr.strip()}")
    return proc.stdout


def migrations() -> list[tuple[str, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = MIGRATION_NAME.match(path.name)
        if not m:
            raise StackError(
                f"supabase/migrations/{path.name}: a migration is named YYYYMMDDHHMMSS_short_name.sql "
                "(lowercase letters, digits, underscores)"
            )
        found.append((m["version"], m["name"], path))
    return found


def desired_state_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.sql")) + sorted(RLS_DIR.glob("*.sql"))


def apply_shim(settings: Settings) -> None:
    psql(
        settings,
        "-f",
        str(LOCAL_SHIM),
        what="local auth shim (sql/local/auth_shim.sql)",
        variables={"authenticator_password": settings.db_password.get_secret_value()},
    )


def apply(settings: Settings, *, local: bool = True, log: bool = True) -> list[str]:
    """Apply what is not applied yet. Returns the versions of newly applied migrations."""
    with connect(settings):
        pass  # fails with "is the stack up?" rather than psql's bare connection error
    if local:
        apply_shim(settings)
    psql(settings, "-c", MIGRATIONS_TABLE, what="migration history table")
    with connect(settings) as conn:
        applied = {
            r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")
        }
    new = []
    for version, name, path in migrations():
        if version in applied:
            continue
        record = (
            f"insert into supabase_migrations.schema_migrations (version, name) "
            f"values ('{version}', '{name}')"
        )  # both match MIGRATION_NAME: safe literals
        psql(settings, "-f", str(path), "-c", record, what=f"migration {path.name}")
        new.append(version)
    args: list[str] = ["-c", "set local check_function_bodies = off"]
    for path in desired_state_files():
        args += ["-f", str(path)]
    args += ["-c", "notify pgrst, 'reload schema'"]
    psql(settings, *args, what="sql/rules + sql/rls")
    return new


RESET_SQL = """
drop extension if exists pg_cron cascade;
drop extension if exists pgtap cascade;
drop schema if exists public, private, analytics, auth, extensions, supabase_migrations cascade;
create schema public authorization pg_database_owner;
grant usage on schema public to public;
comment on schema public is 'standard public schema';
"""


PGTAP_SQL = """
create extension if not exists pgtap with schema extensions;
-- Tests run the time-driven rules themselves, on a frozen clock; the scheduler stays out of it.
update cron.job set active = false;
-- Tests switch to the API roles mid-file; the migrations' default privileges keep new functions
-- from PUBLIC, so grant pgTAP's own functions explicitly (test databases only).
grant execute on all functions in schema extensions to anon, authenticated, service_role;
"""


def prepare_test_database(settings: Settings) -> None:
    """pgTAP installed and pg_cron paused (tests run the jobs on a frozen clock); test databases only,
    never part of the deployable schema."""
    psql(
        settings,
        "-c",
        PGTAP_SQL,
        *[arg for path in sorted(TEST_HELPERS_DIR.glob("*.sql")) for arg in ("-f", str(path))],
        what="preparing the test database (pgTAP, pg_cron paused, tests.* helpers)",
    )


def reset(settings: Settings) -> None:
    """Drop everything the project created in the database (roles stay: they are cluster-wide)."""
    with connect(settings):
        pass
    psql(settings, "-c", RESET_SQL, what="database reset")


def bundle(out_dir: Path = MIGRATIONS_DIR, now: dt.datetime | None = None) -> Path:
    """Write sql/rules + sql/rls as one new migration for `supabase db push`."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")
    out = out_dir / f"{stamp}_rules_and_policies.sql"
    if out.exists():
        raise StackError(f"{out} exists already; wait a second and run it again")
    parts = [
        "-- Bundled by `mentorships db bundle` from sql/rules/ and sql/rls/. Do not edit:",
        "-- change the source files and bundle again.",
        "set check_function_bodies = off;",
        "",
    ]
    for path in desired_state_files():
        parts += [f"-- >>> {path.relative_to(PROJECT_DIR)}", path.read_text().rstrip(), ""]
    parts += ["notify pgrst, 'reload schema';", ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts))
    return out
