"""Email through Resend, with Resend's own Python library (``resend``).

    transport = ResendTransport(api_key=..., api_base="https://api.resend.com",
                                sender="Mentorships <sessions@example.org>", rate_per_second=2)
    email_id = await transport.send(outgoing)     # or DeliveryFailed
    await transport.aclose()

One email per request (``POST /emails``, ``resend.Emails.send_async``): from, to (with the
person's name), subject, text, html, the message's headers (List-Unsubscribe, ...) and, for a
session change, the invite as an attachment ``invite.ics`` (``text/calendar; method=REQUEST`` or
``CANCEL``). Not the batch endpoint (``POST /emails/batch``): it takes no attachments, one
idempotency key for the whole batch, and refuses the whole batch for one bad address, while each
outbox row needs its own key and its own verdict.

- **Exactly once**: ``Idempotency-Key`` is the outbox row's dedupe key, so a message claimed again
  after a crash is answered with the first email's id instead of going twice. Resend keeps keys
  24 hours and takes 1 to 256 characters; a dedupe key that is longer (or not printable ASCII) is
  replaced by ``sha256:<hex of the key>``, stable across attempts.
- **Pace**: a token bucket at ``rate_per_second`` shared by every concurrent send. A 429
  rate_limit_exceeded pauses the bucket for everyone as long as Resend asked (``retry-after``,
  else ``ratelimit-reset``) and the send tries again, up to RATE_LIMIT_RETRIES times and while
  its waits add up to at most MAX_WAIT_SECONDS; after that DeliveryFailed(retry_after=the wait).
- **A time limit**: each request has ``timeout_seconds`` (default REQUEST_TIMEOUT_SECONDS; the
  dispatcher passes at most half its lease, so a send never outlives its claim); a request that
  has no answer by then is temporary, and the outbox's rules retry it (the same key).
- **Verdicts** (errors.py): the message's own faults are permanent; a bad key, sender or account
  is logged as an error and reported temporary, so a wrong setting fails no message for good.

The library is configured per process (``resend.api_key``, ``resend.api_url``, its async HTTP
client): a transport sets them when it is made, and a second live transport with another key or
base URL is refused (ValueError). Requests go through an aiohttp session of the transport's own
(keep-alive; the library's default client opens a connection per request), chosen per send by a
context variable. A transport is used from one event loop.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import logging
import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any, cast

import aiohttp
import resend
from resend.exceptions import ResendError
from resend.http_client_async import AsyncHTTPClient

from sync.messaging.context import Channel
from sync.messaging.token_bucket import TokenBucket
from sync.messaging.transport import DeliveryFailed, Outgoing
from sync.resend.errors import QUOTA_TYPES, classify

log = logging.getLogger("sync.resend")

IDEMPOTENCY_KEY_MAX = 256
# A send waits out 429s and tries again up to this many times, and as long as its waits add up
# to at most MAX_WAIT_SECONDS; past either it reports the message temporary with the last wait
# (the rules retry it later).
RATE_LIMIT_RETRIES = 10
MAX_WAIT_SECONDS = 30.0
# The wait when a 429 names none.
DEFAULT_WAIT_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 30.0
INVITE_FILENAME = "invite.ics"
# Characters that make a display name need quotes (RFC 5322 specials).
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')

_session: contextvars.ContextVar[aiohttp.ClientSession | None] = contextvars.ContextVar(
    "resend_session", default=None
)


class _SessionClient(AsyncHTTPClient):
    """The library's async HTTP client for this process: each request goes through the session
    of the transport sending it."""

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        json: dict[str, object] | list[object] | None = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
    ) -> tuple[bytes, int, Mapping[str, str]]:
        session = _session.get()
        if session is None:
            raise RuntimeError("resend is called outside ResendTransport.send")
        if files is not None or data is not None:
            raise RuntimeError("ResendTransport sends JSON bodies only")
        try:
            async with session.request(method.upper(), url, headers=dict(headers), json=json) as r:
                return await r.read(), r.status, r.headers
        except TimeoutError as e:
            # aiohttp's says nothing; the library puts this text in its HttpClientError.
            raise TimeoutError(f"no answer within {session.timeout.total:g} s") from e


_CLIENT = _SessionClient()
# (api_base, api_key) the library is set to, and how many open transports use it.
_configured: tuple[str, str] | None = None
_open_transports = 0


def _claim_library(api_base: str, api_key: str) -> None:
    global _configured, _open_transports
    if _open_transports and _configured != (api_base, api_key):
        raise ValueError(
            "the resend library holds one API key and base URL per process (resend.api_key, "
            "resend.api_url), and another open ResendTransport uses others"
        )
    resend.api_key = api_key
    resend.api_url = api_base
    resend.default_async_http_client = _CLIENT
    _configured = (api_base, api_key)
    _open_transports += 1


def _release_library() -> None:
    global _open_transports
    _open_transports -= 1


def idempotency_key(dedupe_key: str) -> str:
    """The Idempotency-Key of a message: its dedupe key when Resend takes it as it is, else a
    stable digest of it."""
    fits = 1 <= len(dedupe_key) <= IDEMPOTENCY_KEY_MAX
    if fits and dedupe_key.isascii() and dedupe_key.isprintable():
        return dedupe_key
    return "sha256:" + hashlib.sha256(dedupe_key.encode()).hexdigest()


def mailbox(name: str, address: str) -> str:
    """``Name <address>`` (the name on one line, quoted when it holds specials), or the bare
    address when there is no name."""
    name = " ".join(name.split())
    if not name:
        return address
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def wait_of(headers: Mapping[str, str]) -> float | None:
    """The seconds a 429 asks to wait: retry-after, else ratelimit-reset; None if neither."""
    lower = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after", "ratelimit-reset"):
        try:
            seconds = float(lower[name])
        except (KeyError, ValueError):
            continue
        if seconds >= 0:
            return seconds
    return None


class ResendTransport:
    """Delivers email through Resend (see the module's docstring)."""

    name = "resend"
    channel: Channel = "email"

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str,
        sender: str,
        rate_per_second: float,
        timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is empty")
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be above 0, not {timeout_seconds}")
        self.timeout_seconds = timeout_seconds
        if "@" not in parseaddr(sender)[1]:
            raise ValueError(
                f"sender {sender!r} is not an address: expected 'Name <address@domain>' or "
                "'address@domain'"
            )
        self.api_base = api_base.rstrip("/")
        self.sender = sender
        self.bucket = TokenBucket(rate_per_second)
        self._http: aiohttp.ClientSession | None = None
        _claim_library(self.api_base, api_key)
        self._closed = False

    def params(self, message: Outgoing) -> dict[str, Any]:
        """The body of POST /emails for a message."""
        rendered = message.rendered
        if message.channel != "email" or None in (rendered.subject, rendered.text, rendered.html):
            raise DeliveryFailed(
                f"message {message.notification_id} is not a rendered email", permanent=True
            )
        params: dict[str, Any] = {
            "from": self.sender,
            "to": [mailbox(message.to_name, message.to)],
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
        }
        if message.headers:
            params["headers"] = dict(message.headers)
        if rendered.ics is not None:
            params["attachments"] = [
                {
                    "filename": INVITE_FILENAME,
                    "content": base64.b64encode(rendered.ics).decode("ascii"),
                    "content_type": f"text/calendar; method={rendered.ics_method or 'REQUEST'}",
                }
            ]
        return params

    async def send(self, message: Outgoing) -> str:
        if self._closed:
            raise RuntimeError("the transport is closed")
        params = cast(resend.Emails.SendParams, self.params(message))
        options: resend.Emails.SendOptions = {
            "idempotency_key": idempotency_key(message.dedupe_key)
        }
        token = _session.set(self._session())
        waited = 0.0
        try:
            for attempt in range(RATE_LIMIT_RETRIES + 1):
                await self.bucket.take()
                try:
                    sent = await resend.Emails.send_async(params, options)
                except ResendError as e:
                    if str(e.code) == "429" and e.error_type not in QUOTA_TYPES:
                        wait = wait_of(e.headers) or DEFAULT_WAIT_SECONDS
                        self.bucket.pause(wait)
                        waited += wait
                        if attempt < RATE_LIMIT_RETRIES and waited <= MAX_WAIT_SECONDS:
                            log.info(
                                "resend rate limited: waiting",
                                extra={"notification_id": message.notification_id, "wait": wait},
                            )
                            continue
                        raise DeliveryFailed(
                            f"resend 429 {e.error_type}: still rate limited after "
                            f"{attempt + 1} attempt(s)",
                            retry_after=wait,
                        ) from e
                    raise self._failure(e, message) from e
                except Exception as e:  # anything the library did not turn into a ResendError
                    raise DeliveryFailed(f"resend: {type(e).__name__}: {e}"[:500]) from e
                return str(sent["id"])
            raise AssertionError("unreachable")
        finally:
            _session.reset(token)

    def _failure(self, error: ResendError, message: Outgoing) -> DeliveryFailed:
        verdict = classify(error)
        if verdict.verdict == "permanent":
            return DeliveryFailed(verdict.reason, permanent=True)
        if verdict.verdict == "configuration":
            log.error(
                "Resend refuses this configuration: every email waits until it is fixed "
                "(MENTORSHIPS_RESEND_API_KEY, MENTORSHIPS_MAIL_FROM, the sending domain)",
                extra={"notification_id": message.notification_id, "reason": verdict.reason},
            )
            return DeliveryFailed(verdict.reason)
        if error.error_type in QUOTA_TYPES:
            log.warning(
                "Resend quota reached", extra={"reason": verdict.reason, "kind": error.error_type}
            )
            return DeliveryFailed(verdict.reason, retry_after=wait_of(error.headers))
        if error.error_type == "concurrent_idempotent_requests":
            return DeliveryFailed(verdict.reason, retry_after=DEFAULT_WAIT_SECONDS)
        return DeliveryFailed(verdict.reason)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_seconds),
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._http

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        _release_library()
        if self._http is not None:
            await self._http.close()
