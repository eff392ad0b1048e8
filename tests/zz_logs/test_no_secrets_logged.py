"""No secret or token in any log of the test stack: after the tests before it (this module's
folder sorts last, so in a whole run it runs last), and after requests of its own that carry
the keys where a careless log would pick them up (a query string, the Authorization and apikey
headers, a report's text, a path), every line the services, the gateway (nginx), PostgREST and
Postgres wrote is searched for the stack's JWT secret, its anon and service-role keys, every
provider secret the services hold, and any JWT-shaped string. The stack fixture empties the logs
when the run starts (testing.stacks.clear_logs), so what is read is this run's."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from mentorships import jwt
from mentorships.settings import Settings
from mentorships.stack import Stack, paths
from testing import services as test_services
from testing.stacks import log_files

JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")


def secrets_of(settings: Settings, stack: Stack) -> dict[str, str]:
    """What must never be logged, by name."""
    found = {
        "jwt secret": settings.jwt_secret.get_secret_value(),
        "anon key": jwt.anon_key(settings),
        "service-role key": jwt.service_role_key(settings),
    }
    given = stack.services.service_settings()
    for field in type(given).model_fields:
        value = getattr(given, field)
        if isinstance(value, SecretStr) and value.get_secret_value():
            found[field] = value.get_secret_value()
    # The keys the tests' own apps are given.
    for name in dir(test_services):
        value = getattr(test_services, name)
        if name.endswith(("_SECRET", "_KEY", "_CERTIFICATE", "_KEY_1", "_KEY_2")) and isinstance(
            value, str
        ):
            found[name] = value
    return {name: value for name, value in found.items() if len(value) >= 8}


def provoke(settings: Settings) -> None:
    """Requests to the stack's own services with the keys where a log could catch them."""
    key = jwt.service_role_key(settings)
    base = settings.services_url
    with httpx.Client(timeout=30) as client:
        client.get(f"{base}/health?apikey={key}", headers={"Authorization": f"Bearer {key}"})
        client.get(f"{base}/no/such/{key}", headers={"apikey": key})
        client.post(
            f"{base}/errors",
            json={
                "message": f"failed with Bearer {key}",
                "url": f"https://x.example/?apikey={key}",
            },
        )
        client.post(f"{base}/errors", json={"message": 1, "stack": key})
        client.post(f"{base}/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": key})
        client.post(
            f"{base}/video/token",
            json={"session_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b"},
            headers={"Authorization": f"Bearer {key}"},
        )


def written(log: Path, text: str) -> bool:
    """Whether `text` is in the log within 5 s (an access line follows its answer)."""
    for _ in range(100):
        if log.is_file() and text in log.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


# nginx writes its access log from a buffer at least once a second.
QUIET_SECONDS = 1.5


def settled(settings: Settings) -> None:
    """Waits until no log has grown for QUIET_SECONDS (at most 15 s)."""
    sizes: dict[Path, int] = {}
    quiet_since = time.monotonic()
    deadline = quiet_since + 15
    while time.monotonic() < deadline:
        now = {f: f.stat().st_size for f in log_files(settings)}
        if now != sizes:
            sizes, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return
        time.sleep(0.1)


def test_no_secret_or_token_in_any_log(settings: Settings, stack: Stack) -> None:
    provoke(settings)
    assert written(paths(settings).services_log, '"path": "/video/token"')
    settled(settings)
    secrets = secrets_of(settings, stack)
    files = log_files(settings)
    assert any(f.name == "services.log" for f in files), files
    leaks: list[str] = []
    for f in files:
        for number, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            names = [name for name, value in secrets.items() if value in line]
            if JWT_SHAPED.search(line):
                names.append("a JWT-shaped string")
            if names:
                leaks.append(f"{f}:{number}: {', '.join(names)}")
    assert not leaks, f"{len(leaks)} log line(s) with a secret:\n" + "\n".join(leaks[:20])
