#!/usr/bin/env bash
# The backup and restore drill (testing/faults/drill.py): a stack of its own seeded with the demo's
# data, pg_dumpall --roles-only and pg_dump -Fc of it, both restored into a fresh cluster, `db apply`
# on top; prints the figures, exits 1 when a table's row count differs or an invariant breaks.
# Ports: MENTORSHIPS_TEST_PORTS + 50..62 (default 28370..28382). Touches no other stack.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/backup_drill.py "$@"
