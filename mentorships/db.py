"""Applying the SQL: migrations in order (recorded as the Supabase CLI records them, with a
checksum of our own), then the desired-state files in sql/rules/ and sql/rls/; resetting;
bundling for `supabase db push`. Guards keep landed migrations unchanged (verify_applied in the
database, mentorships/manifest.py checks supabase/migrations.sha256) and the newest bundle up to date
with sql/rules/ + sql/rls/ (check_bundle)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import psycopg

from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings


@dataclass(frozen=True)
class Sources:
    """Where a project's SQL lives (the project's own, or a copy a test builds)."""

    root: Path

    @property
    def migrations_dir(self) -> Path:
        return self.root / "supabase" / "migrations"

    @property
    def manifest(self) -> Path:
        """One line per landed migration, `<sha256>  <file name>` (`sha256sum -c` reads it from
        supabase/migrations/)."""
        return self.root / "supabase" / "migrations.sha256"

    @property
    def rules_dir(self) -> Path:
        return self.root / "sql" / "rules"

    @property
    def rls_dir(self) -> Path:
        return self.root / "sql" / "rls"

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


PROJECT = Sources(PROJECT_DIR)
MIGRATIONS_DIR = PROJECT.migrations_dir
RULES_DIR = PROJECT.rules_dir
RLS_DIR = PROJECT.rls_dir
LOCAL_SHIM = PROJECT_DIR / "sql" / "local" / "auth_shim.sql"
ANALYST_LOGIN = PROJECT_DIR / "sql" / "local" / "analyst_login.sql"
# pgTAP helpers (tests.*), installed on test databases only.
TEST_HELPERS_DIR = PROJECT_DIR / "supabase" / "tests" / "helpers"
MIGRATION_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")
BUNDLE_NAME = "rules_and_policies"
SECTION = "-- >>> "

MIGRATIONS_TABLE = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text primary key,
  statements text[],
  name text
);
create table if not exists supabase_migrations.mentorships_checksums (
  version text primary key,
  name text not null,
  sha256 text not null,
  recorded_at timestamptz not null default now(),
  recorded_how text not null check (recorded_how in ('applied', 'backfilled', 'accepted'))
);
comment on table supabase_migrations.mentorships_checksums is
  'The sha256 of each migration file when `mentorships db apply` applied it (backfilled: applied '
  'before checksums were kept; accepted: an edit accepted with --accept-edited). apply refuses '
  'to run when a recorded file changed or is gone.';
"""


class Migration(NamedTuple):
    version: str
    name: str
    path: Path

    @property
    def is_bundle(self) -> bool:
        return self.name == BUNDLE_NAME

    def sha256(self) -> str:
        return sha256_of(self.path)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def migrations(directory: Path | None = None) -> list[Migration]:
    """The migration files of a directory (default supabase/migrations/), in the order they
    apply."""
    directory = MIGRATIONS_DIR if directory is None else directory
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = MIGRATION_NAME.match(path.name)
        if not m:
            raise StackError(
                f"supabase/migrations/{path.name}: a migration is named YYYYMMDDHHMMSS_short_name.sql "
                "(lowercase letters, digits, underscores)"
            )
        found.append(Migration(m["version"], m["name"], path))
    return found


def rules_files(src: Sources = PROJECT) -> list[Path]:
    """Every .sql file under sql/rules/, in folders too (sql/rules/booking/book.sql), sorted by
    its path inside sql/rules/ compared folder by folder: a folder's files come where the
    folder's name sorts (api.sql, ..., booking/adjust.sql, ..., booking/video.sql, catalog.sql).

    That order matters little: `apply` and the bundles create functions with
    check_function_bodies off, so a function may call one a later file defines. What needs an
    order, a trigger after its function, stays within one file (the function first)."""
    found = [p for p in src.rules_dir.rglob("*.sql") if p.is_file()]
    return sorted(found, key=lambda p: p.relative_to(src.rules_dir).parts)


def desired_state_files(src: Sources = PROJECT) -> list[Path]:
    """sql/rls/_*.sql first (_reset.sql drops every policy, so that nothing still depends on a
    function sql/rules/ replaces or drops), then sql/rules/ in `rules_files` order, then the other
    sql/rls/ files (sorted by name). `apply` and `bundle` both use this order."""
    rls = sorted(src.rls_dir.glob("*.sql"))
    first = [p for p in rls if p.name.startswith("_")]
    return first + rules_files(src) + [p for p in rls if p not in first]


def apply_shim(settings: Settings) -> None:
    psql(
        settings,
        "-f",
        str(LOCAL_SHIM),
        what="local auth shim (sql/local/auth_shim.sql)",
        variables={"authenticator_password": settings.db_password.get_secret_value()},
    )
    apply_analyst_login(settings)


