"""Fixtures of the payment rule tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mentorships import jwt
from mentorships.settings import Settings
from testing.api import Api
from testing.clock import Clock
from testing.factories import Scenario
from testing.payments import NOW


@pytest.fixture
def service(settings: Settings) -> Iterator[Api]:
    api = Api(settings, jwt.service_role_key(settings), apikey=jwt.service_role_key(settings))
    yield api
    api.http.close()


@pytest.fixture
def shop(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    """A mentor with 3 seats selling a 4-session pack at 240.00 USD, a student, an admin."""
    clock.freeze(NOW)
    mentor = scenario.mentor(capacity=3)
    return {
        "mentor": mentor,
        "product": scenario.product(mentor, price_cents=24000),
        "student": scenario.person("student"),
        "admin": scenario.person("admin"),
    }
