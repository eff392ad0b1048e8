"""Local Google mode: with no Google OAuth client configured (MENTORSHIPS_GOOGLE_CLIENT_ID unset,
Google's own addresses), the stack runs a local Google, `python -m testing.fakes.google_local`
from the checkout: the strict fake's OAuth token endpoint and Calendar v3 routes as a standing
process, with a consent page and its state in `.local/<stack>/google/` (a restart keeps every
connection). The services and the calendar sync get its address as their three Google bases and a
local client id and secret (`client.json` there, made once, mode 0600), so the real connect flow
and the real sync run against it. A deploy with a real client never runs it."""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
from pathlib import Path
from typing import Any

import httpx

from mentorships.settings import Settings
from mentorships.stack.common import (
    Process,
    _pid_alive,
    _stop_recorded,
    _write_file,
    paths,
    start_process,
)
from sync.gcal import CALLBACK_PATH

GOOGLE_BASES = {
    "google_accounts_base": "https://accounts.google.com",
    "google_oauth_base": "https://oauth2.googleapis.com",
    "google_api_base": "https://www.googleapis.com",
}


class LocalGoogle:
    NEEDLE = "-m testing.fakes.google_local"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def enabled(self) -> bool:
        """Local mode: allowed (MENTORSHIPS_GOOGLE_LOCAL), no client of one's own and Google's
        own addresses (a fake of one's own keeps its addresses)."""
        s = self.s
        return (
            s.google_local
            and s.google_client_id is None
            and s.google_client_secret is None
            and all(getattr(s, field) == base for field, base in GOOGLE_BASES.items())
        )

    @property
    def address(self) -> str:
        return f"http://{self.s.host}:{self.s.google_local_port}"

    @property
    def state_dir(self) -> Path:
        return self.p.state / "google"

    @property
    def pid_file(self) -> Path:
        return self.p.state / "google-local.pid"

    @property
    def log(self) -> Path:
        return self.p.logs / "google-local.log"

    def client(self) -> tuple[str, str]:
        """The local OAuth client's id and secret (created on first use)."""
        path = self.state_dir / "client.json"
        with contextlib.suppress(OSError, ValueError, KeyError):
            data = json.loads(path.read_text())
            return str(data["client_id"]), str(data["client_secret"])
        tag = secrets.token_hex(6)
        client = {
            "client_id": f"{tag}-{self.s.stack}-local.apps.googleusercontent.com",
            "client_secret": f"GOCSPX-{secrets.token_urlsafe(24)}",
        }
        _write_file(path, json.dumps(client, indent=2).encode(), 0o600)
        return client["client_id"], client["client_secret"]

    def overrides(self) -> dict[str, Any]:
        """What the services and the calendar sync get in local mode (nothing otherwise)."""
        if not self.enabled:
            return {}
        client_id, client_secret = self.client()
        return {
            "google_client_id": client_id,
            "google_client_secret": client_secret,
            **dict.fromkeys(GOOGLE_BASES, self.address),
        }

    def environment(self) -> dict[str, str]:
        client_id, client_secret = self.client()
        redirect = self.s.google_redirect_uri or f"{self.s.public_services_url}{CALLBACK_PATH}"
        return {
            "MENTORSHIPS_GOOGLE_LOCAL_PORT": str(self.s.google_local_port),
            "MENTORSHIPS_GOOGLE_LOCAL_STATE_DIR": str(self.state_dir),
            "MENTORSHIPS_GOOGLE_LOCAL_CLIENT_ID": client_id,
            "MENTORSHIPS_GOOGLE_LOCAL_CLIENT_SECRET": client_secret,
            "MENTORSHIPS_GOOGLE_LOCAL_REDIRECT_URI": redirect,
        }

    def config(self) -> str:
        return "".join(f"{k}={v}\n" for k, v in sorted(self.environment().items()))

    def pid(self) -> int | None:
        return _pid_alive(self.pid_file, self.NEEDLE)

    def healthy(self) -> bool:
        try:
            r = httpx.get(f"{self.address}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def start(self) -> bool:
        return start_process(
            Process(
                command=[sys.executable, "-m", "testing.fakes.google_local"],
                environment=self.environment(),
                config=self.config(),
                env_file=self.p.state / "google-local.env",
                pid_file=self.pid_file,
                log=self.log,
                port=(self.s.host, self.s.google_local_port, "MENTORSHIPS_GOOGLE_LOCAL_PORT"),
                ready=self.healthy,
                what=f"local Google did not answer on {self.address}",
            ),
            self.pid(),
            self.stop,
        )

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)
