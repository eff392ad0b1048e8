"""The dashboards (dashboards/, Streamlit) as a stack component: `streamlit run dashboards/app.py`
on 127.0.0.1:<MENTORSHIPS_DASHBOARDS_PORT> (8501), with the environment the stack renders for
them: the gateway as the Supabase URL, the anon key, the services' address, and local sign-in
with the stack's JWT secret (Supabase Auth does not run on a local stack). Never the service-role
key. Healthy when Streamlit's /_stcore/health answers `ok`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from mentorships import jwt
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack.common import (
    _await_started,
    _pid_alive,
    _require_free,
    _stop_recorded,
    paths,
)

APP = PROJECT_DIR / "dashboards" / "app.py"


class Dashboards:
    NEEDLE = "streamlit run"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def enabled(self) -> bool:
        return self.s.dashboards

    @property
    def address(self) -> str:
        return self.s.dashboards_url

    @property
    def pid_file(self) -> Path:
        return self.p.state / "dashboards.pid"

    @property
    def env_file(self) -> Path:
        return self.p.state / "dashboards.env"

    @property
    def log(self) -> Path:
        return self.p.logs / "dashboards.log"

    def environment(self) -> dict[str, str]:
        return {
            "MENTORSHIPS_SUPABASE_URL": self.s.gateway_url,
            "MENTORSHIPS_SUPABASE_ANON_KEY": jwt.anon_key(self.s),
            "MENTORSHIPS_DASHBOARDS_SERVICES_URL": self.s.services_url,
            "MENTORSHIPS_DASHBOARDS_LOCAL_SIGN_IN": "true",
            "MENTORSHIPS_DASHBOARDS_JWT_SECRET": self.s.jwt_secret.get_secret_value(),
            "MENTORSHIPS_DASHBOARDS_CACHE_SECONDS": str(self.s.dashboards_cache_seconds),
        }

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.address",
            self.s.host,
            "--server.port",
            str(self.s.dashboards_port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            "--client.toolbarMode",
            "minimal",
        ]

    def config(self) -> str:
        lines = [*sorted(f"{k}={v}" for k, v in self.environment().items()), *self.command()]
        return "".join(f"{line}\n" for line in lines)

    def pid(self) -> int | None:
        return _pid_alive(self.pid_file, self.NEEDLE)

    def healthy(self) -> bool:
        try:
            r = httpx.get(f"{self.address}/_stcore/health", timeout=2)
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and r.text.strip() == "ok"

    def start(self) -> bool:
        config = self.config()
        if self.pid():
            if self.env_file.exists() and self.env_file.read_text() == config:
                return False
            self.stop()  # running with other settings
        _require_free(self.s.host, self.s.dashboards_port, "MENTORSHIPS_DASHBOARDS_PORT")
        self.p.logs.mkdir(parents=True, exist_ok=True)
        self.env_file.touch(mode=0o600)
        self.env_file.chmod(0o600)
        self.env_file.write_text(config)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
        env.update(self.environment())
        with self.log.open("ab") as log:
            proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=PROJECT_DIR,
                env=env,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        _await_started(
            proc,
            self.healthy,
            self.pid_file,
            f"the dashboards did not become healthy on {self.address}",
            self.log,
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)
