"""Marts for the reports' tests, without the real models (other branches write those):
- `probe_project`: a throwaway copy of dbt/ (its dbt_project.yml, profiles and macros, so the
  same post-hook, contract and schemas) with one mart of the test's own, built by real dbt;
- `mart_like_post_hook`: a table made in analytics and given the grants and policies exactly as
  the post-hook (dbt/macros/analytics_read_policies.sql) gives them, for tests that need a mart
  but not a build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import psycopg
from psycopg import sql

from sync.reports import dbt

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
