"""Where a stack keeps its state, and the process helpers every component uses."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings

PG_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGREST_BIN = PROJECT_DIR / ".local" / "bin" / "postgrest"
SETUP_HINT = "run `make setup` (scripts/setup.sh)"


def is_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class Paths:
    state: Path
    pgroot: Path

    @property
    def pgdata(self) -> Path:
        return self.pgroot / "data"

    @property
    def pgrun(self) -> Path:
        return self.pgroot / "run"

    @property
    def pglog(self) -> Path:
        return self.pgroot / "postgres.log"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def postgrest_conf(self) -> Path:
        return self.state / "postgrest.conf"

    @property
    def postgrest_pid(self) -> Path:
        return self.state / "postgrest.pid"

    @property
    def postgrest_log(self) -> Path:
        return self.logs / "postgrest.log"

    @property
    def nginx(self) -> Path:
        return self.state / "nginx"

    @property
    def services_pid(self) -> Path:
        return self.state / "services.pid"

    @property
    def services_env(self) -> Path:
        return self.state / "services.env"

    @property
    def services_log(self) -> Path:
        return self.logs / "services.log"

    @property
    def provider_secrets(self) -> Path:
        return self.state / "provider-secrets.json"

    @property
    def paypal_key(self) -> Path:
        """The local PayPal signer's private key (mode 0600)."""
        return self.state / "paypal-local-key.pem"

    @property
    def paypal_cert(self) -> Path:
        """The local PayPal signer's certificate (public: the gateway serves it)."""
        return self.state / "paypal-local-cert.pem"


def paths(settings: Settings) -> Paths:
    state = PROJECT_DIR / ".local" / settings.stack
    if is_root():
        # Postgres refuses to run as root; the cluster belongs to the `postgres` user and lives
        # where that user can always reach it (a project under /root is not traversable).
        tag = hashlib.sha1(str(PROJECT_DIR).encode()).hexdigest()[:8]  # noqa: S324
        pgroot = Path("/var/lib/postgresql/mentorships") / f"{tag}-{settings.stack}"
    else:
        pgroot = state / "postgres"
    return Paths(state=state, pgroot=pgroot)


# --- helpers -------------------------------------------------------------------------------


def _as_postgres(cmd: list[str]) -> list[str]:
    if not is_root():
        return cmd
    try:
        pwd.getpwnam("postgres")
    except KeyError as e:
        raise StackError(
            f"there is no `postgres` system user: PostgreSQL 15 is not installed; {SETUP_HINT}"
        ) from e
    return ["runuser", "-u", "postgres", "--", *cmd]


def _chown_postgres(path: Path) -> None:
    if is_root():
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _run(cmd: list[str], what: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as e:
        raise StackError(f"{what}: {cmd[0]} not found; {SETUP_HINT}") from e
    if proc.returncode != 0:
        raise StackError(
            f"{what} failed (exit {proc.returncode}):\n{proc.stderr.strip() or proc.stdout.strip()}"
        )
    return proc


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _require_free(host: str, port: int, env: str) -> None:
    if port_in_use(host, port):
        raise StackError(
            f"port {port} on {host} is taken by another process. "
            f"Stop that process (see `ss -ltnp 'sport = :{port}'`) or set {env} to a free port."
        )


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Writes path atomically (a temporary file renamed over it), created with `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)  # whatever the umask
    tmp.replace(path)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _pid_alive(pid_file: Path, needle: str) -> int | None:
    """The pid in pid_file if that process runs and its command line contains needle."""
    try:
        pid = int(pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return None
    return pid if needle in cmdline else None


def _wait(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def _stop_pid(pid: int, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie child of ours counts as gone.
        with contextlib.suppress(OSError):
            if "State:\tZ" in Path(f"/proc/{pid}/status").read_text():
                return True
        return False

    if not _wait(gone, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _await_started(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], pid_file: Path, what: str, log: Path
) -> None:
    """Waits up to 30 s for a started process to answer `ready`; kills it and raises with its
    log's tail when it exits or stays silent."""
    if _wait(lambda: ready() or proc.poll() is not None, 30) and ready():
        return
    proc.poll()
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    pid_file.unlink(missing_ok=True)
    raise StackError(f"{what}.\nLog ({log}):\n{_tail(log)}")


@dataclass(frozen=True)
class Process:
    """A component's process as `start_process` starts it: its command and environment (every
    MENTORSHIPS_* variable it reads, nothing else of the stack's), the text that says which
    settings it runs with (kept in `env_file`, mode 0600), its pid file and log, the port it must
    find free (with the variable that moves it), and how to tell it is up."""

    command: list[str]
    environment: dict[str, str]
    config: str
    env_file: Path
    pid_file: Path
    log: Path
    port: tuple[str, int, str]  # host, port, the setting that moves it
    ready: Callable[[], bool]
    what: str  # the error when it does not come up: "the dashboards did not answer on ..."


def start_process(proc: Process, running: int | None, stop: Callable[[], object]) -> bool:
    """Starts it unless it runs already with the same settings (False then); one running with
    other settings is stopped first. Waits until it is ready (StackError with its log's tail)."""
    if running:
        if proc.env_file.exists() and proc.env_file.read_text() == proc.config:
            return False
        stop()
    _require_free(*proc.port)
    proc.log.parent.mkdir(parents=True, exist_ok=True)
    _write_file(proc.env_file, proc.config.encode(), 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    env.update(proc.environment)
    with proc.log.open("ab") as log:
        child = subprocess.Popen(
            proc.command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=PROJECT_DIR,
            env=env,
        )
    proc.pid_file.write_text(f"{child.pid}\n")
    _await_started(child, proc.ready, proc.pid_file, proc.what, proc.log)
    return True


def _stop_recorded(pid: int | None, pid_file: Path) -> bool:
    """Stops the process a pid file names; False when it was not running."""
    if not pid:
        return False
    _stop_pid(pid)
    pid_file.unlink(missing_ok=True)
    return True


# --- PostgreSQL -------------------------------------------------------------------------------