def apply_analyst_login(settings: Settings) -> None:
    """The analyst role's password from the settings (local stack; once the role exists)."""
    psql(
        settings,
        "-f",
        str(ANALYST_LOGIN),
        what="analyst login (sql/local/analyst_login.sql)",
        variables={"analyst_password": settings.analyst_password.get_secret_value()},
    )


EDITED_HELP = (
    "A landed migration is never edited: restore it (`git checkout -- <file>`) and put the "
    "change in a new migration. If it never landed (your own, not committed yet), "
    "`mentorships db reset` applies it afresh. To accept an edit that changes nothing in the "
    "database (a comment), run `mentorships db apply --accept-edited <file>`."
)
GONE_HELP = (
    "A landed migration stays: restore it from git. If it came from another branch, "
    "`mentorships db reset` applies this branch's migrations afresh."
)
DEPENDENCY_HELP = (
    "\nSomething still depends on what this migration drops (DETAIL above names it), and it will "
    "on the hosted database too when `supabase db push` runs this migration after the bundles "
    'before it. Drop it in this migration first (e.g. `drop policy if exists "..." on '
    "public....;`); the bundle that follows re-creates the policies from sql/rls/."
)


def _accepted_names(accept_edited: Iterable[str | Path]) -> set[str]:
    return {Path(f).name for f in accept_edited}


def verify_applied(
    conn: psycopg.Connection,
    src: Sources = PROJECT,
    *,
    accept_edited: Iterable[str | Path] = (),
) -> None:
    """Refuse (StackError naming every file) when a migration the database applied was edited or
    removed since; record the checksum of one applied before checksums were kept (as it is now),
    and of an edit accepted by name."""
    files = {m.version: m for m in migrations(src.migrations_dir)}
    applied = conn.execute(
        "select version, coalesce(name, '') from supabase_migrations.schema_migrations "
        "order by version"
    ).fetchall()
    recorded: dict[str, str] = dict(
        conn.execute(
            "select version, sha256 from supabase_migrations.mentorships_checksums"
        ).fetchall()
    )
    accepted = _accepted_names(accept_edited)
    edited, gone, backfill, accept = [], [], [], []
    for version, name in applied:
        m = files.get(version)
        if m is None:
            gone.append(src.shown(src.migrations_dir / f"{version}_{name}.sql"))
            continue
        now = m.sha256()
        if version not in recorded:
            backfill.append((m, now))
        elif recorded[version] != now:
            if m.path.name in accepted:
                accept.append((m, now))
                accepted.discard(m.path.name)
            else:
                edited.append(
                    f"{src.shown(m.path)} was edited after this database applied it "
                    f"(sha256 recorded {recorded[version][:12]}..., now {now[:12]}...)"
                )
    if accepted:
        raise StackError(
            f"--accept-edited {', '.join(sorted(accepted))}: not an applied migration whose text "
            "changed; nothing to accept (name the file as supabase/migrations/<version>_<name>.sql)"
        )
    problems = []
    if edited:
        problems.append("\n".join(edited) + "\n" + EDITED_HELP)
    if gone:
        problems.append(
            "\n".join(f"{f} was applied to this database but the file is gone" for f in gone)
            + "\n"
            + GONE_HELP
        )
    if problems:
        raise StackError("refusing to apply:\n" + "\n".join(problems))
    with conn.transaction():
        for how, rows in (("backfilled", backfill), ("accepted", accept)):
            for m, digest in rows:
                conn.execute(
                    "insert into supabase_migrations.mentorships_checksums "
                    "(version, name, sha256, recorded_how) values (%s, %s, %s, %s) "
                    "on conflict (version) do update set sha256 = excluded.sha256, "
                    "recorded_at = now(), recorded_how = excluded.recorded_how",
                    (m.version, m.name, digest, how),
                )


def apply(
    settings: Settings,
    *,
    local: bool = True,
    src: Sources = PROJECT,
    accept_edited: Iterable[str | Path] = (),
) -> list[str]:
    """Apply what is not applied yet, every file of supabase/migrations/ in order (bundles too,
    as `supabase db push` does), then the working tree's sql/rules/ + sql/rls/. Refuses before
    applying anything when an applied migration was edited or removed. Returns the versions of
    newly applied migrations."""
    with connect(settings):
        pass  # fails with "is the stack up?" rather than psql's bare connection error
    if local:
        apply_shim(settings)
    psql(settings, "-c", MIGRATIONS_TABLE, what="migration history table")
    with connect(settings) as conn:
        verify_applied(conn, src, accept_edited=accept_edited)
        applied = {
            r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")
        }
    new = []
    for m in migrations(src.migrations_dir):
        if m.version in applied:
            continue
        # version, name and digest match MIGRATION_NAME and [0-9a-f]: safe literals
        record = (
            f"insert into supabase_migrations.schema_migrations (version, name) "
            f"values ('{m.version}', '{m.name}');\n"
            f"insert into supabase_migrations.mentorships_checksums "
            f"(version, name, sha256, recorded_how) "
            f"values ('{m.version}', '{m.name}', '{m.sha256()}', 'applied')"
        )
        try:
            psql(settings, "-f", str(m.path), "-c", record, what=f"migration {m.path.name}")
        except StackError as e:
            if "other objects depend on it" in str(e) and not m.is_bundle:
                raise StackError(str(e) + DEPENDENCY_HELP) from e
            raise
        new.append(m.version)
    args: list[str] = ["-c", "set local check_function_bodies = off"]
    for path in desired_state_files(src):
        args += ["-f", str(path)]
    args += ["-c", "notify pgrst, 'reload schema'"]
    psql(settings, *args, what="sql/rules + sql/rls")
    if local:
        apply_analyst_login(settings)
    return new


