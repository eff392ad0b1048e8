"""The test stack's settings are fixed by the tests alone."""

from __future__ import annotations

import pytest

from mentorships.settings import Settings
from testing.stacks import settings_for_tests


def test_the_environment_does_not_reach_the_test_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORSHIPS_POSTGREST_DB_POOL", "1")
    monkeypatch.setenv("MENTORSHIPS_DB_PORT", "5432")
    monkeypatch.setenv("MENTORSHIPS_ALLOW_TX_ROLLBACK", "false")
    assert Settings().postgrest_db_pool == 1  # the variables are read elsewhere
    fixed = settings_for_tests()
    assert fixed.postgrest_db_pool == 20
    assert fixed.db_port == 25322 or fixed.stack != "test"
    assert fixed.allow_tx_rollback is True


def test_the_test_ports_move_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTORSHIPS_TEST_PORTS", "27320")
    moved = settings_for_tests()
    assert (moved.stack, moved.gateway_port, moved.db_port, moved.services_port) == (
        "test-27320",
        27321,
        27322,
        27330,
    )
    monkeypatch.setenv("MENTORSHIPS_TEST_PORTS", "80")
    with pytest.raises(ValueError, match="MENTORSHIPS_TEST_PORTS must be between 1024 and 32700"):
        settings_for_tests()
