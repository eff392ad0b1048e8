"""What the observability tests share (tests/sync/observability): the ports of their own servers
(the test port base + 40 and up, as every extra server of a suite), and the services' log lines
captured in their JSON form."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from testing.stacks import TEST_PORT_BASE


def port_base() -> int:
    return int(os.environ.get("MENTORSHIPS_TEST_PORTS") or TEST_PORT_BASE)


# Our own servers: the app, the collector, a fake gateway, a port nothing listens on.
APP_PORT_OFFSET, COLLECTOR_OFFSET, GATEWAY_OFFSET, CLOSED_OFFSET = 40, 41, 42, 43


Serve = Callable[..., AbstractContextManager[str]]


class LogLines:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]

    def wait_for(
        self, check: Callable[[dict[str, Any]], bool], count: int = 1
    ) -> list[dict[str, Any]]:
        """The lines `check` accepts, once there are `count` of them (the access line is written
        just after the answer is sent), within 5 s."""
        found: list[dict[str, Any]] = []
        for _ in range(100):
            found = [line for line in self.lines() if check(line)]
            if len(found) >= count:
                break
            time.sleep(0.05)
        return found

    def text(self) -> str:
        return self.stream.getvalue()
