"""The `mentorships` command as a user runs it: a real process, against the test stack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mentorships import db, jwt
from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack import Postgres, _require_free
from testing.stacks import generous_rate_limits
from testing.world import World, email


def run(
    settings: Settings, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MENTORSHIPS_STACK": settings.stack,
        "MENTORSHIPS_GATEWAY_PORT": str(settings.gateway_port),
        "MENTORSHIPS_DB_PORT": str(settings.db_port),
        "MENTORSHIPS_POSTGREST_PORT": str(settings.postgrest_port),
        "MENTORSHIPS_POSTGREST_ADMIN_PORT": str(settings.postgrest_admin_port),
        "MENTORSHIPS_SERVICES_PORT": str(settings.services_port),
        "MENTORSHIPS_ALLOW_TX_ROLLBACK": "true",
        "MENTORSHIPS_EPHEMERAL": "true",
        "MENTORSHIPS_MESSAGES_WORKER": "false",
        "MENTORSHIPS_GCAL_WORKER": "false",
        "MENTORSHIPS_REPORTS_WORKER": "false",
        "MENTORSHIPS_DASHBOARDS": "false",
        "MENTORSHIPS_DASHBOARDS_PORT": str(settings.dashboards_port),
        "MENTORSHIPS_GOOGLE_LOCAL": "false",
        # The test stack's limits: `up` would otherwise restart its gateway with the defaults,
        # which the rest of the suite would meet.
        **{
            f"MENTORSHIPS_{name.upper()}": str(value).lower()
            for name, value in generous_rate_limits().items()
        },
    }
    return subprocess.run(
        [sys.executable, "-m", "mentorships.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_help_lists_every_command(settings: Settings) -> None:
    out = run(settings, "--help")
    assert out.returncode == 0
    for command in ("up", "down", "status", "db", "seed", "token", "keys", "info"):
        assert f"  {command} " in out.stdout
    db_help = run(settings, "db", "--help").stdout
    for command in ("apply", "reset", "bundle", "checksums"):
        assert f"  {command} " in db_help


def test_status_reports_every_component_healthy(settings: Settings, world: World) -> None:
    out = run(settings, "status")
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("postgres", "postgrest", "gateway", "services", "paypal"):
        line = next(line for line in out.stdout.splitlines() if line.strip().startswith(name))
        assert "healthy" in line
    assert f"127.0.0.1:{settings.db_port}" in out.stdout


def test_up_twice_is_a_no_op(settings: Settings, world: World) -> None:
    out = run(settings, "up")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("already running") == 4
    # placeholder PayPal keys: PayPal in local mode, the gateway its certificate host
    cert_url = f"http://127.0.0.1:{settings.paypal_local_port}/v1/notifications/certs/CERT-local"
    assert (
        "PayPal runs in local mode (placeholder keys: checkout cannot reach PayPal)" in out.stdout
    )
    assert cert_url in out.stdout


def test_token_mints_a_supabase_shaped_jwt_that_the_gateway_accepts(
    settings: Settings, world: World
) -> None:
    out = run(settings, "token", email("student_a").upper())
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    claims = jwt.decode(settings, token)
    assert claims["sub"] == str(world["student_a"])
    assert claims["role"] == "authenticated"
    assert claims["aud"] == "authenticated"
    assert claims["email"] == email("student_a")
    assert claims["exp"] - claims["iat"] == 3600
    r = httpx.get(
        f"{settings.rest_url}/session_packs?select=id",
        headers={"apikey": jwt.anon_key(settings), "Authorization": f"Bearer {token}"},
    )
    assert r.json() == [{"id": str(world["pack_a"])}]


def test_token_for_an_unknown_email_says_what_to_do(settings: Settings, world: World) -> None:
    out = run(settings, "token", "nobody@example.com")
    assert out.returncode == 1
    assert "no local user with email 'nobody@example.com'" in out.stderr
    assert "mentorships seed" in out.stderr


def test_keys_are_the_supabase_shaped_local_keys(settings: Settings) -> None:
    out = run(settings, "keys", "--json")
    keys = json.loads(out.stdout)
    assert jwt.decode(settings, keys["anon_key"])["role"] == "anon"
    assert jwt.decode(settings, keys["service_role_key"])["role"] == "service_role"
    assert keys["api_url"] == settings.gateway_url
    local = f"http://127.0.0.1:{settings.paypal_local_port}"
    assert keys["paypal_api_base"] == local
    assert keys["paypal_cert_url"] == f"{local}/v1/notifications/certs/CERT-local"
    assert Path(keys["paypal_signer_key"]).name == "paypal-local-key.pem"
    # placeholder Agora keys: the ones the services mint video tokens with
    assert keys["agora_app_id"].startswith("local_") and len(keys["agora_app_id"]) == 32
    assert keys["agora_app_certificate"].startswith("local_")
    assert keys["agora_app_certificate"] != keys["agora_app_id"]


def test_default_keys_match_the_supabase_cli_local_keys() -> None:
    # The Supabase CLI's well-known local anon key, for the same default secret.
    from mentorships.settings import Settings as S

    assert jwt.anon_key(S(stack="x")) == (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9"
        ".CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
    )


def test_db_apply_is_re_runnable(settings: Settings, world: World) -> None:
    out = run(settings, "db", "apply")
    assert out.returncode == 0, out.stderr
    assert "0 new migration(s)" in out.stdout


def test_db_bundle_writes_rules_and_policies_but_not_the_local_shim(
    settings: Settings, tmp_path: Path
) -> None:
    out = run(settings, "db", "bundle", "--out-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    [bundle] = list(tmp_path.glob("*_rules_and_policies.sql"))
    assert db.MIGRATION_NAME.match(bundle.name)
    text = bundle.read_text()
    assert "create or replace function private.mentor_free_seats" in text
    assert 'create policy "students read their own packs"' in text
    assert "auth_shim" not in text and "create role" not in text
    # every policy dropped first (nothing then depends on a function the rules replace)
    assert text.index("-- >>> sql/rls/_reset.sql") < text.index("-- >>> sql/rules/")
    assert text.index("-- >>> sql/rules/") < text.index("-- >>> sql/rls/sessions.sql")


def test_bundle_applies_cleanly_over_the_schema(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    bundle = db.bundle(tmp_path)
    db.psql(settings, "-f", str(bundle), what="bundle")


def test_a_taken_port_is_named_with_its_setting() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(
            StackError, match=rf"port {port} on 127.0.0.1 is taken .* set MENTORSHIPS_DB_PORT"
        ):
            _require_free("127.0.0.1", port, "MENTORSHIPS_DB_PORT")


def test_starting_postgres_on_a_taken_port_fails_before_touching_anything(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        pg = Postgres(Settings(stack="porttest", db_port=s.getsockname()[1]))
        try:
            with pytest.raises(StackError, match="is taken by another process"):
                pg.start()
            assert not pg.running()
        finally:
            pg.destroy()


def test_apply_without_a_database_says_to_start_the_stack() -> None:
    with pytest.raises(StackError, match=r"mentorships up"):
        db.apply(Settings(stack="nothing", db_port=1))


def test_a_badly_named_migration_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "add_things.sql").write_text("select 1")
    monkeypatch.setattr(db, "MIGRATIONS_DIR", tmp_path)
    with pytest.raises(StackError, match=r"YYYYMMDDHHMMSS_short_name\.sql"):
        db.migrations()


def test_reset_drops_everything_and_apply_restores_it(settings: Settings, world: World) -> None:
    """Runs last in this module: it re-creates the world with the same ids afterwards."""
    import psycopg

    from testing import world as world_

    db.reset(settings)
    with psycopg.connect(settings.dsn(), autocommit=True) as c:
        assert c.execute(
            "select count(*) from pg_tables where schemaname = 'public'"
        ).fetchone() == (0,)
        assert c.execute("select to_regnamespace('private')").fetchone() == (None,)
    db.apply(settings)
    db.prepare_test_database(settings)
    with psycopg.connect(settings.dsn(), autocommit=True) as c:
        again = world_.create(c).ids
        # uuids are fixed; identity ids (ledger, outbox, audit rows) depend on what ran before
        fixed = {
            k: v for k, v in world.ids.items() if not isinstance(v, int) or isinstance(v, bool)
        }
        assert {k: again[k] for k in fixed} == fixed and again.keys() == world.ids.keys()
        world.ids.update(again)  # later tests find the re-created rows
        assert c.execute(
            "select count(*) from supabase_migrations.schema_migrations"
        ).fetchone() == (len(db.migrations()),)
    assert PROJECT_DIR.joinpath("sql", "local", "auth_shim.sql").exists()
