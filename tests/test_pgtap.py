"""Runs every pgTAP file in supabase/tests/database/ (where `supabase test db` looks) against the
test stack. Each file opens a transaction, plans its assertions and rolls back; a failed, missing
or extra assertion fails here. The tests.* helpers they use (supabase/tests/helpers/) are
installed by db.prepare_test_database()."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mentorships import db
from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack import Stack

SQL_DIR = Path(__file__).resolve().parent.parent / "supabase" / "tests" / "database"
FILES = sorted(SQL_DIR.glob("*.sql"))


def test_there_are_pgtap_files() -> None:
    assert FILES, f"no pgTAP files in {SQL_DIR}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_pgtap_file(stack: Stack, settings: Settings, world: object, path: Path) -> None:
    try:
        out = db.psql(
            settings,
            "-A",
            "-t",
            "-f",
            str(path),
            what=f"pgTAP {path.name}",
            single_transaction=False,
        )
    except StackError as e:
        pytest.fail(str(e))
    lines = [line for line in out.splitlines() if line.strip()]
    plan = next((line for line in lines if re.fullmatch(r"1\.\.\d+", line)), None)
    assert plan, f"{path.name} printed no plan:\n{out}"
    planned = int(plan.split("..")[1])
    failed = [line for line in lines if line.startswith("not ok")]
    passed = [line for line in lines if re.match(r"ok \d+", line)]
    assert not failed, "\n".join([*failed, *[line for line in lines if line.startswith("#")]])
    assert len(passed) == planned, f"{path.name}: planned {planned}, ran {len(passed)}:\n{out}"
