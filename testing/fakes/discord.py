"""Discord, faked: answers of Discord's OAuth2 endpoints, shaped like the real ones (Discord
developer docs, OAuth2: token exchange, `GET /users/@me`) and what the services must send them;
and a stateful fake of the bot's REST API for direct messages (DiscordBotFake)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from testing.fakes.http import Request, StrictFake
from testing.fakes.server import Answer, FakeServer

TOKEN_PATH = "/api/oauth2/token"
ME_PATH = "/api/users/@me"
AUTHORIZE_PATH = "/oauth2/authorize"
# RFC 7636 4.1: 43 to 128 unreserved characters.
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def access_token() -> str:
    return secrets.token_urlsafe(22)


def token(access: str) -> dict[str, Any]:
    """POST /api/oauth2/token, grant_type authorization_code, scope identify."""
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 604800,
        "refresh_token": secrets.token_urlsafe(22),
        "scope": "identify",
    }


def user(user_id: str, username: str = "sam.paints") -> dict[str, Any]:
    """GET /api/users/@me with the identify scope (no email: that needs the email scope)."""
    return {
        "id": user_id,
        "username": username,
        "discriminator": "0",
        "global_name": "Sam",
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "banner_color": None,
        "mfa_enabled": False,
        "locale": "en-US",
        "premium_type": 0,
    }


def invalid_grant() -> dict[str, Any]:
    """Discord's 400 for a code that is unknown, used, expired or whose challenge fails."""
    return {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}


def s256(verifier: str) -> str:
    """RFC 7636's S256 challenge of a verifier, computed here on its own (not the services')."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_form(
    fake: StrictFake, *, code: str, challenge: str, client_id: str, secret: str, redirect_uri: str
) -> Callable[[], dict[str, str]]:
    """The exact form of the token exchange (for StrictFake.expect(form=...)), evaluated when the
    request arrives: every field fixed, and code_verifier whatever the services sent only if it
    is a verifier RFC 7636 allows whose S256 is the challenge of the authorize URL (else a
    description of what was due, which fails the match and shows in the fake's problems)."""

    def form() -> dict[str, str]:
        sent = fake.requests[-1].form().get("code_verifier", "")
        fits = VERIFIER.fullmatch(sent) is not None and s256(sent) == challenge
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": sent
            if fits
            else f"<a 43-128 character verifier with S256 {challenge}>",
            "client_id": client_id,
            "client_secret": secret,
        }

    return form


# --- The bot's REST API (direct messages) -------------------------------------------------------

API = "/api/v10"
# The bot token the tests' transports and fakes share.
BOT_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.bot-token-for-tests"
BOT_ME_PATH = f"{API}/users/@me"
DM_CHANNELS_PATH = f"{API}/users/@me/channels"
MESSAGES_PATH = re.compile(rf"^{API}/channels/([0-9]+)/messages$")
MESSAGE_FIELDS = {"content", "nonce", "enforce_nonce", "tts", "allowed_mentions"}
USER_AGENT_PREFIX = "DiscordBot ("
SNOWFLAKE = re.compile(r"[0-9]{15,20}")


@dataclass(frozen=True)
class Posted:
    id: str
    channel_id: str
    user_id: str
    nonce: str
    content: str
    arrived_at: float  # time.time()


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time()
    route: str  # "me", "channels" or "messages"
    status: int


@dataclass
class _Window:
    start: float = 0.0
    count: int = 0


