from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboards.settings import DashboardSettings
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.dashboards import environment


@pytest.fixture
def dashboards(settings: Settings, stack: Stack) -> Iterator[DashboardSettings]:
    """The dashboards' settings of the test stack, in the environment for the test (and taken out
    again: other tests read MENTORSHIPS_SUPABASE_URL too, and must not find this one)."""
    with environment(settings) as s:
        yield s
