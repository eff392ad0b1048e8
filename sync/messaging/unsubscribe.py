"""One-click unsubscribe links (RFC 2369 List-Unsubscribe, RFC 8058 List-Unsubscribe-Post) for
the messages people may turn off.

    headers = unsubscribe_headers(recipient_id=..., kind=..., channel="email",
                                  services_url="https://services.example", secret=secret)
    # {} for a kind that may not be turned off; else List-Unsubscribe and List-Unsubscribe-Post
    user_id, kind, channel = read_token(token, [secret, previous_secret])

The link is `{services_url}/messages/unsubscribe?token=<token>`. The token is
`v1.<key id>.<payload>.<signature>`, each part base64url without padding: the payload is the text
`<user id>:<kind>:<channel>`, the signature HMAC-SHA256 of `v1.<key id>.<payload>` under a key
derived from MENTORSHIPS_UNSUBSCRIBE_SECRET, and the key id (8 characters, derived from the same
secret) says which secret signed it. It does not expire: a link in an old email keeps working.
Rotating the secret: set the new one as MENTORSHIPS_UNSUBSCRIBE_SECRET and the old one as
MENTORSHIPS_UNSUBSCRIBE_PREVIOUS_SECRET; links signed with either verify, new ones are signed with
the new one; drop the previous secret when its links may stop working. `v1` names this format.
Nothing in the token is secret (signed, not encrypted); it only lets its holder turn that one kind
off on that one channel, which is what the email's recipient may do anyway.

Which kinds may be turned off is a rule of the database (private.message_kind_optional in
sql/rules/preferences.sql); OPTIONAL_KINDS mirrors it for the headers, and a test holds the two
together. The database decides again when the link is used (public.unsubscribe).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from collections.abc import Sequence

PATH = "/messages/unsubscribe"
VERSION = "v1"
# private.message_kind_optional's list (tests/sync/messaging/test_unsubscribe.py checks it).
OPTIONAL_KINDS = frozenset(
    {"session_reminder_24h", "session_reminder_1h", "renewal_reminder", "one_session_left"}
)
CHANNELS = frozenset({"email", "discord"})
_TOKEN = re.compile(r"^v1\.([A-Za-z0-9_-]{8})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$")
_PAYLOAD = re.compile(r"^([0-9a-f-]{36}):([a-z0-9_]{1,64}):([a-z]{1,16})$")


class BadToken(Exception):
    """A token these links did not sign, or not in their form; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_id(secret: bytes) -> str:
    return _b64(hmac.new(secret, b"mentorships unsubscribe key id", "sha256").digest())[:8]


def _signature(secret: bytes, signed: str) -> str:
    key = hmac.new(secret, b"mentorships unsubscribe v1", "sha256").digest()
    return _b64(hmac.new(key, signed.encode(), "sha256").digest())


def make_token(*, recipient_id: str, kind: str, channel: str, secret: bytes) -> str:
    """The signed token of one person, kind and channel."""
    user = str(uuid.UUID(recipient_id))
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {sorted(CHANNELS)}, not {channel!r}")
    payload = _b64(f"{user}:{kind}:{channel}".encode())
    signed = f"{VERSION}.{_key_id(secret)}.{payload}"
    return f"{signed}.{_signature(secret, signed)}"


def read_token(token: str | None, secrets: Sequence[bytes]) -> tuple[uuid.UUID, str, str]:
    """(user id, kind, channel) of a token signed with one of `secrets`; BadToken otherwise."""
    if not token:
        raise BadToken("it is missing (the link carries it as ?token=...)")
    match = _TOKEN.match(token)
    if not match:
        raise BadToken("it is not an unsubscribe token of these services")
    key_id, payload, signature = match.groups()
    secret = next((s for s in secrets if hmac.compare_digest(_key_id(s), key_id)), None)
    if secret is None:
        raise BadToken("it was signed with a key these services no longer have")
    signed = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(signature, _signature(secret, signed)):
        raise BadToken("its signature does not match (it was changed or not issued here)")
    try:
        fields = _PAYLOAD.match(_unb64(payload).decode())
    except (ValueError, binascii.Error):
        fields = None
    if fields is None:
        raise BadToken("it is not an unsubscribe token of these services")
    user, kind, channel = fields.groups()
    try:
        return uuid.UUID(user), kind, channel
    except ValueError as e:
        raise BadToken("it is not an unsubscribe token of these services") from e


def unsubscribe_url(
    *, recipient_id: str, kind: str, channel: str, services_url: str, secret: bytes
) -> str | None:
    """The one-click link for this person, kind and channel; None for a kind that may not be
    turned off."""
    if kind not in OPTIONAL_KINDS:
        return None
    token = make_token(recipient_id=recipient_id, kind=kind, channel=channel, secret=secret)
    return f"{services_url.rstrip('/')}{PATH}?token={token}"


def unsubscribe_headers(
    *, recipient_id: str, kind: str, channel: str, services_url: str, secret: bytes
) -> dict[str, str]:
    """List-Unsubscribe (RFC 2369) and List-Unsubscribe-Post (RFC 8058 one-click) for an email
    whose kind may be turned off; {} for the others."""
    url = unsubscribe_url(
        recipient_id=recipient_id,
        kind=kind,
        channel=channel,
        services_url=services_url,
        secret=secret,
    )
    if url is None:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def digest(token: str) -> str:
    """A short fingerprint of a token for logs (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]
