"""Fixtures of the report tests: `people`, the people-and-seats scenario built once per session
(testing/reports_people.py)."""

from testing.reports_people import people

__all__ = ["people"]
