"""PostgREST on an internal port, behind the gateway."""

from __future__ import annotations

import subprocess

import httpx

from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack.common import (
    POSTGREST_BIN,
    SETUP_HINT,
    _await_started,
    _pid_alive,
    _require_free,
    _stop_recorded,
    paths,
)


class PostgREST:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def address(self) -> str:
        return f"{self.s.host}:{self.s.postgrest_port}"

    def config(self) -> str:
        s = self.s
        authenticator_uri = s.dsn("authenticator")
        return (
            "\n".join(
                [
                    f'db-uri = "{authenticator_uri}"',
                    # public is the default profile; Accept-Profile: analytics reads the reports.
                    'db-schemas = "public, analytics"',
                    'db-anon-role = "anon"',
                    'db-extra-search-path = "public, extensions"',
                    "db-max-rows = 1000",
                    f"db-pool = {s.postgrest_db_pool}",
                    "db-channel-enabled = true",
                    f'db-tx-end = "{"commit-allow-override" if s.allow_tx_rollback else "commit"}"',
                    f'jwt-secret = "{s.jwt_secret.get_secret_value()}"',
                    "jwt-secret-is-base64 = false",
                    # The JWT cache stays off: in 12.0.x it purges synchronously and measured slower
                    # here (bench/booking.py: ~250 vs ~500 bookings/s); fixed upstream in 12.2.10.
                    "jwt-cache-max-lifetime = 0",
                    f'server-host = "{s.host}"',
                    f"server-port = {s.postgrest_port}",
                    f"admin-server-port = {s.postgrest_admin_port}",
                    'log-level = "warn"',
                    'openapi-mode = "follow-privileges"',
                ]
            )
            + "\n"
        )

    def pid(self) -> int | None:
        return _pid_alive(self.p.postgrest_pid, "postgrest")

    def ready(self) -> bool:
        try:
            r = httpx.get(f"http://{self.s.host}:{self.s.postgrest_admin_port}/ready", timeout=1)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def start(self) -> bool:
        if self.pid():
            if (
                self.p.postgrest_conf.exists()
                and self.p.postgrest_conf.read_text() == self.config()
            ):
                return False
            self.stop()  # running with other settings
        if not POSTGREST_BIN.exists():
            raise StackError(
                f"PostgREST is not installed ({POSTGREST_BIN} is missing); {SETUP_HINT}"
            )
        _require_free(self.s.host, self.s.postgrest_port, "MENTORSHIPS_POSTGREST_PORT")
        _require_free(self.s.host, self.s.postgrest_admin_port, "MENTORSHIPS_POSTGREST_ADMIN_PORT")
        self.p.logs.mkdir(parents=True, exist_ok=True)
        self.p.postgrest_conf.write_text(self.config())
        self.p.postgrest_conf.chmod(0o600)
        with self.p.postgrest_log.open("ab") as log:
            proc = subprocess.Popen(
                [str(POSTGREST_BIN), str(self.p.postgrest_conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.p.state,
            )
        self.p.postgrest_pid.write_text(f"{proc.pid}\n")
        _await_started(
            proc,
            self.ready,
            self.p.postgrest_pid,
            f"PostgREST did not become ready on {self.address}",
            self.p.postgrest_log,
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.p.postgrest_pid)


# --- nginx (the API gateway) ------------------------------------------------------------------
