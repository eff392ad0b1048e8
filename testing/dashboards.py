"""The dashboards under test: AppTest (streamlit.testing.v1) against the test stack, signed in as
a test person the way local sign-in does it (their token minted with the stack's JWT secret, their
profile read with it), and the environment the stack gives the app.

    at = as_person(settings, uid)          # signed in, on the role's first page
    open_page(at, "student_book.py")       # another page, run
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from streamlit.testing.v1 import AppTest

from dashboards import auth
from dashboards import settings as dashboard_settings
from mentorships.settings import Settings
from mentorships.stack.dashboards import APP, Dashboards

TIMEOUT = 30


@contextmanager
def environment(
    settings: Settings, **overrides: str | None
) -> Iterator[dashboard_settings.DashboardSettings]:
    """The dashboards' environment of this stack, for the length of the block; `overrides`
    (MENTORSHIPS_DASHBOARDS_<NAME>=value, or None to leave it out) change it."""
    env: dict[str, str | None] = {**Dashboards(settings).environment()}
    env.update({f"MENTORSHIPS_DASHBOARDS_{k.upper()}": v for k, v in overrides.items()})
    saved = {k: os.environ.get(k) for k in env}
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    dashboard_settings.cached.cache_clear()
    try:
        yield dashboard_settings.cached()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        dashboard_settings.cached.cache_clear()


def signed_in(person: uuid.UUID, email: str | None = None) -> auth.SignedIn:
    s = dashboard_settings.cached()
    account = auth.Account(str(person), email or f"{person}@scenario.test", "", "")
    return auth.local_sign_in(s, account)


def app(person: uuid.UUID | None = None, email: str | None = None) -> AppTest:
    """The app, signed in as `person` (None: signed out), not yet run."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if person is not None:
        at.session_state["signed_in"] = signed_in(person, email)
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app on one of its pages (a file in dashboards/views/)."""
    at.switch_page(f"views/{page}")
    return at.run()


def texts(at: AppTest) -> str:
    """Everything the page wrote as text (markdown, captions, alerts, metrics), one per line."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info",
                 "warning", "error", "success"):  # fmt: skip
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label}: {m.value}" for m in at.metric)
    return "\n".join(parts)
