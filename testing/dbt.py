"""dbt against a stack, for the report tests: the project in dbt/, its connection from the stack's
settings (dbt/profiles.yml reads DBT_PG*), its results read from target/run_results.json."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mentorships.settings import PROJECT_DIR, Settings

DBT_DIR = PROJECT_DIR / "dbt"
DBT_BIN = PROJECT_DIR / ".venv" / "bin" / "dbt"


def dbt_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DBT_PGHOST": settings.host,
        "DBT_PGPORT": str(settings.db_port),
        "DBT_PGUSER": "postgres",
        "DBT_PGPASSWORD": settings.db_password.get_secret_value(),
        "DBT_PGDATABASE": settings.db_name,
    }


def dbt(settings: Settings, *args: str, check: bool = True) -> list[dict[str, Any]]:
    """Run `dbt <args>` on the stack with a target folder of its own; the nodes' results."""
    with tempfile.TemporaryDirectory(prefix="dbt-target-") as target:
        proc = subprocess.run(
            [
                str(DBT_BIN),
                *args,
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                target,
                "--log-path",
                target,
            ],
            env=dbt_env(settings),
            capture_output=True,
            text=True,
            check=False,
        )
        results_file = Path(target) / "run_results.json"
        results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    if check and proc.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}"
        )
    return list(results)
