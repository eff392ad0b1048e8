from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboards.settings import DashboardSettings
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.dashboards import environment


@pytest.fixture(scope="session")
def dashboards(settings: Settings, stack: Stack) -> Iterator[DashboardSettings]:
    """The dashboards' settings of the test stack, in the environment while the tests run."""
    with environment(settings) as s:
        yield s
