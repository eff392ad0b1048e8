#!/usr/bin/env bash
# The faults suite (tests_faults/): components killed and restarted under load, providers down a
# while, the backup and restore drill, on a stack of its own (ports MENTORSHIPS_TEST_PORTS,
# default 28320..28399; every worker on, the providers faked). `make test` runs it after pytest. Prints the
# table of outages and recoveries at the end (also in .local/test-output/faults.json).
set -uo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/pytest tests_faults -p no:cacheprovider "$@"