class DiscordBotFake(FakeServer):
    """Discord's REST API as the bot sees it: ``GET /api/v10/users/@me`` (discord.py's login),
    ``POST /api/v10/users/@me/channels`` (a DM channel, the same one for the same user) and
    ``POST /api/v10/channels/{id}/messages``. Strict: ``Authorization: Bot <token>`` (another
    token is answered 401 as Discord does), a ``User-Agent: DiscordBot (...)``, JSON bodies of
    exactly the expected fields (a message: content of 1 to 2,000 characters, a nonce of at most
    25, ``enforce_nonce: true``, ``tts: false``, ``allowed_mentions: {"parse": []}``); anything
    else is a recorded failure.

    State as Discord keeps it: a nonce already used answers its first message again (nothing new
    is posted: ``delivered(nonce)`` counts), users who blocked the bot (``block``: 403 50007, or
    another code), unknown users (``unknown``: 404 10013). Rate limits: every answer carries the
    route's ``X-RateLimit-*`` headers from a real window (``limit`` requests a ``window`` of
    seconds per route and channel), a request into an exhausted window is answered 429 and counted
    in ``over_limit``; ``rate_limit(times, retry_after, route=, global_=)`` answers the next
    ``times`` requests of a route 429 (``global: true`` for the global limit), with ``Via`` as
    Discord's edge sends it (discord.py trusts a 429 only with it). ``arrivals`` records every
    request's time, route and status, so a test can check the waits were honoured."""

    def __init__(
        self,
        *,
        bot_token: str,
        bot_id: str = "1100000000000000001",
        limit: int = 50,
        window: float = 1.0,
        port: int = 0,
    ) -> None:
        super().__init__("discord bot", port)
        self.bot_token = bot_token
        self.bot_id = bot_id
        self.limit = limit
        self.window = window
        self._ids = 1200000000000000000
        self.reset()

    def reset(self) -> None:
        self.end_outage()
        with self.lock:
            self.failures.clear()
            self.errors.clear()
            self.messages: list[Posted] = []
            self.per_nonce: Counter[str] = Counter()
            self.arrivals: list[Arrival] = []
            self.logins = 0
            self.channel_opens = 0
            self.over_limit = 0
            self._by_nonce: dict[str, dict[str, Any]] = {}
            self._channels: dict[str, str] = {}  # user id -> channel id
            self._recipients: dict[str, str] = {}  # channel id -> user id
            self._blocked: dict[str, int] = {}
            self._unknown: set[str] = set()
            self._throttle: dict[str, list[tuple[float, bool]]] = {}
            self._next_errors: list[tuple[int, dict[str, Any]]] = []
            self._windows: dict[str, _Window] = {}

    # --- what a test arranges

    def block(self, user_id: str, code: int = 50007) -> None:
        with self.lock:
            self._blocked[user_id] = code

    def unknown(self, user_id: str) -> None:
        with self.lock:
            self._unknown.add(user_id)

    def rate_limit(
        self, times: int, retry_after: float, *, route: str = "messages", global_: bool = False
    ) -> None:
        with self.lock:
            self._throttle.setdefault(route, []).extend([(retry_after, global_)] * times)

    def fail_messages(self, times: int, status: int, body: dict[str, Any]) -> None:
        """The next ``times`` message posts are answered ``status`` with ``body``."""
        with self.lock:
            self._next_errors.extend([(status, body)] * times)

    def delivered(self, nonce: str) -> int:
        with self.lock:
            return self.per_nonce[nonce]

    # --- answering

    def _snowflake(self) -> str:
        self._ids += 1
        return str(self._ids)

    def handle(self, request: Request) -> Answer:
        now = self.now()
        with self.lock:
            route, major = self._route(request)
            if route is None:
                return self._arrived(
                    now, "?", self.fail(f"unexpected call {request.method} {request.path}", 404)
                )
            if request.headers.get("authorization") != f"Bot {self.bot_token}":
                return self._arrived(
                    now, route, Answer(401, {"message": "401: Unauthorized", "code": 0})
                )
            problem = self._header_problem(request)
            if problem:
                return self._arrived(now, route, self.fail(f"{request.path}: {problem}"))
            throttled = self._throttled(route, now)
            if throttled is not None:
                return self._arrived(now, route, throttled)
            bucket = f"{route}:{major}"
            window = self._windows.setdefault(bucket, _Window(start=now))
            if now >= window.start + self.window:
                window.start, window.count = now, 0
            if window.count >= self.limit:
                self.over_limit += 1
                wait = window.start + self.window - now
                return self._arrived(now, route, self._too_many(route, wait, False, window))
            window.count += 1
            answer = self._answer(route, major, request, now)
            answer.headers |= self._limit_headers(route, window, now)
            return self._arrived(now, route, answer)

    def _route(self, request: Request) -> tuple[str | None, str]:
        if request.method == "GET" and request.path == BOT_ME_PATH:
            return "me", ""
        if request.method == "POST" and request.path == DM_CHANNELS_PATH:
            return "channels", ""
        match = MESSAGES_PATH.match(request.path)
        if request.method == "POST" and match:
            return "messages", match.group(1)
        return None, ""

    def _arrived(self, now: float, route: str, answer: Answer) -> Answer:
        self.arrivals.append(Arrival(now, route, answer.status))
        return answer

    @staticmethod
    def _header_problem(request: Request) -> str | None:
        agent = request.headers.get("user-agent", "")
        if not agent.startswith(USER_AGENT_PREFIX):
            return f"User-Agent {agent!r} is not discord.py's"
        if request.method == "GET":
            return f"a GET with a body {request.body[:80]!r}" if request.body else None
        if request.headers.get("content-type") != "application/json":
            return f"Content-Type {request.headers.get('content-type')!r}"
        return None

    def _throttled(self, route: str, now: float) -> Answer | None:
        queue = self._throttle.get(route)
        if not queue:
            return None
        retry_after, global_ = queue.pop(0)
        return self._too_many(route, retry_after, global_, None)

    def _too_many(
        self, route: str, retry_after: float, global_: bool, window: _Window | None
    ) -> Answer:
        headers = {
            "Retry-After": f"{retry_after:g}",
            "X-RateLimit-Scope": "global" if global_ else "user",
            "Via": "1.1 google",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers |= {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": f"fake-{route}",
            }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global_,
        }
        return Answer(429, body, headers)

    def _limit_headers(self, route: str, window: _Window, now: float) -> dict[str, str]:
        reset_after = max(window.start + self.window - now, 0.0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - window.count),
            "X-RateLimit-Reset": f"{now + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"fake-{route}",
        }

    def _answer(self, route: str, major: str, request: Request, now: float) -> Answer:
        if route == "me":
            self.logins += 1
            return Answer(
                200, user(self.bot_id, "mentorships-bot") | {"bot": True, "verified": True}
            )
        try:
            body = request.json()
        except ValueError:
            return self.fail(f"body is not JSON: {request.body[:200]!r}")
        if route == "channels":
            return self._open(body)
        return self._post(major, body, now)

    def _open(self, body: Any) -> Answer:
        if not (isinstance(body, dict) and set(body) == {"recipient_id"}):
            return self.fail(f"a DM channel body {body!r}, expected {{'recipient_id': ...}}")
        user_id = str(body["recipient_id"])
        if not SNOWFLAKE.fullmatch(user_id):
            return self.fail(f"recipient_id {body['recipient_id']!r} is not a snowflake")
        if user_id in self._unknown:
            return Answer(404, {"message": "Unknown User", "code": 10013})
        self.channel_opens += 1
        channel_id = self._channels.get(user_id)
        if channel_id is None:
            channel_id = self._channels[user_id] = self._snowflake()
            self._recipients[channel_id] = user_id
        return Answer(
            200,
            {
                "id": channel_id,
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user(user_id)],
            },
        )

    def _post(self, channel_id: str, body: Any, now: float) -> Answer:
        problem = self._message_problem(body)
        if problem:
            return self.fail(f"channel {channel_id}: {problem}")
        if self._next_errors:
            status, error_body = self._next_errors.pop(0)
            return Answer(status, error_body)
        user_id = self._recipients.get(channel_id)
        if user_id is None:
            return Answer(404, {"message": "Unknown Channel", "code": 10003})
        code = self._blocked.get(user_id)
        if code is not None:
            return Answer(403, {"message": "Cannot send messages to this user", "code": code})
        nonce = body["nonce"]
        first = self._by_nonce.get(nonce)
        if first is not None:
            return Answer(200, first)
        posted = Posted(self._snowflake(), channel_id, user_id, nonce, body["content"], now)
        message = {
            "id": posted.id,
            "type": 0,
            "channel_id": channel_id,
            "content": posted.content,
            "nonce": nonce,
            "author": user(self.bot_id, "mentorships-bot") | {"bot": True},
            "timestamp": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
        }
        self._by_nonce[nonce] = message
        self.messages.append(posted)
        self.per_nonce[nonce] += 1
        return Answer(200, message)

    @staticmethod
    def _message_problem(body: Any) -> str | None:
        if not (isinstance(body, dict) and set(body) == MESSAGE_FIELDS):
            return f"message fields {sorted(body) if isinstance(body, dict) else body!r}, expected {sorted(MESSAGE_FIELDS)}"
        content, nonce = body["content"], body["nonce"]
        if not (isinstance(content, str) and 1 <= len(content) <= 2000):
            return (
                f"content of {len(content) if isinstance(content, str) else content!r} characters"
            )
        if not (isinstance(nonce, str) and 1 <= len(nonce) <= 25):
            return f"nonce {nonce!r} is not 1 to 25 characters"
        if body["enforce_nonce"] is not True or body["tts"] is not False:
            return f"enforce_nonce {body['enforce_nonce']!r}, tts {body['tts']!r}"
        if body["allowed_mentions"] != {"parse": []}:
            return f"allowed_mentions {body['allowed_mentions']!r}"
        return None
