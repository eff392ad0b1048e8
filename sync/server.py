"""Run the services: `python -m sync` (what `mentorships up` starts) or `mentorships serve`."""

from __future__ import annotations

import json
import logging
import sys
from typing import NoReturn

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from sync import logs
from sync.app import create_app
from sync.errors import error_body
from sync.settings import ConfigError, ServiceSettings, load

log = logging.getLogger("sync")

# sysexits.h EX_CONFIG: a supervisor should not restart this without a configuration change.
EXIT_CONFIG = 78


class Protocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 (httptools), except that a request it cannot parse (a control
    character in a header value, say) is refused in the error shape too: uvicorn's own answer
    is text/plain. The connection closes after it, as uvicorn's does."""

    BAD_REQUEST = json.dumps(
        error_body(
            "SV400",
            "the request is not valid HTTP/1.1",
            hint="Check the request line and the headers: no control characters in header values.",
        )
    ).encode()

    def send_400_response(self, msg: str) -> None:
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(self.BAD_REQUEST)).encode() + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                self.BAD_REQUEST,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()


def config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How the services are served (tests serve an app of their own the same way): no Server
    header, no access log (our handlers log what matters), the app's lifespan, and every
    answer in the error shape, down to a request that is not HTTP (Protocol). uvicorn's access
    lines carry the query string (tokens, keys): they are off for good; the services write their
    own (sync.observability.requests)."""
    logging.getLogger("uvicorn.access").disabled = True
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=Protocol,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
    )


def _refuse(e: ConfigError) -> NoReturn:
    for problem in e.problems:
        log.error(problem)
    log.error("refusing to start: set the variables above (see .env.example)")
    sys.exit(EXIT_CONFIG)


def run(settings: ServiceSettings) -> None:
    """Serve on settings.services_host:services_port until SIGTERM/SIGINT. Exits with status 78
    and one log line per missing or malformed variable when the settings cannot run the
    services."""
    logs.configure("services")
    try:
        app = create_app(settings)
    except ConfigError as e:
        _refuse(e)
    log.info("starting", extra={"address": settings.address, "rest_url": settings.rest_url})
    uvicorn.Server(config(app, settings.services_host, settings.services_port)).run()


def main() -> None:
    """The services from the environment (and .env) alone."""
    logs.configure("services")
    try:
        settings = load()
    except ConfigError as e:
        _refuse(e)
    run(settings)
