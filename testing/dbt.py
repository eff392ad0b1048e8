"""dbt against a stack, for the report tests: the project in dbt/ run the way the reports worker
runs it (sync/reports/dbt.py: the connection as DBT_PG*, no usage stats), with a target folder of
its own; the nodes' results read from its run_results.json."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from mentorships.settings import Settings
from sync.reports.dbt import Place, command, environment


def dbt(settings: Settings, *args: str, check: bool = True) -> list[dict[str, Any]]:
    """Run `dbt <args>` on the stack; the nodes' results."""
    with tempfile.TemporaryDirectory(prefix="dbt-target-") as target:
        place = Place(target_dir=Path(target), log_dir=Path(target))
        proc = subprocess.run(
            command(place, *args),
            env=environment(settings.dsn(), place),
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
