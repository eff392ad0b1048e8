"""Local Google: the strict fake of Google (testing/fakes/google.py) as a standing server for a
local stack without a real Google client (`mentorships up` runs it, mentorships/stack/
google_local.py). The same accounts, grants, token endpoint and Calendar v3 routes as the tests'
fake, whatever routes it gains; three differences:

- a request the fake would fail the test on is answered in Google's error shape (400 or 404) and
  logged, never recorded as a failure;
- a consent page at /o/oauth2/v2/auth: pick a local account (or name a new one) and it redirects
  to the services' callback with a code, as Google does;
- its state (accounts, grants, events, sync tokens) is saved under the state folder after every
  request and read back at start, so a restart keeps every connection.

An admin API under /_local/ arranges what a person would do at Google (LocalGoogleAdmin):
accounts and their calendars, events, removing the app's access.

    python -m testing.fakes.google_local   # MENTORSHIPS_GOOGLE_LOCAL_{PORT,STATE_DIR,CLIENT_ID,
                                           # CLIENT_SECRET,REDIRECT_URI}
"""

from __future__ import annotations

import html
import logging
import os
import pickle
import signal
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx

from testing.fakes import google as g
from testing.fakes.http import Request
from testing.fakes.server import Answer

log = logging.getLogger("google_local")

STATE_FILE = "state.pickle"
ADMIN = "/_local"
# What is not state: the server, its routes and what the tests' fake records for verify().
NOT_STATE = {"server", "thread", "lock", "routes", "events", "failures", "errors", "requests"}
NOT_EVENT_STATE = {"google", "lists"}


