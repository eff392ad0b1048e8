"""The people-and-seats marts after the scenario's incremental build (testing/reports_people.py:
one more day, B's session completed, the clock on) hold exactly the rows a full build makes of
the same data: whole pairs recomputed (mentor_roster, renewals), days since the last session
brought to the clock, occupancy's new day, the overview rebuilt."""

from __future__ import annotations

import pytest

from testing.reports_people import MARTS, People


@pytest.mark.parametrize("mart", MARTS)
def test_the_incremental_build_equals_a_full_one(people: People, mart: str) -> None:
    assert people.second[mart] == people.rebuilt[mart]
    assert people.second[mart] != []
