"""Google, faked: a strict stateful fake of Google's OAuth2 token and revoke endpoints and of the
Calendar v3 API, shaped like the real ones (Google Identity: "Using OAuth 2.0 for Web Server
Applications"; Calendar API v3 reference), on testing/fakes/server.py.

    google = GoogleFake(client_id=..., client_secret=..., redirect_uri=...)
    google.add_account("m@example.com", calendars=[calendar("m@example.com", primary=True), ...])
    code = google.consent(start_url, "m@example.com")   # the mentor says yes at Google
    # ... GET /oauth/google/callback?code=...&state=... as Google's redirect would
    google.grants                                        # who holds what, revoked or not

The consent screen itself is not served: `consent` checks the start URL the way Google's
authorization endpoint would (client, redirect URI, scopes, access_type=offline, prompt=consent,
an S256 challenge) and issues a code bound to them. The token endpoint then wants that code once,
with the verifier whose S256 is the challenge, the same redirect URI and the client's id and
secret (HTTP Basic or the form, exactly one); a refresh token grant gives a new access token;
`refuse_next_code()` and a revoked grant answer `invalid_grant` as Google does. The revoke
endpoint takes a refresh or an access token (form `token`) and kills the whole grant. Calendar
v3 wants `Authorization: Bearer <live access token>` with a scope that allows the call; routes
are a table (`route`) so events.insert/patch/delete/watch can be added beside calendarList.list
and events.list (`events`, testing/fakes/google_events.py), events.watch and channels.stop
(`channels`, testing/fakes/google_channels.py). Anything else is a recorded failure (`verify()` fails the test).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from testing.fakes.google_channels import ChannelStore
from testing.fakes.google_events import EventStore
from testing.fakes.google_writes import EventWrites
from testing.fakes.http import Request
from testing.fakes.server import Answer, FakeServer

AUTH_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
CALENDAR = "/calendar/v3"
CALENDAR_LIST_PATH = f"{CALENDAR}/users/me/calendarList"
EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
CALENDAR_LIST_SCOPE = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"
# Scopes that let calendarList.list through (its discovery document's list).
CALENDAR_LIST_SCOPES = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.calendarlist",
    CALENDAR_LIST_SCOPE,
    "https://www.googleapis.com/auth/calendar.readonly",
}
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
FORM = "application/x-www-form-urlencoded"
ACCESS_TOKEN_SECONDS = 3599


def s256(verifier: str) -> str:
    """RFC 7636's S256 challenge, computed here on its own (not the services')."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def calendar(
    calendar_id: str,
    summary: str | None = None,
    *,
    primary: bool = False,
    access_role: str = "owner",
    time_zone: str = "Europe/Berlin",
) -> dict[str, Any]:
    """A calendarList entry as Google answers it."""
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": f'"{secrets.randbelow(10**16)}"',
        "id": calendar_id,
        "summary": summary or calendar_id,
        "timeZone": time_zone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": access_role,
        "defaultReminders": [],
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if primary:
        entry["primary"] = True
    return entry


def oauth_error(error: str, description: str, status: int = 400) -> Answer:
    return Answer(status, {"error": error, "error_description": description})


def api_error(status: int, reason: str, message: str) -> Answer:
    """Google APIs' JSON error."""
    return Answer(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": "global", "reason": reason, "message": message}],
                "status": {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}.get(
                    status, "INVALID_ARGUMENT"
                ),
            }
        },
    )


@dataclass
class Code:
    account: str
    challenge: str
    redirect_uri: str
    scopes: tuple[str, ...]
    used: bool = False


@dataclass
class Grant:
    """What a mentor's consent gave the client: a refresh token and its access tokens."""

    account: str
    scopes: tuple[str, ...]
    refresh_token: str
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires (time.time)
    revoked: bool = False


@dataclass
class Account:
    email: str
    calendars: list[dict[str, Any]]


Handler = Callable[[Request, "re.Match[str]", Grant], Answer]


