"""A strict fake of Resend's email API (``POST /emails``), with the state the real one keeps:

- every request is checked: method and path, ``Authorization: Bearer <key>`` (a missing or other
  key is answered as Resend does, 401 missing_api_key / 403 invalid_api_key), a User-Agent from
  Resend's library, ``Content-Type: application/json``, an ``Idempotency-Key`` (1 to 256
  characters), and the body: exactly the fields the transport sends (from, to, subject, text,
  html; headers and attachments when there are any), each of the right form. Anything else is
  recorded as a failure (``verify()`` fails the test) and answered 400;
- idempotency: the same key with the same body answers the first answer again and delivers
  nothing new; the same key with another body is Resend's 409 invalid_idempotent_request (only
  deliveries are remembered, as Resend keeps the answers of requests it carried out);
- ``rate_limit(times, retry_after)``: the next ``times`` requests are answered 429
  rate_limit_exceeded with ``retry-after`` and the ``ratelimit-*`` headers (a fraction of a second
  is allowed, to keep tests short; Resend sends whole seconds);
- ``refuse(address, status, name, message)``: every email to that address is answered with that
  error (Resend's shape: ``{"statusCode", "name", "message"}``);
- ``deliveries`` (each with its key, body and arrival time) and ``delivered(key)`` count what
  went out, so a test can assert exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from testing.fakes.http import Request
from testing.fakes.server import Answer, FakeServer

# What the tests' transports and fakes share.
API_KEY = "re_test_transports_0123456789"
SENDER = "Mentorships <sessions@example.org>"
EMAILS_PATH = "/emails"
REQUIRED = ("from", "to", "subject", "text", "html")
OPTIONAL = ("headers", "attachments")
ATTACHMENT_FIELDS = {"filename", "content", "content_type"}
USER_AGENT_PREFIX = "resend-python:"


@dataclass(frozen=True)
class Delivery:
    id: str
    key: str
    body: dict[str, Any]
    arrived_at: float  # time.time()


def error(status: int, name: str, message: str) -> Answer:
    return Answer(status, {"statusCode": status, "name": name, "message": message})


class ResendFake(FakeServer):
    def __init__(self, *, api_key: str, sender: str, port: int = 0) -> None:
        super().__init__("resend", port)
        self.api_key = api_key
        self.sender = sender
        self.reset()

    def reset(self) -> None:
        self.end_outage()
        with self.lock:
            self.failures.clear()
            self.errors.clear()
            self.deliveries: list[Delivery] = []
            self.per_key: Counter[str] = Counter()
            self.requests: list[float] = []  # arrival time of every request
            self.rate_limited_at: list[float] = []  # arrival time of every request answered 429
            self._remembered: dict[str, tuple[str, Answer]] = {}
            self._throttle: list[float] = []
            self._refusals: dict[str, Answer] = {}

    def rate_limit(self, times: int, retry_after: float = 1.0) -> None:
        with self.lock:
            self._throttle.extend([retry_after] * times)

    def refuse(self, address: str, status: int, name: str, message: str) -> None:
        with self.lock:
            self._refusals[address.lower()] = error(status, name, message)

    @property
    def rate_limited(self) -> int:
        return len(self.rate_limited_at)

    def delivered(self, key: str) -> int:
        with self.lock:
            return self.per_key[key]

    def handle(self, request: Request) -> Answer:
        arrived = self.now()
        with self.lock:
            self.requests.append(arrived)
            if (request.method, request.path) != ("POST", EMAILS_PATH):
                return self.fail(f"unexpected call {request.method} {request.path}", 404)
            auth = request.headers.get("authorization")
            if not auth:
                return error(401, "missing_api_key", "Missing API key in the authorization header.")
            if auth != f"Bearer {self.api_key}":
                return error(403, "invalid_api_key", "API key is invalid")
            problem = self._header_problem(request)
            if problem:
                return self.fail(problem)
            key = request.headers["idempotency-key"]
            try:
                body = request.json()
            except ValueError:
                return self.fail(f"body is not JSON: {request.body[:200]!r}")
            problem = self._body_problem(body)
            if problem:
                return self.fail(f"{key}: {problem}")
            if self._throttle:
                wait = self._throttle.pop(0)
                self.rate_limited_at.append(arrived)
                return Answer(
                    429,
                    {
                        "statusCode": 429,
                        "name": "rate_limit_exceeded",
                        "message": "Too many requests. You can only make 2 requests per second.",
                    },
                    {
                        "retry-after": f"{wait:g}",
                        "ratelimit-limit": "2",
                        "ratelimit-remaining": "0",
                        "ratelimit-reset": f"{wait:g}",
                    },
                )
            refusal = self._refusals.get(parseaddr(body["to"][0])[1].lower())
            if refusal is not None:
                return refusal
            canonical = json.dumps(body, sort_keys=True)
            remembered = self._remembered.get(key)
            if remembered is not None:
                if remembered[0] != canonical:
                    return error(
                        409,
                        "invalid_idempotent_request",
                        "Same idempotency key used with a different request payload.",
                    )
                return remembered[1]
            delivery = Delivery(str(uuid.uuid4()), key, body, arrived)
            answer = Answer(200, {"id": delivery.id})
            self._remembered[key] = (canonical, answer)
            self.deliveries.append(delivery)
            self.per_key[key] += 1
            return answer

    def _header_problem(self, request: Request) -> str | None:
        agent = request.headers.get("user-agent", "")
        if not agent.startswith(USER_AGENT_PREFIX):
            return f"User-Agent {agent!r} is not Resend's library"
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip() != "application/json":
            return f"Content-Type {content_type!r}"
        key = request.headers.get("idempotency-key")
        if key is None:
            return "no Idempotency-Key"
        if not 1 <= len(key) <= 256:
            return f"an Idempotency-Key of {len(key)} characters"
        return None

    def _body_problem(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return f"body is not an object: {body!r}"[:300]
        missing = [f for f in REQUIRED if f not in body]
        extra = [f for f in body if f not in REQUIRED + OPTIONAL]
        if missing or extra:
            return f"fields missing {missing}, unexpected {extra}"
        if body["from"] != self.sender:
            return f"from {body['from']!r}, expected {self.sender!r}"
        to = body["to"]
        if not (isinstance(to, list) and len(to) == 1 and "@" in parseaddr(to[0])[1]):
            return f"to {to!r} is not one address"
        for name in ("subject", "text", "html"):
            if not (isinstance(body[name], str) and body[name].strip()):
                return f"{name} is empty or not text"
        headers = body.get("headers", {"x": "y"})
        if not (
            isinstance(headers, dict)
            and headers
            and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
        ):
            return f"headers {headers!r} are not a non-empty object of texts"
        return self._attachments_problem(body.get("attachments"))

    @staticmethod
    def _attachments_problem(attachments: Any) -> str | None:
        if attachments is None:
            return None
        if not (isinstance(attachments, list) and attachments):
            return f"attachments {attachments!r} are not a non-empty list"
        for attachment in attachments:
            if not (isinstance(attachment, dict) and set(attachment) == ATTACHMENT_FIELDS):
                return f"attachment {attachment!r} has not exactly {sorted(ATTACHMENT_FIELDS)}"
            try:
                base64.b64decode(attachment["content"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                return f"attachment {attachment['filename']!r}: content is not base64"
        return None

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [d.body for d in self.deliveries]
