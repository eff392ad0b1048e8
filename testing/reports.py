"""Marts for the reports' tests, without the real models (other branches write those):
- `probe_project`: a throwaway copy of dbt/ (its dbt_project.yml, profiles and macros, so the
  same post-hook, contract and schemas) with one mart of the test's own, built by real dbt;
- `mart_like_post_hook`: a table made in analytics and given the grants and policies exactly as
  the post-hook (dbt/macros/analytics_read_policies.sql) gives them, for tests that need a mart
  but not a build."""

from __future__ import annotations

import http
import re
import shutil
import time
from pathlib import Path
from typing import Any, cast

import httpx
import psycopg
from psycopg import sql

from sync.reports import dbt
from testing.api import Api

DBT_DIR = dbt.PROJECT_DIR
MACRO = DBT_DIR / "macros" / "analytics_read_policies.sql"

PROBE_YML = """version: 2
models:
  - name: {name}
    description: A mart of the tests' own.
    columns:
      - name: id
        description: The row's number.
        data_type: integer
        data_tests: [unique, not_null]
      - name: label
        description: A word.
        data_type: text
"""


def probe_project(
    root: Path, name: str = "report_probe", select_sql: str | None = None
) -> dbt.Place:
    """dbt/ copied under `root` with one mart, `analytics.<name>` (two rows by default)."""
    project = root / "dbt"
    project.mkdir(parents=True)
    for f in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_DIR / f, project / f)
    shutil.copytree(DBT_DIR / "macros", project / "macros")
    marts = project / "models" / "marts"
    marts.mkdir(parents=True)
    body = select_sql or "select 1::integer as id, 'one'::text as label union all select 2, 'two'"
    (marts / f"{name}.sql").write_text(body + "\n")
    (marts / f"{name}.yml").write_text(PROBE_YML.format(name=name))
    return dbt.Place(project_dir=project, target_dir=root / "target", log_dir=root / "logs")


def clear_runs(conn: psycopg.Connection) -> None:
    """Removes every report run but the test world's: a test of the due rule starts from a
    history it knows (another test's run, started at its own frozen instant, would decide it)."""
    conn.execute("delete from public.report_runs where claimed_by <> 'world'")


def post_hook_sql(table: str) -> str:
    """The post-hook's statements for `table` (schema-qualified), from the macro itself."""
    text = MACRO.read_text()
    body = re.search(
        r"{%\s*macro analytics_read_policies\(\)\s*%}(.*?){%\s*endmacro\s*%}", text, re.S
    )
    assert body is not None, f"{MACRO}: no analytics_read_policies macro"
    return re.sub(r"{{\s*this\s*}}", table, body.group(1))


def mart_like_post_hook(conn: psycopg.Connection, name: str) -> None:
    """analytics.<name> (id, label; two rows, commented as persist_docs would) with the post-hook's
    grants and policies."""
    table = sql.Identifier("analytics", name)
    conn.execute(sql.SQL("drop table if exists {}").format(table))
    conn.execute(sql.SQL("create table {} (id integer primary key, label text)").format(table))
    conn.execute(sql.SQL("insert into {} values (1, 'one'), (2, 'two')").format(table))
    conn.execute(sql.SQL("comment on table {} is 'A mart of the tests'' own.'").format(table))
    for column in ("id", "label"):
        conn.execute(
            sql.SQL("comment on column {} is 'A column of the tests'' own.'").format(
                sql.Identifier("analytics", name, column)
            )
        )
    conn.execute(post_hook_sql(f"analytics.{name}"))
    conn.execute("notify pgrst, 'reload schema'")


def marts(conn: psycopg.Connection) -> list[str]:
    """Every table in analytics."""
    return [
        str(r[0])
        for r in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'analytics' and c.relkind in ('r', 'p') order by 1"
        )
    ]


# --- the marts over HTTP (Accept-Profile: analytics) ---------------------------------------------

KEYS = {"code", "message", "details", "hint"}
READERS = ("admin", "service")
NOBODY = ("student_a", "student_b", "mentor_a", "mentor_b")
PROFILE = {"Accept-Profile": "analytics"}
WRITE_PROFILE = {"Content-Profile": "analytics"}


def served(conn: psycopg.Connection, api: Api, mart: str, timeout: float = 15) -> None:
    """Waits until PostgREST's schema cache holds the mart (its OpenAPI lists it): a read would
    pass before (PostgREST 12 reads a relation it does not know yet), a write would not. A
    reload notification PostgREST missed while reloading is sent again."""
    deadline = time.monotonic() + timeout
    while True:
        r = api.get("/", headers=PROFILE)
        if r.status_code == 200 and f"/{mart}" in r.json().get("paths", {}):
            return
        assert time.monotonic() < deadline, (
            f"{mart} not in PostgREST's schema cache: {r.text[:300]}"
        )
        conn.execute("notify pgrst, 'reload schema'")
        time.sleep(0.5)


def first_column(conn: psycopg.Connection, mart: str) -> str:
    row = conn.execute(
        "select attname from pg_attribute where attrelid = %s::regclass and attnum = 1",
        (f'analytics."{mart}"',),
    ).fetchone()
    assert row is not None
    return str(row[0])


def check_contract(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A refusal in the project's error shape, with the standard reason phrase."""
    assert r.status_code == status, f"{r.status_code} {r.text} {r.request.method} {r.request.url}"
    assert r.reason_phrase == http.HTTPStatus(status).phrase
    assert r.headers["content-type"].startswith("application/json")
    body = cast(dict[str, Any], r.json())
    assert set(body) == KEYS, body
    assert body["code"] == code, body
    return body
