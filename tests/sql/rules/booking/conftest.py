"""Fixtures of the booking rule tests."""

from __future__ import annotations

from typing import Any

import pytest

from testing.booking import booked_world
from testing.clock import Clock
from testing.factories import Scenario


@pytest.fixture
def booked(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A New York mentor, a Tokyo student with a 4-session pack bought a week ago (testing.booking)."""
    return booked_world(scenario, clock)
