"""The stack's own Postgres cluster (pg_cron, UTC, the project's port)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack.common import (
    PG_BIN,
    SETUP_HINT,
    _as_postgres,
    _chown_postgres,
    _require_free,
    _run,
    _tail,
    paths,
)


class Postgres:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def address(self) -> str:
        return f"{self.s.host}:{self.s.db_port}"

    def installed(self) -> bool:
        return (PG_BIN / "initdb").exists()

    def initialized(self) -> bool:
        return (self.p.pgdata / "PG_VERSION").exists()

    def init(self) -> bool:
        """Create the cluster if it does not exist. Returns True when it was created."""
        if not self.installed():
            raise StackError(
                f"PostgreSQL 15 is not installed ({PG_BIN / 'initdb'} is missing); {SETUP_HINT}"
            )
        if self.initialized():
            return False
        for d in (self.p.pgroot.parent, self.p.pgroot, self.p.pgrun):
            d.mkdir(parents=True, exist_ok=True)
        _chown_postgres(self.p.pgroot)
        _chown_postgres(self.p.pgrun)
        pwfile = self.p.pgroot / ".pwfile"
        pwfile.write_text(self.s.db_password.get_secret_value() + "\n")
        pwfile.chmod(0o600)
        _chown_postgres(pwfile)
        try:
            _run(
                _as_postgres(
                    [
                        str(PG_BIN / "initdb"),
                        "-D",
                        str(self.p.pgdata),
                        "-U",
                        "postgres",
                        f"--pwfile={pwfile}",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                    ]
                ),
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.p.pgdata / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# Managed by `mentorships up`: see mentorships.conf\ninclude_if_exists = 'mentorships.conf'\n"
            )
        return True

    def conf_text(self) -> str:
        lines = [
            f"listen_addresses = '{self.s.host}'",
            f"port = {self.s.db_port}",
            f"unix_socket_directories = '{self.p.pgrun}'",
            "shared_preload_libraries = 'pg_cron'",
            f"cron.database_name = '{self.s.db_name}'",
            # jobs run in background workers: no libpq connection, so no password to configure
            "cron.use_background_workers = on",
            "max_worker_processes = 16",
            "cron.timezone = 'UTC'",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
            "max_connections = 200",
            # Logs as JSON lines (PG15's jsonlog, through the collector) in one file that
            # `mentorships logs` reads; pg_ctl's -l file keeps what comes before the collector.
            "logging_collector = on",
            "log_destination = 'jsonlog'",
            f"log_directory = '{self.json_log.parent}'",
            f"log_filename = '{self.json_log.stem}.log'",
            "log_rotation_age = 0",
            "log_rotation_size = 0",
        ]
        if self.s.ephemeral:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        return "\n".join(lines) + "\n"

    @property
    def json_log(self) -> Path:
        """Where the cluster's JSON log lines go (log_destination = 'jsonlog')."""
        return self.p.pgroot / "log" / "postgresql.json"

    @property
    def conf_path(self) -> Path:
        return self.p.pgdata / "mentorships.conf"

    def _write_conf(self) -> None:
        self.conf_path.write_text(self.conf_text())
        _chown_postgres(self.conf_path)

    def running(self) -> bool:
        if not self.initialized():
            return False
        proc = subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "status", "-D", str(self.p.pgdata)]),
            capture_output=True,
            text=True,
            check=False,
        )
        return proc.returncode == 0

    def running_port(self) -> int | None:
        """The port the running postmaster listens on (postmaster.pid, line 4)."""
        try:
            return int((self.p.pgdata / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, ValueError, IndexError):
            return None

    def start(self) -> bool:
        """Start the cluster (creating it first). Returns False when it already ran as
        configured; a cluster running with other settings (port, mentorships.conf) is restarted."""
        self.init()
        if self.running():
            current = self.conf_path.read_text() if self.conf_path.exists() else ""
            if self.running_port() == self.s.db_port and current == self.conf_text():
                return False
            self.stop()
        _require_free(self.s.host, self.s.db_port, "MENTORSHIPS_DB_PORT")
        self._write_conf()
        self.p.pgrun.mkdir(parents=True, exist_ok=True)
        _chown_postgres(self.p.pgrun)
        try:
            _run(
                _as_postgres(
                    [
                        str(PG_BIN / "pg_ctl"),
                        "start",
                        "-D",
                        str(self.p.pgdata),
                        "-l",
                        str(self.p.pglog),
                        "-w",
                        "-t",
                        "60",
                    ]
                ),
                "starting PostgreSQL",
            )
        except StackError as e:
            logs = f"PostgreSQL log ({self.p.pglog}):\n{_tail(self.p.pglog)}"
            if self.json_log.exists():
                logs += f"\nits JSON log ({self.json_log}):\n{_tail(self.json_log)}"
            raise StackError(f"{e}\n{logs}") from e
        return True

    def stop(self) -> bool:
        if not self.running():
            return False
        _run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.p.pgdata), "-m", "fast", "-w"]
            ),
            "stopping PostgreSQL",
        )
        return True

    def healthy(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.s.dsn(), connect_timeout=2) as conn:
                conn.execute("select 1")
            return True
        except psycopg.Error:
            return False

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.p.pgroot, ignore_errors=True)


# --- PostgREST --------------------------------------------------------------------------------
