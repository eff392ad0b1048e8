"""Landed migrations cannot change unnoticed, and the bundles deploy what sql/rules + sql/rls say.

Database tests run on a Postgres cluster of this module's own (pg_cron works in one database per
cluster, so the migrations cannot run in a second database of the test stack's cluster), reset
before each test. Migration directories are copies the tests build: the project's own files are
never touched."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from mentorships import db, manifest
from mentorships.cli import cli
from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack import Postgres

UTC = dt.UTC


@pytest.fixture(scope="module")
def cluster(settings: Settings) -> Iterator[Settings]:
    own = settings.model_copy(
        update={"stack": f"{settings.stack}-migrations", "db_port": settings.db_port + 1}
    )
    pg = Postgres(own)
    pg.start()
    try:
        yield own
    finally:
        pg.destroy()


@pytest.fixture
def database(cluster: Settings) -> Settings:
    """The cluster's database, empty of the project (roles stay: they are cluster-wide)."""
    db.reset(cluster)
    return cluster


def query(settings: Settings, sql: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(settings.dsn(), autocommit=True) as c:
        cur = c.execute(sql, args)
        return cur.fetchall() if cur.description else []


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def small_project(root: Path) -> db.Sources:
    """Three migrations of a table of notes, no rules or policies."""
    src = db.Sources(root)
    write(src.migrations_dir / "20260101000000_notes.sql", "create table public.notes (id int);\n")
    write(
        src.migrations_dir / "20260101000100_note_text.sql",
        "alter table public.notes add body text;\n",
    )
    write(
        src.migrations_dir / "20260101000200_note_index.sql", "create index on public.notes (id);\n"
    )
    src.rules_dir.mkdir(parents=True)
    src.rls_dir.mkdir(parents=True)
    return src


def copy_of_the_project(root: Path) -> db.Sources:
    """The project's migrations but its bundles, sql/rules and sql/rls, copied (no manifest)."""
    src = db.Sources(root)
    shutil.copytree(
        db.PROJECT.migrations_dir,
        src.migrations_dir,
        ignore=shutil.ignore_patterns(f"*_{db.BUNDLE_NAME}.sql"),
    )
    shutil.copytree(db.PROJECT.rules_dir, src.rules_dir)
    shutil.copytree(db.PROJECT.rls_dir, src.rls_dir)
    return src


def checksums(settings: Settings) -> dict[object, tuple[object, object]]:
    rows = query(
        settings,
        "select version, sha256, recorded_how from supabase_migrations.mentorships_checksums",
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def versions(settings: Settings) -> list[object]:
    return [
        r[0]
        for r in query(
            settings, "select version from supabase_migrations.schema_migrations order by 1"
        )
    ]


# --- checksums in the database -------------------------------------------------------------------


def test_apply_records_each_migrations_sha256(database: Settings, tmp_path: Path) -> None:
    src = small_project(tmp_path)
    assert db.apply(database, src=src) == ["20260101000000", "20260101000100", "20260101000200"]
    assert checksums(database) == {
        m.version: (db.sha256_of(m.path), "applied") for m in db.migrations(src.migrations_dir)
    }


def test_an_edited_migration_is_refused_by_name_before_anything_new_applies(
    database: Settings, tmp_path: Path
) -> None:
    src = small_project(tmp_path)
    db.apply(database, src=src)
    edited = src.migrations_dir / "20260101000100_note_text.sql"
    edited.write_text("alter table public.notes add body text not null default '';\n")
    write(
        src.migrations_dir / "20260102000000_note_title.sql",
        "alter table public.notes add title text;\n",
    )
    with pytest.raises(StackError) as refused:
        db.apply(database, src=src)
    message = str(refused.value)
    assert (
        "supabase/migrations/20260101000100_note_text.sql was edited after this database applied it"
        in message
    )
    assert "put the change in a new migration" in message
    assert "mentorships db apply --accept-edited <file>" in message
    assert "20260101000000_notes" not in message and "20260101000200" not in message
    # nothing of the new migration ran
    assert "20260102000000" not in versions(database)
    assert query(
        database, "select count(*) from information_schema.columns where column_name = 'title'"
    ) == [(0,)]


def test_a_removed_migration_is_refused_by_name(database: Settings, tmp_path: Path) -> None:
    src = small_project(tmp_path)
    db.apply(database, src=src)
    (src.migrations_dir / "20260101000200_note_index.sql").unlink()
    with pytest.raises(
        StackError,
        match=r"supabase/migrations/20260101000200_note_index\.sql was applied to this database "
        r"but the file is gone\nA landed migration stays: restore it from git",
    ):
        db.apply(database, src=src)


def test_an_edit_accepted_by_name_is_recorded_once(database: Settings, tmp_path: Path) -> None:
    src = small_project(tmp_path)
    db.apply(database, src=src)
    edited = src.migrations_dir / "20260101000000_notes.sql"
    edited.write_text("-- the notes\ncreate table public.notes (id int);\n")
    with pytest.raises(StackError, match="nothing to accept"):
        db.apply(database, src=src, accept_edited=["20260101000100_note_text.sql"])
    db.apply(database, src=src, accept_edited=["supabase/migrations/20260101000000_notes.sql"])
    assert checksums(database)["20260101000000"] == (db.sha256_of(edited), "accepted")
    db.apply(database, src=src)  # accepted for good
    edited.write_text("-- the notes, again\ncreate table public.notes (id int);\n")
    with pytest.raises(StackError, match=r"20260101000000_notes\.sql was edited"):
        db.apply(database, src=src)


def test_migrations_applied_before_checksums_are_recorded_as_they_are_now(
    database: Settings, tmp_path: Path
) -> None:
    src = small_project(tmp_path)
    db.apply(database, src=src)
    query(database, "drop table supabase_migrations.mentorships_checksums")  # as before this change
    past = src.migrations_dir / "20260101000100_note_text.sql"
    past.write_text(
        "-- edited before checksums were kept\nalter table public.notes add body text;\n"
    )
    assert db.apply(database, src=src) == []
    assert checksums(database)["20260101000100"] == (db.sha256_of(past), "backfilled")
    past.write_text("alter table public.notes add body text;\n")
    with pytest.raises(StackError, match=r"20260101000100_note_text\.sql was edited"):
        db.apply(database, src=src)


def mentorships(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MENTORSHIPS_STACK": settings.stack,
        "MENTORSHIPS_DB_PORT": str(settings.db_port),
    }
    return subprocess.run(
        [sys.executable, "-m", "mentorships.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_the_command_refuses_an_edited_migration_and_accepts_it_by_name(
    database: Settings,
) -> None:
    """The project's own migrations: the database's record is changed instead of the file."""
    out = mentorships(database, "db", "apply")
    assert out.returncode == 0, out.stderr
    query(
        database,
        "update supabase_migrations.mentorships_checksums set sha256 = repeat('0', 64) "
        "where version = '20261121090000'",
    )
    out = mentorships(database, "db", "apply")
    assert out.returncode == 1
    assert out.stderr.startswith(
        "error: refusing to apply:\nsupabase/migrations/20261121090000_booking.sql was edited "
        "after this database applied it (sha256 recorded 000000000000..., now "
    )
    out = mentorships(
        database, "db", "apply", "--accept-edited", "supabase/migrations/20261121090000_booking.sql"
    )
    assert out.returncode == 0, out.stderr
    assert "0 new migration(s)" in out.stdout
    assert checksums(database)["20261121090000"][1] == "accepted"


# --- the manifest: the same check on a clean checkout ---------------------------------------------


def test_the_projects_manifest_lists_every_migration_as_it_is() -> None:
    assert manifest.check_manifest() == len(db.migrations())
    # sha256sum's own format: `sha256sum -c` agrees
    out = subprocess.run(
        ["sha256sum", "--strict", "-c", str(db.PROJECT.manifest)],
        cwd=db.PROJECT.migrations_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_manifest_check_fails_on_an_edit_naming_the_file(tmp_path: Path) -> None:
    src = small_project(tmp_path)
    assert manifest.write_manifest(src) == [m.path.name for m in db.migrations(src.migrations_dir)]
    assert manifest.check_manifest(src) == 3
    (src.migrations_dir / "20260101000100_note_text.sql").write_text("select 1;\n")
    with pytest.raises(StackError) as failed:
        manifest.check_manifest(src)
    assert str(failed.value).startswith(
        "supabase/migrations/20260101000100_note_text.sql changed since it landed "
        "(supabase/migrations.sha256 has "
    )
    assert "put the change in a new migration" in str(failed.value)
    # the write command refuses the same way: an edit is never recorded silently
    with pytest.raises(StackError, match=r"20260101000100_note_text\.sql changed since it landed"):
        manifest.write_manifest(src)


def test_the_manifest_check_fails_on_a_removed_or_unlisted_migration(tmp_path: Path) -> None:
    src = small_project(tmp_path)
    manifest.write_manifest(src)
    (src.migrations_dir / "20260101000000_notes.sql").unlink()
    with pytest.raises(
        StackError,
        match=r"supabase/migrations/20260101000000_notes\.sql is listed in "
        r"supabase/migrations\.sha256 but the file is gone",
    ):
        manifest.check_manifest(src)
    with pytest.raises(StackError, match=r"20260101000000_notes\.sql is listed"):
        manifest.write_manifest(src)
    other = small_project(tmp_path / "other")
    manifest.write_manifest(other)
    write(other.migrations_dir / "20260102000000_more.sql", "select 1;\n")
    with pytest.raises(
        StackError,
        match=r"supabase/migrations/20260102000000_more\.sql is not in supabase/migrations\.sha256"
        r"\nRun `mentorships db checksums --write`",
    ):
        manifest.check_manifest(other)


def test_the_manifest_only_grows(tmp_path: Path) -> None:
    src = small_project(tmp_path)
    manifest.write_manifest(src)
    before = src.manifest.read_text()
    write(src.migrations_dir / "20260102000000_more.sql", "select 1;\n")
    write(src.migrations_dir / "20260102000100_most.sql", "select 2;\n")
    assert manifest.write_manifest(src) == ["20260102000000_more.sql", "20260102000100_most.sql"]
    after = src.manifest.read_text()
    assert after.startswith(before)
    assert after.removeprefix(before).splitlines() == [
        f"{db.sha256_of(src.migrations_dir / n)}  {n}"
        for n in ("20260102000000_more.sql", "20260102000100_most.sql")
    ]
    assert manifest.write_manifest(src) == []
    assert src.manifest.read_text() == after


def test_an_edit_is_accepted_in_the_manifest_only_by_name(tmp_path: Path) -> None:
    src = small_project(tmp_path)
    manifest.write_manifest(src)
    edited = src.migrations_dir / "20260101000100_note_text.sql"
    edited.write_text("-- a comment\nalter table public.notes add body text;\n")
    with pytest.raises(StackError, match="nothing to accept"):
        manifest.write_manifest(src, accept_edited=["20260101000000_notes.sql", edited.name])
    assert manifest.write_manifest(src, accept_edited=[f"supabase/migrations/{edited.name}"]) == [
        edited.name
    ]
    lines = src.manifest.read_text().splitlines()
    assert lines[1] == f"{db.sha256_of(edited)}  {edited.name}"  # in place
    assert manifest.check_manifest(src) == 3


def test_the_checksums_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = small_project(tmp_path)
    monkeypatch.setattr(db, "PROJECT", src)
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "checksums"])
    assert result.exit_code == 1
    assert "supabase/migrations.sha256 does not exist yet" in str(result.exception)
    result = runner.invoke(cli, ["db", "checksums", "--write"])
    assert result.exit_code == 0, result.output
    assert "supabase/migrations.sha256: 3 line(s) added or accepted" in result.output
    result = runner.invoke(cli, ["db", "checksums", "--check"])
    assert result.exit_code == 0, result.output
    assert "all 3 landed migrations unchanged" in result.output
    (src.migrations_dir / "20260101000000_notes.sql").write_text("select 1;\n")
    result = runner.invoke(cli, ["db", "checksums", "--check"])
    assert result.exit_code == 1
    assert isinstance(result.exception, StackError)
    assert "20260101000000_notes.sql changed since it landed" in str(result.exception)


# --- bundles -------------------------------------------------------------------------------------


def test_bundle_check_fails_after_a_rules_edit_and_passes_after_bundling(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    src = copy_of_the_project(tmp_path)
    monkeypatch.setattr(db, "PROJECT", src)
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "bundle", "--check"])
    assert result.exit_code == 1
    assert str(result.exception).startswith(
        "no bundle in supabase/migrations/ yet (*_rules_and_policies.sql). Run `mentorships db bundle`"
    )
    first = db.bundle(src=src, now=dt.datetime(2026, 12, 1, tzinfo=UTC))
    assert db.check_bundle(src).path == first

    with (src.rules_dir / "booking" / "book.sql").open("a") as f:
        f.write("\n-- a change\n")
    write(src.rules_dir / "payments" / "zz_new.sql", "select 1;\n")
    (src.rls_dir / "audit_log.sql").unlink()
    result = runner.invoke(cli, ["db", "bundle", "--check"])
    assert result.exit_code == 1
    assert str(result.exception) == (
        f"sql/rules/ + sql/rls/ differ from the newest bundle, supabase/migrations/{first.name}:\n"
        "  changed: sql/rules/booking/book.sql\n"
        "  new: sql/rules/payments/zz_new.sql\n"
        "  removed: sql/rls/audit_log.sql\n"
        "Run `mentorships db bundle` (the last step before committing a change of sql/rules/ or "
        "sql/rls/): `supabase db push` deploys nothing of them without a new bundle."
    )

    result = runner.invoke(cli, ["db", "bundle"])
    assert result.exit_code == 0, result.output
    second = db.newest_bundle(src.migrations_dir)
    assert second is not None and second.path != first
    assert f"wrote supabase/migrations/{second.path.name}" in result.output
    result = runner.invoke(cli, ["db", "bundle", "--check"])
    assert result.exit_code == 0, result.output
    assert f"supabase/migrations/{second.path.name} is up to date" in result.output
    # the bundle went into the manifest, with every other migration not listed yet
    assert manifest.check_manifest(src) == len(db.migrations(src.migrations_dir))
    # nothing to bundle: nothing written
    result = runner.invoke(cli, ["db", "bundle"])
    assert result.exit_code == 0, result.output
    assert "is up to date; nothing written" in result.output
    assert db.newest_bundle(src.migrations_dir) == second


def test_bundle_refuses_over_an_edited_landed_migration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    src = small_project(tmp_path)
    manifest.write_manifest(src)
    (src.migrations_dir / "20260101000000_notes.sql").write_text("select 1;\n")
    write(src.rules_dir / "a.sql", "select 1;\n")
    monkeypatch.setattr(db, "PROJECT", src)
    result = CliRunner().invoke(cli, ["db", "bundle"])
    assert result.exit_code == 1
    assert "20260101000000_notes.sql changed since it landed" in str(result.exception)
    assert db.newest_bundle(src.migrations_dir) is None


def test_a_bundle_is_stamped_after_every_migration(tmp_path: Path) -> None:
    src = small_project(tmp_path)
    out = db.bundle(src=src, now=dt.datetime(2025, 1, 1, tzinfo=UTC))  # a clock running late
    assert out.name == "20260101000201_rules_and_policies.sql"
    again = db.bundle(src=src, now=dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    assert again.name == "20260304050607_rules_and_policies.sql"


def test_rules_are_found_in_folders_in_the_order_of_their_paths(tmp_path: Path) -> None:
    src = small_project(tmp_path)
    for name in ["b.sql", "a/z.sql", "a/b/c.sql", "a.sql", "c/a.sql", "b/x.txt"]:
        write(src.rules_dir / name, "select 1;\n")
    write(src.rls_dir / "notes.sql", "select 1;\n")
    write(src.rls_dir / "_reset.sql", "select 1;\n")
    assert [src.shown(p) for p in db.desired_state_files(src)] == [
        "sql/rls/_reset.sql",
        "sql/rules/a/b/c.sql",
        "sql/rules/a/z.sql",
        "sql/rules/a.sql",
        "sql/rules/b.sql",
        "sql/rules/c/a.sql",
        "sql/rls/notes.sql",
    ]
    text = db.bundle_text(src)
    sections = [line for line in text.splitlines() if line.startswith(db.SECTION)]
    assert sections == [f"{db.SECTION}{src.shown(p)}" for p in db.desired_state_files(src)]


def test_every_rules_file_is_short_enough_to_read_in_one_sitting() -> None:
    long = {
        db.PROJECT.shown(p): n
        for p in db.rules_files()
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_a_bundle_drops_every_policy_before_the_rules() -> None:
    text = db.bundle_text()
    assert text.index("-- >>> sql/rls/_reset.sql") < text.index("-- >>> sql/rules/")
    assert text.index("-- >>> sql/rules/") < text.index("-- >>> sql/rls/audit_log.sql")


# --- a reset over two bundles ---------------------------------------------------------------------

NICKNAMES = "alter table public.profiles add column nickname text;\n"
# The policies of the first desired state: one reads the nickname, one calls a helper.
RULES_1 = """
create or replace function private.is_me(person uuid)
returns boolean language sql stable security definer set search_path = ''
as $$ select person = (select auth.uid()) $$;
"""
RLS_1 = """
create policy "people read their own profile" on public.profiles
  for select to authenticated using ((select private.is_me(id)));
create policy "people read nicknames" on public.profiles
  for select to authenticated using (nickname is not null);
"""
# The second: the helper takes a second argument (dropped and re-created: a policy of the first
# bundle still calls the old one), nicknames are gone.
RULES_2 = """
drop function if exists private.is_me(uuid);
create or replace function private.is_me(person uuid, claim text)
returns boolean language sql stable security definer set search_path = ''
as $$ select person::text = (select auth.jwt() ->> claim) $$;
"""
RLS_2 = """
create policy "people read their own profile" on public.profiles
  for select to authenticated using ((select private.is_me(id, 'sub')));
"""
DROP_NICKNAMES = (
    'drop policy if exists "people read nicknames" on public.profiles;\n'
    "alter table public.profiles drop column nickname;\n"
)
DROP_NICKNAMES_ONLY = "alter table public.profiles drop column nickname;\n"


def two_bundles(root: Path, drop_nicknames: str) -> db.Sources:
    """The project's migrations, then: nicknames added, bundle 1 (a policy reads them), the
    nicknames dropped, bundle 2 (without them)."""
    src = db.Sources(root)
    shutil.copytree(db.PROJECT.migrations_dir, src.migrations_dir)
    newest = dt.datetime.strptime(db.migrations(src.migrations_dir)[-1].version, "%Y%m%d%H%M%S")
    at = [newest.replace(tzinfo=UTC) + dt.timedelta(minutes=n) for n in range(1, 5)]
    write(src.migrations_dir / f"{at[0]:%Y%m%d%H%M%S}_profile_nicknames.sql", NICKNAMES)
    write(src.rls_dir / "_reset.sql", (db.PROJECT.rls_dir / "_reset.sql").read_text())
    write(src.rules_dir / "people.sql", RULES_1)
    write(src.rls_dir / "profiles.sql", RLS_1)
    db.bundle(src=src, now=at[1])
    write(src.migrations_dir / f"{at[2]:%Y%m%d%H%M%S}_drop_nicknames.sql", drop_nicknames)
    write(src.rules_dir / "people.sql", RULES_2)
    write(src.rls_dir / "profiles.sql", RLS_2)
    db.bundle(src=src, now=at[3])
    db.check_bundle(src)
    return src


def replay(settings: Settings, src: db.Sources) -> None:
    """What `supabase db push` does on a fresh hosted database (which has the auth schema and the
    API roles): every file of supabase/migrations/ in order, each in a transaction with its
    version recorded. Nothing of sql/rules or sql/rls besides the bundles."""
    db.apply_shim(settings)
    db.psql(settings, "-c", db.MIGRATIONS_TABLE, what="history table")
    for m in db.migrations(src.migrations_dir):
        record = f"insert into supabase_migrations.schema_migrations (version, name) values ('{m.version}', '{m.name}')"
        db.psql(settings, "-f", str(m.path), "-c", record, what=f"replaying {m.path.name}")


def end_state(settings: Settings) -> list[tuple[object, ...]]:
    return query(
        settings,
        """select 'policy', policyname, qual from pg_policies where tablename = 'profiles'
           union all
           select 'function', p.oid::regprocedure::text, null from pg_proc p
            where p.proname = 'is_me'
           union all
           select 'column', column_name, null from information_schema.columns
            where table_name = 'profiles' and column_name = 'nickname'
           order by 1, 2""",
    )


SECOND_STATE = [
    ("function", "private.is_me(uuid,text)", None),
    (
        "policy",
        "people read their own profile",
        "( SELECT private.is_me(profiles.id, 'sub'::text) AS is_me)",
    ),
]


def test_a_reset_over_two_bundles_applies_as_supabase_db_push_replays_it(
    database: Settings, tmp_path: Path
) -> None:
    src = two_bundles(tmp_path, DROP_NICKNAMES)
    files = db.migrations(src.migrations_dir)
    assert [m.name for m in files[-4:]] == [
        "profile_nicknames",
        db.BUNDLE_NAME,
        "drop_nicknames",
        db.BUNDLE_NAME,
    ]
    assert db.apply(database, src=src) == [m.version for m in files]
    assert end_state(database) == SECOND_STATE
    assert db.apply(database, src=src) == []  # re-runnable over it

    db.reset(database)
    replay(database, src)
    assert end_state(database) == SECOND_STATE
    assert versions(database) == [m.version for m in files]


def test_a_migration_dropping_what_an_earlier_bundles_policy_reads_fails_locally_as_on_push(
    database: Settings, tmp_path: Path
) -> None:
    """Why `db apply` runs the earlier bundles instead of skipping them: a hosted database that
    got bundle 1 still has its policy when `supabase db push` runs the migration after it, so the
    migration has to drop it. Skipping bundle 1 locally would let this pass here and fail there."""
    src = two_bundles(tmp_path, DROP_NICKNAMES_ONLY)
    dropping = next(m for m in db.migrations(src.migrations_dir) if m.name == "drop_nicknames")
    with pytest.raises(StackError) as failed:
        db.apply(database, src=src)
    message = str(failed.value)
    assert message.startswith(f"migration {dropping.path.name} failed:\n")
    assert (
        "DETAIL:  policy people read nicknames on table profiles depends on column nickname"
        in message
    )
    assert "Drop it in this migration first" in message

    db.reset(database)
    with pytest.raises(StackError, match=f"replaying {dropping.path.name} failed") as replayed:
        replay(database, src)
    assert "cannot drop column nickname of table profiles" in str(replayed.value)
