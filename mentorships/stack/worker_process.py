"""What the stack's three workers (the outbox dispatcher, the calendar sync, the reports schedule)
have in common as components: `python -m <module>` started with the environment the stack renders
for it (kept in `<name>.env`, so a start with the same settings is a no-op), its pid, log and
health file under `.local/<stack>/`; healthy while its health file is fresh and names the running
process; stopped by its recorded pid."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack.common import _await_started, _pid_alive, _stop_recorded, paths
from sync.messaging.worker import status_of

STALE_POLLS = 3  # a health file older than this many polls (plus the margin) is stale
STALE_MARGIN_SECONDS = 10


class WorkerProcess:
    NAME: ClassVar[str]  # the files' name: <NAME>.pid, <NAME>.env, <NAME>.log, <NAME>-status.json
    MODULE: ClassVar[str]  # what `python -m` runs
    WHAT: ClassVar[str]  # what a person calls it, in messages
    DEFAULT_POLL_SECONDS: ClassVar[float]  # when the health file does not say

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    @property
    def needle(self) -> str:
        return f"-m {self.MODULE}"

    @property
    def pid_file(self) -> Path:
        return self.p.state / f"{self.NAME}.pid"

    @property
    def env_file(self) -> Path:
        return self.p.state / f"{self.NAME}.env"

    @property
    def log(self) -> Path:
        return self.p.logs / f"{self.NAME}.log"

    @property
    def status_file(self) -> Path:
        return self.p.state / f"{self.NAME}-status.json"

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def config(self) -> str:
        return "".join(f"{k}={v}\n" for k, v in sorted(self.environment().items()))

    def pid(self) -> int | None:
        return _pid_alive(self.pid_file, self.needle)

    def loop_age(self) -> tuple[float, float] | None:
        """Seconds since the running worker's last loop and its poll interval, from its health
        file (None when it is not running, stopped, or the file is not its own)."""
        pid = self.pid()
        status = status_of(self.status_file)
        if not pid or status is None or status.get("pid") != pid or status.get("stopped"):
            return None
        try:
            last = dt.datetime.fromisoformat(str(status["last_loop_at"]))
            poll = float(status.get("poll_seconds") or self.DEFAULT_POLL_SECONDS)
        except (KeyError, ValueError):
            return None
        return (dt.datetime.now(dt.UTC) - last).total_seconds(), poll

    def healthy(self) -> bool:
        age = self.loop_age()
        return age is not None and age[0] < STALE_POLLS * age[1] + STALE_MARGIN_SECONDS

    def start(self) -> bool:
        config = self.config()
        if self.pid():
            if self.env_file.exists() and self.env_file.read_text() == config:
                return False
            self.stop()  # running with other settings
        self.p.logs.mkdir(parents=True, exist_ok=True)
        self.env_file.touch(mode=0o600)
        self.env_file.chmod(0o600)
        self.env_file.write_text(config)
        self.status_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
        env.update(self.environment())
        with self.log.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", self.MODULE],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=PROJECT_DIR,
                env=env,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        _await_started(
            proc, self.healthy, self.pid_file, f"{self.WHAT} did not report healthy", self.log
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)
