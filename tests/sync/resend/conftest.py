"""Resend's API as a strict local fake (testing.fakes.resend), fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testing.fakes.resend import API_KEY, SENDER, ResendFake


@pytest.fixture(scope="module")
def resend_server() -> Iterator[ResendFake]:
    fake = ResendFake(api_key=API_KEY, sender=SENDER)
    yield fake
    fake.close()


@pytest.fixture
def resend_api(resend_server: ResendFake) -> Iterator[ResendFake]:
    resend_server.reset()
    yield resend_server
    resend_server.verify()
