"""What every worker (sync.messaging, sync.gcal, sync.reports) shares with the stack that runs it:
its health file, rewritten atomically, and its refusal to start without its settings."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from sync.settings import ConfigError

log = logging.getLogger(__name__)

EXIT_CONFIG = 78  # sysexits.h EX_CONFIG, as the services


def write_health(path: Path | None, status: dict[str, Any]) -> None:
    """Rewrites the health file at `path` (when one is set) with `status`, atomically: a reader
    never sees half a file. A file that cannot be written is logged, never raised."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(status, indent=2) + "\n")
        tmp.replace(path)
    except OSError as e:
        log.warning("cannot write the status file", extra={"path": str(path), "error": str(e)})


def refuse_to_start(e: ConfigError) -> NoReturn:
    """Logs each missing or malformed variable and exits 78."""
    for problem in e.problems:
        log.error(problem)
    log.error("refusing to start: set the variables above (see .env.example)")
    sys.exit(EXIT_CONFIG)
