"""The backup and restore drill as a command (scripts/backup-drill.sh; testing/faults/drill.py).

    .venv/bin/python bench/backup_drill.py

Seeds a stack of its own with the demo's data, dumps its roles and database, restores both into
a fresh cluster, runs `db apply` on top, and prints the figures. Exits 1 when a table's row count
differs or an invariant breaks in the restored database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.faults import drill


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    d = drill.run()
    print(
        f"seeded {d.seeded}; dump {d.dump_bytes} bytes; seconds {d.seconds};"
        f" {len(d.source_rows)} tables, {sum(d.source_rows.values())} rows"
    )
    print(f"row count differences: {d.differences() or 'none'}")
    print(f"invariants broken in the restored database: {d.broken or 'none'}")
    return 1 if d.differences() or d.broken else 0


if __name__ == "__main__":
    sys.exit(main())
