"""The local Supabase-compatible stack: a Postgres cluster of the project's own, PostgREST behind
nginx at /rest/v1/ (as hosted Supabase serves it), and the Python services (sync/). Each
component starts, stops and reports health; a second `up` is a no-op for what already runs.

With placeholder PayPal keys the stack also plays PayPal's certificate host (nginx serves a local
signer's certificate, see Services.local_paypal_signer), so PayPal webhooks signed locally
verify."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import http
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from mentorships import jwt
from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings
from sync.settings import (
    PLACEHOLDER_FIELDS,
    ProviderSettings,
    ServiceSettings,
    new_placeholder,
    placeholder_providers,
)
from sync.signing import PayPalCert, PayPalSigner

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


def _stop_recorded(pid: int | None, pid_file: Path) -> bool:
    """Stops the process a pid file names; False when it was not running."""
    if not pid:
        return False
    _stop_pid(pid)
    pid_file.unlink(missing_ok=True)
    return True


# --- PostgreSQL -------------------------------------------------------------------------------


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
        ]
        if self.s.ephemeral:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        return "\n".join(lines) + "\n"

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
            raise StackError(f"{e}\nPostgreSQL log ({self.p.pglog}):\n{_tail(self.p.pglog)}") from e
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
                    'db-schemas = "public"',
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

# What the gateway accepts from a client (nginx's client_max_body_size and
# large_client_header_buffers); its error messages name these sizes.
GATEWAY_MAX_BODY_MB = 10
GATEWAY_HEADER_BUFFERS = 4
GATEWAY_HEADER_BUFFER_KB = 8
# What it accepts from PostgREST: the response headers must fit in one proxy buffer.
GATEWAY_UPSTREAM_HEADER_KB = 16
# Where the gateway's own error answers are served (internal only, see Gateway._error_server).
GATEWAY_ERROR_PREFIX = "/__gateway_error/"
# error_page: each status nginx produces -> the page answering it (Gateway.error_pages). 494 is
# nginx's own code for request headers too large, answered 400. nginx never answers 408 itself:
# on a client timeout it closes the connection (mapped all the same).
ERROR_PAGE_FOR_STATUS = {
    400: "400",
    494: "400-headers",
    401: "401-$mentorships_apikey",
    403: "403",
    404: "404",
    405: "405",
    408: "408",
    413: "413",
    414: "414",
    429: "429",
    500: "500",
    501: "501",
    502: "502$mentorships_upstream_answered",
    503: "503",
    504: "504",
    505: "505",
}


@dataclass(frozen=True)
class GatewayError:
    """An answer the gateway makes itself, in PostgREST's error shape: `{"code", "message",
    "details", "hint"}` (all four keys, null where there is nothing), code `GW<status>`."""

    status: int
    message: str
    hint: str
    details: str | None = None

    @property
    def code(self) -> str:
        return f"GW{self.status}"

    def body(self) -> str:
        return json.dumps(
            {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "hint": self.hint,
            },
            separators=(",", ":"),
        )

    def http_response(self) -> str:
        """The whole HTTP/1.1 response, status line with the standard reason phrase."""
        body = self.body()
        return (
            f"HTTP/1.1 {self.status} {http.HTTPStatus(self.status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\n"
            "Connection: close\r\n"
            "\r\n"
            f"{body}"
        )


def _nginx_string(text: str) -> str:
    """text as a single-quoted nginx string (nginx turns the \\r and \\n escapes back into bytes)."""
    if "$" in text:
        # nginx would read it as a variable, and has no escape for it.
        raise ValueError(f"a literal nginx string cannot contain '$': {text!r}")
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "'" + escaped.replace("\r", "\\r").replace("\n", "\\n") + "'"


class Gateway:
    """nginx in front of PostgREST at /rest/v1/, checking the API key as Supabase's gateway
    does (the `apikey` header, else an `apikey` URL parameter, which is removed before PostgREST
    sees it; missing, unknown or repeated: 401) and using it as the bearer token when a request
    carries no Authorization header.

    Every answer the gateway makes itself (error_pages) is JSON in PostgREST's error shape with a
    standard status line, never nginx's HTML page."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def address(self) -> str:
        return self.s.gateway_url

    @property
    def conf(self) -> Path:
        return self.p.nginx / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.p.nginx / "nginx.pid"

    @property
    def error_socket(self) -> Path:
        """The unix socket of the server that holds the gateway's error answers."""
        return self.p.nginx / "errors.sock"

    def error_pages(self) -> dict[str, GatewayError]:
        """The gateway's own answers by page name (the name is the status, or the status and
        why). error_page sends each nginx status to one of them: ERROR_PAGE_FOR_STATUS."""
        timeout = self.s.gateway_upstream_timeout_seconds
        status_hint = "try again shortly; if it persists run `mentorships status`"
        return {
            "400": GatewayError(
                400,
                "the gateway could not read this request: it is not well-formed HTTP",
                "send a well-formed HTTP/1.1 request, as supabase-js, supabase-py and curl do",
            ),
            "400-headers": GatewayError(
                400,
                "the request headers are larger than the gateway accepts "
                f"({GATEWAY_HEADER_BUFFER_KB} KB per header line, "
                f"{GATEWAY_HEADER_BUFFERS * GATEWAY_HEADER_BUFFER_KB} KB in all)",
                "send less in headers: long filters belong in the query or in a "
                "POST /rest/v1/rpc/<function> body, and the API needs no cookies",
            ),
            "401-missing": GatewayError(
                401,
                "No API key found in request",
                "send the project's anon or service_role key in the `apikey` header (or an "
                "`apikey` url param); `mentorships keys` prints them",
                details="No `apikey` request header or url param was found.",
            ),
            "401-invalid": GatewayError(
                401,
                "Invalid API key",
                "Double check your Supabase `anon` or `service_role` API key; "
                "`mentorships keys` prints this stack's.",
                details="The `apikey` header or url param is not this project's anon or service_role key.",
            ),
            "401-repeated": GatewayError(
                401,
                "Duplicate API key found",
                "send the key once: in the `apikey` header or in one `apikey` url param",
                details="The `apikey` url param appears more than once.",
            ),
            "403": GatewayError(
                403,
                "the gateway does not allow this request",
                "use the REST API at /rest/v1/ with your `apikey`, e.g. /rest/v1/mentors",
            ),
            "404": GatewayError(
                404,
                "the gateway has no route for this path",
                "the REST API is at /rest/v1/ (with the trailing slash), e.g. /rest/v1/mentors",
            ),
            "405": GatewayError(
                405,
                "the gateway does not accept this HTTP method",
                "use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
            ),
            "408": GatewayError(
                408,
                "the request did not arrive in time",
                "send the whole request without pausing, then retry",
            ),
            "413": GatewayError(
                413,
                f"the request body is larger than the gateway accepts ({GATEWAY_MAX_BODY_MB} MB)",
                "send less per request, e.g. split a bulk insert into batches",
            ),
            "414": GatewayError(
                414,
                "the request URI is longer than the gateway accepts "
                f"({GATEWAY_HEADER_BUFFER_KB} KB)",
                "shorten the URL: select fewer columns, or send long filters in a "
                "POST /rest/v1/rpc/<function> body",
            ),
            "429": GatewayError(
                429,
                "too many requests from this client",
                "wait a moment, then retry with fewer requests per second",
            ),
            "500": GatewayError(
                500,
                "the gateway failed while handling this request",
                "try again; if it persists run `mentorships status` and report it",
            ),
            "501": GatewayError(
                501,
                "the gateway does not support this request's Transfer-Encoding",
                "send the body with Content-Length or Transfer-Encoding: chunked",
            ),
            "502": GatewayError(502, "the API server is not reachable", status_hint),
            "502-answer": GatewayError(
                502,
                "the API server sent an answer the gateway cannot pass on (for example, "
                f"response headers over {GATEWAY_UPSTREAM_HEADER_KB} KB)",
                "this is a bug in the API (PostgREST or a database function it ran): "
                "report it with the request",
            ),
            "503": GatewayError(503, "the API is not available right now", status_hint),
            "504": GatewayError(
                504,
                f"the API server did not answer within {timeout} s",
                "try again; a request this slow should ask for less (filters, limit) or "
                "move its work into a database function",
            ),
            "505": GatewayError(
                505,
                "the gateway speaks HTTP/1.0 and HTTP/1.1 only",
                "send an HTTP/1.1 request",
            ),
        }

    def local_paypal(self) -> bool:
        """Whether this gateway also serves the local PayPal certificate host (see
        Services.local_paypal_signer)."""
        return Services(self.s).local_paypal()

    def _paypal_server(self) -> str:
        """The server block playing PayPal's certificate host: the local signer's certificate
        at LOCAL_PAYPAL_CERT_PATH, nothing else."""
        services = Services(self.s)
        if services.local_paypal_signer() is None:
            return ""
        not_found = (
            '{"name":"RESOURCE_NOT_FOUND","message":"the local PayPal stand-in serves only '
            f'{LOCAL_PAYPAL_CERT_PATH}"}}'
        )
        return f"""
  # PayPal's certificate host, played locally: PayPal runs on placeholder keys here.
  server {{
    listen {self.s.host}:{self.s.paypal_local_port};
    server_name _;

    location = {LOCAL_PAYPAL_CERT_PATH} {{
      default_type application/x-pem-file;
      alias "{self.p.paypal_cert}";
    }}
    location / {{
      return 404 '{not_found}';
    }}
  }}
"""

    def _error_server(self) -> str:
        """The server holding the gateway's own answers, on a unix socket of its own.

        error_page sends every status nginx produces to GATEWAY_ERROR_PREFIX<page>, which asks
        this server for the page. Why a server: nginx writes its own reason phrases ("405 Not
        Allowed", "414 Request-URI Too Large", "503 Service Temporarily Unavailable", "504 Gateway
        Time-out") but passes a proxied status line on as it is. The request to this server is an
        HTTP/0.9 one (proxy_method ends the request line; nginx ignores what follows), which nginx
        answers with the body alone, and each body here is a whole HTTP response."""
        pages = self.error_pages()
        locations = "".join(
            f"    location = {GATEWAY_ERROR_PREFIX}{name} {{\n"
            f"      return 200 {_nginx_string(page.http_response())};\n"
            "    }\n"
            for name, page in pages.items()
        )
        return f"""
  # The gateway's own answers (see Gateway._error_server); nothing else connects here.
  server {{
    listen unix:{self.error_socket};
    access_log off;

{locations}    location / {{
      return 200 {_nginx_string(pages["500"].http_response())};
    }}
  }}
"""

    def config(self) -> str:
        s, d = self.s, self.p.nginx
        anon, service = jwt.anon_key(s), jwt.service_role_key(s)
        user = "user nobody nogroup;" if is_root() else ""
        cors_headers = (
            "authorization, apikey, content-type, prefer, range, range-unit, accept-profile, "
            "content-profile, x-client-info, accept, x-upsert"
        )
        error_pages = "".join(
            f"    error_page {status} = {GATEWAY_ERROR_PREFIX}{page};\n"
            for status, page in ERROR_PAGE_FOR_STATUS.items()
        )
        timeout = s.gateway_upstream_timeout_seconds
        return f"""# Generated by `mentorships up`; edits are overwritten.
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
  access_log {d}/access.log combined buffer=64k flush=1s;
  client_body_temp_path {d}/tmp/client_body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  client_max_body_size {GATEWAY_MAX_BODY_MB}m;
  client_body_buffer_size 1m;
  large_client_header_buffers {GATEWAY_HEADER_BUFFERS} {GATEWAY_HEADER_BUFFER_KB}k;
  default_type application/json;
  server_tokens off;
  map_hash_bucket_size 256;

  # The API key: the apikey header, else the apikey URL parameter (as Supabase's gateway).
  map $http_apikey $mentorships_key {{
    ""  $arg_apikey;
    default $http_apikey;
  }}
  # An apikey URL parameter given twice is refused: only one is removed from the query.
  map $args $mentorships_apikey_repeated {{
    "~*(?:^|&)apikey(?:=|&|$).*&apikey(?:=|&|$)" repeated;
    default "";
  }}
  map "$mentorships_apikey_repeated:$mentorships_key" $mentorships_apikey {{
    "~^repeated:" repeated;
    ":" missing;
    ":{anon}" ok;
    ":{service}" ok;
    default invalid;
  }}
  # The query without its apikey parameter: PostgREST would read it as a column filter or an
  # RPC argument.
  map $args $mentorships_args {{
    "~*^apikey(?:=[^&]*)?(?:&(?<mentorships_args_after>.*))?$" $mentorships_args_after;
    "~*^(?<mentorships_args_before>.*?)&apikey(?:=[^&]*)?(?<mentorships_args_rest>&.*)?$" "$mentorships_args_before$mentorships_args_rest";
    default $args;
  }}
  map $http_authorization $mentorships_authorization {{
    ""  "Bearer $mentorships_key_sent";
    default $http_authorization;
  }}
  # Whether PostgREST answered at all before a 502 (an answer the gateway could not pass on).
  map $upstream_bytes_received $mentorships_upstream_answered {{
    "~[1-9]" -answer;
    default "";
  }}

  upstream postgrest {{
    server {s.host}:{s.postgrest_port};
    keepalive 64;
  }}

  server {{
    listen {s.host}:{s.gateway_port};
    server_name _;

    # On every answer, errors included. A location with an add_header of its own would lose
    # these, so none has one.
    add_header Access-Control-Allow-Origin "*" always;
    add_header Access-Control-Allow-Methods "GET, POST, PATCH, PUT, DELETE, OPTIONS" always;
    add_header Access-Control-Allow-Headers "{cors_headers}" always;
    add_header Access-Control-Expose-Headers "content-range, content-profile, preference-applied" always;
    add_header Access-Control-Max-Age 3600 always;

    # Every status nginx makes itself is answered as JSON (Gateway.error_pages); PostgREST's own
    # answers pass untouched. With `=` the answer keeps the page's own status line.
{error_pages}
    location = /health {{
      return 200 '{{"status":"ok"}}';
    }}

    location /rest/v1/ {{
      if ($request_method = OPTIONS) {{
        return 204;
      }}
      if ($mentorships_apikey != ok) {{
        return 401;
      }}
      # The key is read before its URL parameter leaves the query.
      set $mentorships_key_sent $mentorships_key;
      set $args $mentorships_args;
      proxy_pass http://postgrest/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header Authorization $mentorships_authorization;
      proxy_set_header apikey "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Prefix /rest/v1;
      # PostgREST echoes the request's query in it; nothing reads it.
      proxy_hide_header Content-Location;
      proxy_read_timeout {timeout}s;
      proxy_send_timeout {timeout}s;
      # PostgREST's headers must fit in proxy_buffer_size, or nginx answers 502.
      proxy_buffer_size {GATEWAY_UPSTREAM_HEADER_KB}k;
      proxy_buffers 8 {GATEWAY_UPSTREAM_HEADER_KB}k;
    }}

    # Without the slash nginx would redirect, echoing the query into a Location header.
    location = /rest/v1 {{
      return 404;
    }}
    location / {{
      return 404;
    }}

    # Asks the error server for the page, with an HTTP/0.9 request line (Gateway._error_server).
    location ^~ {GATEWAY_ERROR_PREFIX} {{
      internal;
      proxy_pass http://unix:{self.error_socket};
      proxy_method "GET $uri\\r\\n";
      proxy_pass_request_headers off;
      proxy_pass_request_body off;
    }}
  }}
{self._error_server()}{self._paypal_server()}}}
"""

    def pid(self) -> int | None:
        return _pid_alive(self.pid_file, "nginx")

    def healthy(self) -> bool:
        try:
            r = httpx.get(
                f"{self.s.rest_url}/", headers={"apikey": jwt.anon_key(self.s)}, timeout=2
            )
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def start(self) -> bool:
        if self.pid():
            if self.conf.exists() and self.conf.read_text() == self.config():
                return False
            self.stop()  # running with other settings
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            raise StackError(f"nginx is not installed; {SETUP_HINT}")
        config = self.config()
        ports = [(self.s.gateway_port, "MENTORSHIPS_GATEWAY_PORT")]
        if self.local_paypal():
            ports.append((self.s.paypal_local_port, "MENTORSHIPS_PAYPAL_LOCAL_PORT"))
        for port, env in ports:
            _require_free(self.s.host, port, env)
        tmp = self.p.nginx / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        tmp.chmod(0o1777)
        if len(os.fsencode(self.error_socket)) > 107:  # sockaddr_un's limit
            raise StackError(
                f"the gateway's socket path {self.error_socket} is too long for a unix socket; "
                "move the project to a shorter path"
            )
        # nginx removes its socket when it stops; one left by a crash would keep it from binding.
        self.error_socket.unlink(missing_ok=True)
        self.conf.write_text(config)
        self.conf.chmod(0o600)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        _run(
            [
                nginx,
                "-p",
                str(self.p.nginx),
                "-c",
                str(self.conf),
                "-e",
                str(self.p.nginx / "error.log"),
            ],
            "starting nginx",
        )
        for port, _ in ports:
            if not _wait(functools.partial(port_in_use, self.s.host, port), 10):
                raise StackError(
                    f"nginx did not listen on {self.s.host}:{port}.\n"
                    f"{_tail(self.p.nginx / 'error.log')}"
                )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.pid_file)  # SIGTERM: nginx's fast shutdown


# --- the Python services ------------------------------------------------------------------------

# Where the local PayPal certificate host serves the local signer's certificate (a path the
# services accept: sync.paypal.webhook.CERT_PATH_PREFIX).
LOCAL_PAYPAL_CERT_PATH = "/v1/notifications/certs/CERT-local"
# The local signer's certificate is valid a year (sync.signing.PayPalSigner.generate); it is
# replaced when it has less than this left.
LOCAL_PAYPAL_RENEW_BEFORE = dt.timedelta(days=30)


def _is_paypal_host(api_base: str) -> bool:
    host = (urlsplit(api_base).hostname or "").lower()
    return host == "paypal.com" or host.endswith(".paypal.com")


class Services:
    """The ASGI app of sync/ (webhooks, checkout), run as `python -m sync` with the environment
    this stack renders for it (service_settings): the services' own variables
    (sync.settings.ServiceSettings), from which they derive nothing of the stack's. The stack
    gives them its gateway's URL and the anon and service-role keys it mints, its provider
    settings, and where to listen.

    Local stacks only: a provider secret that is not set comes from a file of local values
    generated once (provider-secrets.json in the stack's state folder, mode 0600), as the JWT
    secret does, so the services start and signed webhooks verify. Those placeholder API keys
    (sync.settings.new_placeholder) do not reach Stripe or PayPal; real test keys
    (MENTORSHIPS_STRIPE_SECRET_KEY, ...) do.

    PayPal on placeholder keys runs in local mode (local_paypal): the services verify PayPal
    webhooks with a certificate they download from their PayPal API host, so the stack plays that
    host. A local signer (RSA key and self-signed certificate, generated once next to
    provider-secrets.json) has its certificate served by the gateway on
    http://<host>:<paypal_local_port>, which becomes the services' PayPal API base; events signed
    with local_paypal_signer() verify."""

    NEEDLE = "-m sync"

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.p = paths(settings)

    @property
    def address(self) -> str:
        return self.s.services_url

    def local_secrets(self) -> dict[str, str]:
        """The stack's local provider values, created on first use."""
        path = self.p.provider_secrets
        try:
            values: dict[str, str] = json.loads(path.read_text())
        except (OSError, ValueError):
            values = {}
        missing = [field for field in PLACEHOLDER_FIELDS if not values.get(field)]
        if missing:
            for field in missing:
                values[field] = new_placeholder(field)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(values, f, indent=2)
            tmp.replace(path)
        return values

    def placeholders(self) -> list[str]:
        """The settings this stack fills with local values (not set in the environment)."""
        return [field for field in PLACEHOLDER_FIELDS if getattr(self.s, field) is None]

    def _with_local_secrets(self) -> Settings:
        local = self.local_secrets()
        updates = {field: local[field] for field in self.placeholders()}
        return Settings.model_validate({**self.s.model_dump(), **updates})

    def effective_settings(self) -> Settings:
        """This stack's settings as its services get them: missing provider secrets filled with
        the local values and, in local PayPal mode, the local certificate host as the PayPal API
        base. Scripts that sign webhooks for the local services use these."""
        settings = self._with_local_secrets()
        if self.local_paypal():
            settings = Settings.model_validate(
                {**settings.model_dump(), "paypal_api_base": self.local_paypal_base}
            )
        return settings

    def service_settings(self) -> ServiceSettings:
        """What the services run with: the stack's gateway as the Supabase URL, the anon and
        service-role keys the stack mints from its JWT secret, the effective provider settings,
        and where to listen."""
        effective = self.effective_settings()
        return ServiceSettings.model_validate(
            {
                **{field: getattr(effective, field) for field in ProviderSettings.model_fields},
                "supabase_url": self.s.gateway_url,
                "supabase_anon_key": jwt.anon_key(self.s),
                "supabase_service_role_key": jwt.service_role_key(self.s),
                "services_host": self.s.host,
                "services_port": self.s.services_port,
            }
        )

    def local_providers(self) -> list[str]:
        """Enabled providers whose API keys are local placeholders (their APIs unreachable):
        what the services themselves recognise as such (sync.settings.placeholder_providers).
        Asking creates no file: an unset secret is judged by a placeholder of its form."""
        unset = {field: new_placeholder(field) for field in self.placeholders()}
        return list(
            placeholder_providers(Settings.model_validate({**self.s.model_dump(), **unset}))
        )

    def local_paypal(self) -> bool:
        """Whether the stack plays PayPal's certificate host: PayPal is enabled on placeholder
        API keys (never when real keys are set) and its API base is PayPal's own, which those
        keys cannot use anyway. An API base of your own (a fake, as bench/webhooks.py runs) is
        kept as it is."""
        return "paypal" in self.local_providers() and _is_paypal_host(self.s.paypal_api_base)

    @property
    def local_paypal_base(self) -> str:
        """The local PayPal certificate host (the services' PayPal API base in local mode)."""
        return f"http://{self.s.host}:{self.s.paypal_local_port}"

    def local_paypal_signer(self) -> PayPalCert | None:
        """In local PayPal mode: the stack's PayPal signer (created on first use, renewed when
        its certificate nears its end) and the URL its certificate is served at, to sign PayPal
        webhooks for these services with (`signer.headers(body, webhook_id=effective_settings()
        .paypal_webhook_id, cert_url=cert_url)`). None otherwise."""
        if not self.local_paypal():
            return None
        return PayPalCert(
            self._local_paypal_signer(), self.local_paypal_base + LOCAL_PAYPAL_CERT_PATH
        )

    def _local_paypal_signer(self) -> PayPalSigner:
        key_path, cert_path = self.p.paypal_key, self.p.paypal_cert
        try:
            signer = PayPalSigner.from_pem(key_path.read_bytes(), cert_path.read_bytes())
        except (OSError, ValueError):
            pass  # not there yet, or damaged: a new one
        else:
            if signer.not_valid_after - dt.datetime.now(dt.UTC) > LOCAL_PAYPAL_RENEW_BEFORE:
                return signer
        signer = PayPalSigner.generate(
            common_name=f"mentorships {self.s.stack} stack: local PayPal signer"
        )
        # The key first: a certificate on disk always has its key there already.
        _write_file(key_path, signer.key_pem, 0o600)
        _write_file(cert_path, signer.cert_pem, 0o644)  # served by nginx's unprivileged worker
        return signer

    def environment(self) -> dict[str, str]:
        """The services' environment: every MENTORSHIPS_* variable they read, nothing else of
        the stack's."""
        return self.service_settings().to_env()

    def config(self) -> str:
        text = "".join(f"{k}={v}\n" for k, v in sorted(self.environment().items()))
        local = self.local_paypal_signer()
        if local is not None:
            # The services cache a certificate by its URL: a new local signer restarts them.
            digest = hashlib.sha256(local.signer.cert_pem).hexdigest()
            text += f"# local PayPal signer certificate sha256:{digest}\n"
        return text

    def pid(self) -> int | None:
        return _pid_alive(self.p.services_pid, self.NEEDLE)

    def healthy(self) -> bool:
        try:
            r = httpx.get(f"{self.address}/health", timeout=2)
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def start(self) -> bool:
        config = self.config()
        if self.pid():
            if self.p.services_env.exists() and self.p.services_env.read_text() == config:
                return False
            self.stop()  # running with other settings
        _require_free(self.s.host, self.s.services_port, "MENTORSHIPS_SERVICES_PORT")
        self.p.logs.mkdir(parents=True, exist_ok=True)
        self.p.services_env.touch(mode=0o600)
        self.p.services_env.chmod(0o600)
        self.p.services_env.write_text(config)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
        env.update(self.environment())
        with self.p.services_log.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sync"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=PROJECT_DIR,
                env=env,
            )
        self.p.services_pid.write_text(f"{proc.pid}\n")
        _await_started(
            proc,
            self.healthy,
            self.p.services_pid,
            f"the services did not become healthy on {self.address}",
            self.p.services_log,
        )
        return True

    def stop(self) -> bool:
        return _stop_recorded(self.pid(), self.p.services_pid)


# --- the whole stack ----------------------------------------------------------------------------


@dataclass
class ComponentStatus:
    name: str
    address: str
    running: bool
    healthy: bool
    detail: str = ""


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = Postgres(settings)
        self.postgrest = PostgREST(settings)
        self.gateway = Gateway(settings)
        self.services = Services(settings)

    def status(self) -> list[ComponentStatus]:
        pg_running = self.postgres.running()
        pgrst_pid = self.postgrest.pid()
        gw_pid = self.gateway.pid()
        svc_pid = self.services.pid()
        return [
            ComponentStatus(
                "postgres",
                self.postgres.address,
                pg_running,
                pg_running and self.postgres.healthy(),
                str(self.postgres.p.pgdata),
            ),
            ComponentStatus(
                "postgrest",
                self.postgrest.address + " (internal)",
                bool(pgrst_pid),
                bool(pgrst_pid) and self.postgrest.ready(),
                f"pid {pgrst_pid}" if pgrst_pid else "",
            ),
            ComponentStatus(
                "gateway",
                self.settings.rest_url + "/",
                bool(gw_pid),
                bool(gw_pid) and self.gateway.healthy(),
                f"pid {gw_pid}" if gw_pid else "",
            ),
            ComponentStatus(
                "services",
                self.services.address + "/",
                bool(svc_pid),
                bool(svc_pid) and self.services.healthy(),
                f"pid {svc_pid}" if svc_pid else "",
            ),
            *self._paypal_status(bool(gw_pid)),
        ]

    def _paypal_status(self, gateway_running: bool) -> list[ComponentStatus]:
        """The local PayPal certificate host, in local PayPal mode: healthy when it serves the
        local signer's certificate."""
        local = self.services.local_paypal_signer()
        if local is None:
            return []
        healthy = False
        if gateway_running:
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(local.cert_url, timeout=2)
                healthy = r.status_code == 200 and r.content == local.signer.cert_pem
        return [
            ComponentStatus(
                "paypal",
                local.cert_url,
                gateway_running,
                healthy,
                "local certificate host (gateway; placeholder PayPal keys)",
            )
        ]

    def stop(self) -> Iterator[tuple[str, bool]]:
        yield "services", self.services.stop()
        yield "gateway", self.gateway.stop()
        yield "postgrest", self.postgrest.stop()
        yield "postgres", self.postgres.stop()