RESET_SQL = """
drop extension if exists pg_cron cascade;
drop extension if exists pgtap cascade;
drop schema if exists public, private, analytics, analytics_staging, analytics_intermediate, auth, extensions, supabase_migrations cascade;
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


# --- bundles ----------------------------------------------------------------------------------

BUNDLE_HEADER = [
    "-- Bundled by `mentorships db bundle` from sql/rules/ and sql/rls/. Do not edit:",
    "-- change the source files and bundle again. The whole desired state: it drops every policy",
    "-- first (sql/rls/_reset.sql), so it supersedes the bundles before it.",
    "set check_function_bodies = off;",
    "",
]
BUNDLE_FOOTER = ["notify pgrst, 'reload schema';", ""]


def bundle_text(src: Sources = PROJECT) -> str:
    """What `bundle` writes: sql/rls/_reset.sql, sql/rules/, the other sql/rls/ files."""
    parts = list(BUNDLE_HEADER)
    for path in desired_state_files(src):
        parts += [f"{SECTION}{src.shown(path)}", path.read_text().rstrip(), ""]
    parts += BUNDLE_FOOTER
    return "\n".join(parts)


def newest_bundle(directory: Path) -> Migration | None:
    bundles = [m for m in migrations(directory) if m.is_bundle]
    return bundles[-1] if bundles else None


def _sections(text: str) -> dict[str, str]:
    """A bundle's text by source file (for naming what differs; the check compares whole texts)."""
    out: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith(SECTION):
            current = line.removeprefix(SECTION)
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def bundle_difference(src: Sources = PROJECT) -> str | None:
    """None when the newest bundle in supabase/migrations/ is sql/rules/ + sql/rls/ as
    `bundle` would write them now; otherwise what differs and what to do."""
    newest = newest_bundle(src.migrations_dir)
    todo = (
        "Run `mentorships db bundle` (the last step before committing a change of sql/rules/ "
        "or sql/rls/): `supabase db push` deploys nothing of them without a new bundle."
    )
    if newest is None:
        return f"no bundle in {src.shown(src.migrations_dir)}/ yet (*_{BUNDLE_NAME}.sql). {todo}"
    want = bundle_text(src)
    have = newest.path.read_text()
    if want == have:
        return None
    want_s, have_s = _sections(want), _sections(have)
    lines = [
        f"  changed: {f}"
        for f in want_s
        if f in have_s and want_s[f].rstrip() != have_s[f].rstrip()
    ]
    lines += [f"  new: {f}" for f in want_s if f not in have_s]
    lines += [f"  removed: {f}" for f in have_s if f not in want_s]
    if not lines:
        lines = ["  the order of the files or the bundle's header differs"]
    return (
        f"sql/rules/ + sql/rls/ differ from the newest bundle, {src.shown(newest.path)}:\n"
        + "\n".join(lines)
        + f"\n{todo}"
    )


def check_bundle(src: Sources = PROJECT) -> Migration:
    """The newest bundle, when it is up to date; StackError naming the difference otherwise."""
    problem = bundle_difference(src)
    if problem is not None:
        raise StackError(problem)
    newest = newest_bundle(src.migrations_dir)
    assert newest is not None
    return newest


def bundle(
    out_dir: Path | None = None, *, src: Sources = PROJECT, now: dt.datetime | None = None
) -> Path:
    """Write sql/rules + sql/rls as one new migration for `supabase db push`, stamped after every
    migration already in out_dir (default supabase/migrations/)."""
    out_dir = src.migrations_dir if out_dir is None else out_dir
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    existing = migrations(out_dir) if out_dir.is_dir() else []
    if existing:
        after = dt.datetime.strptime(existing[-1].version, "%Y%m%d%H%M%S") + dt.timedelta(seconds=1)
        stamp = max(stamp, after)
    out = out_dir / f"{stamp:%Y%m%d%H%M%S}_{BUNDLE_NAME}.sql"
    out_dir.mkdir(parents=True, exist_ok=True)
    out.write_text(bundle_text(src))
    return out
