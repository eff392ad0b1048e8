"""What the incremental report builds rely on in the dbt project (dbt/): they leave out the tables'
unique and not_null tests (sync/reports/dbt.py KIND_ARGS), so each of those tests must also be a
constraint of an enforced contract, which the database checks on every write. Read from the
project's files, without a database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sync.reports import dbt

MODELS = dbt.PROJECT_DIR / "models"
BACKED_BY = {"not_null": {"not_null", "primary_key"}, "unique": {"unique", "primary_key"}}


def materialized(sql: Path) -> str:
    """The model's materialization: its own config(), else its folder's (dbt_project.yml)."""
    found = re.search(r"materialized\s*=\s*'(\w+)'", sql.read_text())
    if found:
        return found.group(1)
    return "table" if "marts" in sql.relative_to(MODELS).parts else "view"


def tables() -> list[tuple[Path, dict[str, Any]]]:
    """Each table or incremental model's yml entry, with its yml file."""
    out = []
    for yml in sorted(MODELS.rglob("*.yml")):
        for model in (yaml.safe_load(yml.read_text()) or {}).get("models") or []:
            sql = yml.with_name(f"{model['name']}.sql")
            if sql.exists() and materialized(sql) != "view":
                out.append((yml, model))
    return out


def test_every_table_is_found() -> None:
    names = {model["name"] for _, model in tables()}
    assert {"int_people__pack_sessions", "renewals", "mentor_roster", "revenue_daily"} <= names
    assert not any(name.startswith("stg_") for name in names)


def test_the_tables_unique_and_not_null_tests_are_constraints_of_an_enforced_contract() -> None:
    problems = []
    for yml, model in tables():
        where = f"{yml.relative_to(dbt.PROJECT_DIR)}: {model['name']}"
        contract = ((model.get("config") or {}).get("contract") or {}).get("enforced")
        in_marts = "marts" in yml.relative_to(MODELS).parts  # enforced by dbt_project.yml
        if not (contract or in_marts):
            problems.append(f"{where}: no enforced contract")
        for column in model.get("columns") or []:
            constraints = {c["type"] for c in column.get("constraints") or []}
            for test in column.get("data_tests") or []:
                name = test if isinstance(test, str) else next(iter(test))
                if name in BACKED_BY and not constraints & BACKED_BY[name]:
                    problems.append(f"{where}.{column['name']}: {name} test without the constraint")
    assert problems == []


def test_an_incremental_build_leaves_those_tests_out() -> None:
    args = dbt.KIND_ARGS["incremental"]
    excluded = args[args.index("--exclude") + 1 : args.index("--exclude") + 3]
    assert set(excluded) == {"test_name:unique", "test_name:not_null"}
    assert "--full-refresh" in dbt.KIND_ARGS["full"]