class LocalGoogle(g.GoogleFake):
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        state_dir: Path,
        port: int = 0,
    ) -> None:
        self.state_dir = state_dir
        self._path = ""
        super().__init__(
            client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri, port=port
        )
        self.load()

    # --- state kept across restarts

    def _state(self) -> dict[str, dict[str, Any]]:
        def keep(obj: object, skip: set[str]) -> dict[str, Any]:
            out = {}
            for name, value in vars(obj).items():
                if name in skip or name.startswith("__"):
                    continue
                try:
                    pickle.dumps(value)
                except Exception:  # noqa: S112 (a live object, such as a thread: not state)
                    continue
                out[name] = value
            return out

        skip = NOT_STATE | {"state_dir", "_path", "name", "client_id", "client_secret"}
        return {"google": keep(self, skip), "events": keep(self.events, NOT_EVENT_STATE)}

    def save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_dir / f".{STATE_FILE}.tmp"
        with self.lock:  # one writer at a time: the requests are answered in threads
            tmp.write_bytes(pickle.dumps(self._state()))
            tmp.replace(self.state_dir / STATE_FILE)

    def load(self) -> None:
        try:
            state = pickle.loads((self.state_dir / STATE_FILE).read_bytes())  # noqa: S301 (ours)
        except FileNotFoundError:
            return
        with self.lock:
            for name, value in state["google"].items():
                setattr(self, name, value)
            for name, value in state["events"].items():
                setattr(self.events, name, value)

    # --- answering

    def fail(self, message: str, status: int = 400) -> Answer:
        """Google's error shape instead of a test failure."""
        log.warning("refused: %s", message)
        if self._path in (g.TOKEN_PATH, g.REVOKE_PATH):
            return g.oauth_error("invalid_request", message, status)
        reason = "notFound" if status == 404 else "badRequest"
        return g.api_error(status, reason, message)

    def handle(self, request: Request) -> Answer:
        with self.lock:
            self._path = request.path
            if request.path == "/health":
                return Answer(200, {"ok": True, "accounts": len(self.accounts)})
            if request.path == g.AUTH_PATH:
                answer = self._consent_page(request)
            elif request.path.startswith(f"{ADMIN}/"):
                answer = self._admin(request)
            else:
                answer = super().handle(request)
            # the tests' fake keeps every request for its assertions; a standing server does not
            self.requests.clear()
            self.events.lists.clear()
        self.save()
        return answer

    def _consent_page(self, request: Request) -> Answer:
        if request.method == "GET":
            return self._html(200, self._page(request.query_string))
        if request.method != "POST":
            return self.fail(f"{request.method} {g.AUTH_PATH}", 405)
        form = dict(parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True))
        account, query = form.get("account", "").strip(), form.get("q", "")
        if "@" not in account:
            return self._html(400, self._page(query, "Choose an account or type an email."))
        if account not in self.accounts:
            self.add_account(account)
            self.events.add_calendar(account, account)
        try:
            code = self.consent(f"{g.AUTH_PATH}?{query}", account)
        except AssertionError as e:
            self.failures.clear()
            return self._html(
                400, f"<p>This sign-in request is not valid: {html.escape(str(e))}</p>"
            )
        asked = dict(parse_qsl(query))
        target = (
            asked["redirect_uri"]
            + "?"
            + urlencode({"state": asked["state"], "code": code, "scope": asked.get("scope", "")})
        )
        return Answer(302, b"", {"Location": target, "Content-Type": "text/plain"})

    def _page(self, query: str, note: str = "") -> str:
        buttons = "".join(
            f'<button name="account" value="{html.escape(a)}">{html.escape(a)}</button><br>'
            for a in sorted(self.accounts)
        )
        return (
            "<!doctype html><title>Local Google: sign in</title>"
            "<h1>Local Google</h1><p>This local stack plays Google. Choose the account that "
            "allows Mentorships to see and edit the events on its calendars:</p>"
            f"<p>{html.escape(note)}</p>"
            f'<form method="post"><input type="hidden" name="q" value="{html.escape(query)}">'
            f'{buttons}<input name="account" placeholder="or another email">'
            "<button>Allow</button></form>"
        )

    @staticmethod
    def _html(status: int, body: str) -> Answer:
        return Answer(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _admin(self, request: Request) -> Answer:
        what = request.path.removeprefix(f"{ADMIN}/")
        body = request.json() if request.body else {}
        if request.method == "POST" and what == "accounts":
            email, zone = body["email"], body.get("time_zone", "UTC")
            entries = body.get("calendars") or [g.calendar(email, primary=True, time_zone=zone)]
            self.forget_account(email)
            self.add_account(email, entries)
            for entry in entries:
                self.events.add_calendar(email, entry["id"])
            return Answer(200, {"email": email, "calendars": [e["id"] for e in entries]})
        if request.method == "DELETE" and what.startswith("accounts/"):
            return Answer(200, {"forgot": self.forget_account(what.removeprefix("accounts/"))})
        if request.method == "POST" and what == "events":
            self.events.put(body["account"], body["calendar_id"], body["event"])
            return Answer(200, {"id": body["event"]["id"]})
        if request.method == "POST" and what == "revoke":
            self.revoke_account(body["account"])
            return Answer(200, {"revoked": body["account"]})
        if request.method == "GET" and what == "events":
            account, calendar_id = request.query["account"], request.query["calendar_id"]
            cal = self.events.calendars.get((account, calendar_id))
            stored = [] if cal is None else [e for e in cal.events.values() if not e.cancelled]
            return Answer(200, {"items": [e.event for e in stored]})
        if request.method == "GET" and what == "accounts":
            return Answer(200, {"accounts": sorted(self.accounts)})
        return self.fail(f"no local admin call {request.method} {request.path}", 404)

    def forget_account(self, email: str) -> bool:
        """The account, its grants and its calendars' events are gone."""
        with self.lock:
            known = self.accounts.pop(email, None) is not None
            self.grants = [grant for grant in self.grants if grant.account != email]
            for key in [k for k in self.events.calendars if k[0] == email]:
                del self.events.calendars[key]
            return known


class LocalGoogleAdmin:
    """The admin API of a running local Google, and its consent page as a person uses it."""

    def __init__(self, base_url: str, http: httpx.Client | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.http = http or httpx.Client(timeout=10)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, f"{self.base}{ADMIN}/{path}", json=body)
        r.raise_for_status()
        return r.json()

    def add_account(
        self, email: str, time_zone: str, calendars: list[dict[str, Any]] | None = None
    ) -> None:
        """An account (replacing one of that email, with its events) whose primary calendar
        (or `calendars`) exist."""
        self._call(
            "POST", "accounts", {"email": email, "time_zone": time_zone, "calendars": calendars}
        )

    def forget_account(self, email: str) -> None:
        self._call("DELETE", f"accounts/{quote(email, safe='@')}")

    def put_event(self, account: str, calendar_id: str, event: dict[str, Any]) -> None:
        self._call(
            "POST", "events", {"account": account, "calendar_id": calendar_id, "event": event}
        )

    def events(self, account: str, calendar_id: str) -> list[dict[str, Any]]:
        """The calendar's events as its owner sees them (cancelled ones left out)."""
        r = self.http.get(
            f"{self.base}{ADMIN}/events", params={"account": account, "calendar_id": calendar_id}
        )
        r.raise_for_status()
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    def revoke_account(self, account: str) -> None:
        """The person removed the app's access in their Google account."""
        self._call("POST", "revoke", {"account": account})

    def approve(self, consent_url: str, account: str) -> str:
        """The person, signed in as `account`, allows access on the consent page of
        `consent_url`: where Google sends their browser (the callback with code and state)."""
        query = consent_url.partition("?")[2]
        r = self.http.post(
            f"{self.base}{g.AUTH_PATH}",
            data={"account": account, "q": query},
            follow_redirects=False,
        )
        if r.status_code != 302:
            raise RuntimeError(
                f"local Google's consent page answered {r.status_code}: {r.text[:300]}"
            )
        return r.headers["location"]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    env = os.environ
    server = LocalGoogle(
        client_id=env["MENTORSHIPS_GOOGLE_LOCAL_CLIENT_ID"],
        client_secret=env["MENTORSHIPS_GOOGLE_LOCAL_CLIENT_SECRET"],
        redirect_uri=env["MENTORSHIPS_GOOGLE_LOCAL_REDIRECT_URI"],
        state_dir=Path(env["MENTORSHIPS_GOOGLE_LOCAL_STATE_DIR"]),
        port=int(env["MENTORSHIPS_GOOGLE_LOCAL_PORT"]),
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("local Google on %s (state in %s)", server.url, server.state_dir)
    stop.wait()
    server.close()
    server.save()
    log.info("local Google stopped")


if __name__ == "__main__":
    main()
