#!/usr/bin/env bash
# Every check: the migrations (no landed one edited or removed, the newest bundle up to date with
# sql/rules + sql/rls), ruff, mypy, then pytest (which starts its own `test` stack on ports 253xx
# and stops it afterwards; a running demo stack is not touched). Exits non-zero if any failed;
# pytest's summary is the last line. The faults suite is its own command: make test-faults.
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
[ "$rc" -ne 0 ] && echo "make test: FAILED (exit $rc)" >&2
exit "$rc"
