"""Run the services: `python -m sync` (what `mentorships up` starts) or `mentorships serve`."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from mentorships.settings import Settings, get_settings
from sync import logs
from sync.app import ConfigError, create_app

log = logging.getLogger("sync")

# sysexits.h EX_CONFIG: a supervisor should not restart this without a configuration change.
EXIT_CONFIG = 78


def run(settings: Settings) -> None:
    """Serve on settings.host:settings.services_port until SIGTERM/SIGINT. Exits with status 78
    and one log line per missing variable when the settings cannot run the services."""
    logs.configure()
    try:
        app = create_app(settings)
    except ConfigError as e:
        for problem in e.problems:
            log.error(problem)
        log.error("refusing to start: the settings above are missing")
        sys.exit(EXIT_CONFIG)
    log.info("starting", extra={"address": settings.services_url, "stack": settings.stack})
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.services_port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
    )


def main() -> None:
    try:
        settings = get_settings()
    except ValidationError as e:
        logs.configure()
        log.error(f"invalid settings: {e}")
        sys.exit(EXIT_CONFIG)
    run(settings)