class GoogleFake(FakeServer):
    def __init__(
        self, *, client_id: str, client_secret: str, redirect_uri: str, port: int = 0
    ) -> None:
        super().__init__("google", port)
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        # (method, path pattern, scopes any of which allows it, handler): the Calendar API.
        self.routes: list[tuple[str, re.Pattern[str], set[str], Handler]] = []
        self.route("GET", CALENDAR_LIST_PATH, CALENDAR_LIST_SCOPES, self._calendar_list)
        self.events = EventStore(self)  # events.list (testing/fakes/google_events.py)
        self.channels = ChannelStore(self)  # events.watch, channels.stop (google_channels.py)
        self.writes = EventWrites(
            self, self.events
        )  # insert/get/patch/update/delete (google_writes.py)
        self.reset()

    def reset(self) -> None:
        self.end_outage()
        with self.lock:
            self.failures.clear()
            self.errors.clear()
            self.accounts: dict[str, Account] = {}
            self.codes: dict[str, Code] = {}
            self.grants: list[Grant] = []
            self.requests: list[Request] = []
            self.revocations: list[str] = []  # accounts whose grant was revoked, in order
            self.page_size = 100
            self._refuse_codes = 0
            self.events.reset()
            self.channels.reset()
            self.writes.reset()

    def route(self, method: str, path: str, scopes: set[str], handler: Handler) -> None:
        """A Calendar v3 call: `path` a regular expression matched whole."""
        self.routes.append((method, re.compile(f"^{path}$"), scopes, handler))

    # --- what a test arranges

    def add_account(self, email: str, calendars: list[dict[str, Any]] | None = None) -> Account:
        with self.lock:
            account = Account(email, calendars or [calendar(email, primary=True)])
            self.accounts[email] = account
            return account

    def consent(self, url: str, account: str, scopes: tuple[str, ...] | None = None) -> str:
        """The person signed in as `account` says yes on the consent screen of `url` (the start
        URL): the code Google would send back. `scopes`: what they leave ticked (default all)."""
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        expected = {
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "access_type",
            "prompt",
        }
        problems = []
        if parts.path != AUTH_PATH:
            problems.append(f"the consent URL's path is {parts.path!r}, not {AUTH_PATH}")
        if len(query) != len(pairs) or set(query) != expected:
            problems.append(f"the consent URL's fields are {sorted(query)}, not {sorted(expected)}")
        checks = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",
        }
        problems += [
            f"{name} is {query.get(name)!r}, not {value!r}"
            for name, value in checks.items()
            if query.get(name) != value
        ]
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}", query.get("code_challenge", "")):
            problems.append("code_challenge is not an S256 challenge")
        if account not in self.accounts:
            problems.append(f"no account {account!r} (add_account first)")
        asked = tuple(query.get("scope", "").split())
        if problems:
            for problem in problems:
                self.fail(f"consent: {problem}")
            raise AssertionError("; ".join(problems))
        code = "4/0A" + secrets.token_urlsafe(40)
        with self.lock:
            self.codes[code] = Code(
                account,
                query["code_challenge"],
                query["redirect_uri"],
                asked if scopes is None else scopes,
            )
        return code

    def refuse_next_code(self) -> None:
        """The next authorization code exchange is answered invalid_grant."""
        with self.lock:
            self._refuse_codes += 1

    def issue_grant(self, account: str, scopes: tuple[str, ...] | None = None) -> Grant:
        """A grant as a finished consent leaves it (for tests that start connected)."""
        with self.lock:
            grant = Grant(
                account,
                scopes or (EVENTS_SCOPE, CALENDAR_LIST_SCOPE),
                "1//0g" + secrets.token_urlsafe(60),
            )
            self.grants.append(grant)
            return grant

    def revoke_account(self, account: str) -> None:
        """The person removed the app's access in their Google account: every grant is dead."""
        with self.lock:
            for grant in self.grants:
                if grant.account == account:
                    grant.revoked = True

    def grant_of(self, account: str) -> Grant | None:
        """The account's newest grant."""
        with self.lock:
            found = [g for g in self.grants if g.account == account]
            return found[-1] if found else None

    def live_grants(self) -> list[Grant]:
        with self.lock:
            return [g for g in self.grants if not g.revoked]

    def secrets_issued(self) -> list[str]:
        """Every code, refresh token and access token handed out, and the client secret: none
        may reach an answer or a log line of the services."""
        with self.lock:
            tokens = [self.client_secret, *self.codes]
            for grant in self.grants:
                tokens += [grant.refresh_token, *grant.access_tokens]
            return tokens

    # --- answering

    def handle(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
            if request.method == "POST" and request.path == TOKEN_PATH:
                return self._token(request)
            if request.method == "POST" and request.path == REVOKE_PATH:
                return self._revoke(request)
            for method, pattern, scopes, handler in self.routes:
                match = pattern.match(request.path)
                if match and request.method == method:
                    grant = self._bearer(request, scopes)
                    if isinstance(grant, Answer):
                        return grant
                    return handler(request, match, grant)
            return self.fail(f"unexpected call {request.method} {request.path}", 404)

    def _form(self, request: Request, allowed: set[str]) -> dict[str, str] | Answer:
        if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
            return self.fail(
                f"{request.path}: Content-Type {request.headers.get('content-type')!r}"
            )
        if request.query_string:
            return self.fail(f"{request.path}: a query string {request.query_string[:80]!r}")
        pairs = parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True)
        form = dict(pairs)
        if len(form) != len(pairs) or not set(form) <= allowed:
            return self.fail(
                f"{request.path}: form fields {sorted(form)}, allowed {sorted(allowed)}"
            )
        return form

    def _client(self, request: Request, form: dict[str, str]) -> Answer | None:
        """Client authentication: HTTP Basic or the form, exactly one (RFC 6749 2.3.1)."""
        basic = request.headers.get("authorization")
        in_form = "client_id" in form or "client_secret" in form
        if basic and in_form:
            return self.fail(f"{request.path}: client credentials both in Basic and the form")
        if basic:
            scheme, _, value = basic.partition(" ")
            try:
                client_id, _, secret = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return self.fail(f"{request.path}: an Authorization header that is not Basic")
            if scheme != "Basic":
                return self.fail(f"{request.path}: Authorization scheme {scheme!r}")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if client_id != self.client_id or secret != self.client_secret:
            return oauth_error("invalid_client", "The OAuth client was not found.", 401)
        return None

    def _token(self, request: Request) -> Answer:
        form = self._form(
            request,
            {
                "grant_type",
                "code",
                "redirect_uri",
                "code_verifier",
                "refresh_token",
                "client_id",
                "client_secret",
                "scope",
            },
        )
        if isinstance(form, Answer):
            return form
        refused = self._client(request, form)
        if refused is not None:
            return refused
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._redeem(request, form)
        if grant_type == "refresh_token":
            return self._refresh(form)
        return self.fail(f"grant_type {grant_type!r}")

    def _redeem(self, request: Request, form: dict[str, str]) -> Answer:
        wanted = {"grant_type", "code", "redirect_uri", "code_verifier"}
        if not wanted <= set(form) or "refresh_token" in form:
            return self.fail(f"an authorization_code exchange with fields {sorted(form)}")
        if self._refuse_codes:
            self._refuse_codes -= 1
            return oauth_error("invalid_grant", "Bad Request")
        code = self.codes.get(form["code"])
        if code is None or code.used:
            return oauth_error("invalid_grant", "Bad Request")
        code.used = True  # once, even when the rest is wrong
        if form["redirect_uri"] != code.redirect_uri:
            return self.fail(
                f"redirect_uri {form['redirect_uri']!r}, the code's is {code.redirect_uri!r}"
            )
        verifier = form["code_verifier"]
        if not VERIFIER.fullmatch(verifier) or s256(verifier) != code.challenge:
            return self.fail("code_verifier does not match the challenge of the consent URL")
        grant = Grant(code.account, code.scopes, "1//0g" + secrets.token_urlsafe(60))
        self.grants.append(grant)
        return Answer(200, self._access(grant) | {"refresh_token": grant.refresh_token})

    def _refresh(self, form: dict[str, str]) -> Answer:
        if "code" in form or "code_verifier" in form or "refresh_token" not in form:
            return self.fail(f"a refresh_token grant with fields {sorted(form)}")
        grant = next((g for g in self.grants if g.refresh_token == form["refresh_token"]), None)
        if grant is None or grant.revoked:
            return oauth_error("invalid_grant", "Token has been expired or revoked.")
        return Answer(200, self._access(grant))

    def _access(self, grant: Grant) -> dict[str, Any]:
        token = "ya29.a0" + secrets.token_urlsafe(80)
        grant.access_tokens[token] = self.now() + ACCESS_TOKEN_SECONDS
        return {
            "access_token": token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }

    def _revoke(self, request: Request) -> Answer:
        form = self._form(request, {"token"})
        if isinstance(form, Answer):
            return form
        token = form.get("token", "")
        for grant in self.grants:
            if token == grant.refresh_token or token in grant.access_tokens:
                if grant.revoked:
                    break
                grant.revoked = True
                self.revocations.append(grant.account)
                return Answer(200, {})
        return oauth_error("invalid_token", "Token expired or revoked")

    def _bearer(self, request: Request, scopes: set[str]) -> Grant | Answer:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        for grant in self.grants:
            expires = grant.access_tokens.get(token)
            if scheme == "Bearer" and expires is not None:
                if grant.revoked or expires <= self.now():
                    break
                if not scopes & set(grant.scopes):
                    return api_error(
                        403,
                        "insufficientPermissions",
                        "Request had insufficient authentication scopes.",
                    )
                return grant
        return api_error(401, "authError", "Request had invalid authentication credentials.")

    def _calendar_list(self, request: Request, match: re.Match[str], grant: Grant) -> Answer:
        allowed = {"alt", "showHidden", "pageToken", "maxResults"}
        if not set(request.query) <= allowed or request.body:
            return self.fail(f"calendarList.list with {request.query_string!r} and a body")
        items = self.accounts[grant.account].calendars
        size = int(request.query.get("maxResults") or self.page_size)
        start = int(request.query.get("pageToken") or 0)
        page: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "etag": f'"p{start}"',
            "items": items[start : start + size],
        }
        if start + size < len(items):
            page["nextPageToken"] = str(start + size)
        else:
            page["nextSyncToken"] = "CPDAlvWDx70CEPDAlvWDx70CGAU="
        return Answer(200, page)
