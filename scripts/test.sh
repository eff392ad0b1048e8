#!/usr/bin/env bash
# Every check: the migrations (no landed one edited or removed, the newest bundle up to date with
# sql/rules + sql/rls), ruff, mypy, then pytest (which starts its own `test` stack on ports 253xx
# and stops it afterwards; a running demo stack is not touched), then the faults suite
# (scripts/test-faults.sh: its own stack on ports 283xx; about 3.5 minutes). Exits non-zero if
# any failed. Arguments (a selection: -k name, a file) go to pytest and leave the faults suite out.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
rc=0
echo "== migrations"
$BIN/mentorships db checksums --check || rc=1
$BIN/mentorships db bundle --check || rc=1
echo "== ruff"
$BIN/ruff check . || rc=1
$BIN/ruff format --check . || rc=1
echo "== mypy"
$BIN/mypy || rc=1
echo "== pytest"
$BIN/pytest "$@"
prc=$?
[ "$prc" -ne 0 ] && rc=$prc
if [ "$#" -eq 0 ]; then
  echo "== faults (make test-faults)"
  scripts/test-faults.sh -q
  frc=$?
  [ "$frc" -ne 0 ] && rc=$frc
fi
[ "$rc" -ne 0 ] && echo "make test: FAILED (exit $rc)" >&2
exit "$rc"
