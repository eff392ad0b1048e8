"""What the fault tests (tests_faults/, `make test-faults`), the load generator (bench/load.py)
and the soak (bench/soak.py) share: a stack with every worker on and the providers faked
(stack.py), the people and orders a load needs (world.py), and the exactly-once checks counted
in the database and at the fakes (checks.py)."""
