"""The dashboards (dashboards/, Streamlit) as a stack component: `streamlit run dashboards/app.py`
on 127.0.0.1:<MENTORSHIPS_DASHBOARDS_PORT> (8501), with the environment the stack renders for
them: the gateway as the Supabase URL, the anon key, the services' address, and local sign-in
with the stack's JWT secret (Supabase Auth does not run on a local stack). Never the service-role
key. Healthy when Streamlit's /_stcore/health answers `ok`."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from mentorships import jwt
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack.common import Process, _pid_alive, _stop_recorded, paths, start_process

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
        return start_process(
            Process(
                command=self.command(),
                environment=self.environment(),
                config=self.config(),
                env_file=self.env_file,
                pid_file=self.pid_file,
                log=self.log,
                port=(self.s.host, self.s.dashboards_port, "MENTORSHIPS_DASHBOARDS_PORT"),
                ready=self.healthy,
                what=f"the dashboards did not become healthy on {self.address}",
            ),
            self.pid(),
            self.stop,
        )

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)
