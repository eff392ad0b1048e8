"""The reports (dbt, dbt/): running `dbt build` against a database (dbt.py), recording each run
through the rules in sql/rules/reports.sql (runs.py), and the schedule (worker.py,
`python -m sync.reports`)."""
