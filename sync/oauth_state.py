"""Signed OAuth2 `state` values with a PKCE verifier derived from them, shared by the Discord link
(sync/discord/oauth.py) and the Google Calendar connection (sync/gcal/connect.py).

    signer = StateSigner(secret, purpose="discord", hint="Start again at GET /oauth/discord/start.")
    state, verifier, expires_at = signer.issue(user_id)          # a random nonce
    state, verifier, expires_at = signer.issue(user_id, nonce)   # a nonce the caller recorded
    user_id, verifier = signer.check(state)                      # 400 SV400 (details "state")
    claims = signer.claims(state)                                # user_id, verifier and nonce

A state is `<payload>.<signature>`, both base64url without padding: the payload is the JSON
{"sub": user id, "exp": Unix seconds, "nonce": text}, the signature HMAC-SHA256 of the payload's
text under a key derived from the secret and the purpose (a Discord state is no Google state).
The PKCE verifier is never in the state: it is HMAC-SHA256 of the payload under a second derived
key (base64url, 43 characters, as RFC 7636 asks), computed again at the callback, so nothing is
stored between start and callback, and whoever reads the authorize URL and the redirect still
cannot redeem the code without the secret. Nothing in the state is secret: signed, not encrypted.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sync.errors import ApiError

# A state is a few hundred characters; anything much longer is not one of ours.
_STATE = re.compile(r"^[A-Za-z0-9_-]{1,600}\.[A-Za-z0-9_-]{43}$")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 4.2)."""
    return b64(hashlib.sha256(verifier.encode()).digest())


@dataclass(frozen=True)
class Claims:
    user_id: uuid.UUID
    verifier: str
    nonce: str


class StateSigner:
    """Makes and checks states (see the module's docstring); `clock` gives Unix seconds."""

    def __init__(
        self,
        secret: str,
        *,
        purpose: str,
        hint: str,
        lifetime: dt.timedelta = dt.timedelta(minutes=10),
        clock: Callable[[], float] = time.time,
    ) -> None:
        root = secret.encode()
        self._signing_key = hmac.new(
            root, f"mentorships {purpose} oauth state".encode(), "sha256"
        ).digest()
        self._verifier_key = hmac.new(
            root, f"mentorships {purpose} oauth pkce".encode(), "sha256"
        ).digest()
        self.hint = hint
        self.lifetime = lifetime
        self.clock = clock

    def _signature(self, payload: str) -> str:
        return b64(hmac.new(self._signing_key, payload.encode(), "sha256").digest())

    def verifier(self, payload: str) -> str:
        return b64(hmac.new(self._verifier_key, payload.encode(), "sha256").digest())

    def _bad(self, reason: str) -> ApiError:
        return ApiError.message(400, f"state: {reason}", details="state", hint=self.hint)

    def issue(self, user_id: uuid.UUID, nonce: str | None = None) -> tuple[str, str, dt.datetime]:
        """A new state for `user_id`: (state, PKCE verifier, when the state expires)."""
        expires = int(self.clock() + self.lifetime.total_seconds())
        nonce = nonce if nonce is not None else b64(secrets.token_bytes(16))
        claims = {"sub": str(user_id), "exp": expires, "nonce": nonce}
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        state = f"{payload}.{self._signature(payload)}"
        return state, self.verifier(payload), dt.datetime.fromtimestamp(expires, dt.UTC)

    def claims(self, state: str | None, sent_by: str = "the provider") -> Claims:
        """The claims of a state these services signed and that has not expired; a 400 (SV400,
        details "state") otherwise."""
        if not state:
            raise self._bad(f"it is missing ({sent_by} sends it back with the code)")
        if not _STATE.match(state):
            raise self._bad("it is not a state these services issued")
        payload, signature = state.split(".")
        if not hmac.compare_digest(signature, self._signature(payload)):
            raise self._bad("its signature does not match (not issued by these services)")
        try:
            claims = json.loads(unb64(payload))
            user_id = uuid.UUID(claims["sub"])
            expires = claims["exp"]
            nonce = claims["nonce"]
        except (ValueError, binascii.Error, KeyError, TypeError) as e:
            raise self._bad("it is not a state these services issued") from e
        if not isinstance(expires, int) or isinstance(expires, bool) or not isinstance(nonce, str):
            raise self._bad("it is not a state these services issued")
        if self.clock() >= expires:
            at = dt.datetime.fromtimestamp(expires, dt.UTC).isoformat()
            minutes = int(self.lifetime.total_seconds() // 60)
            raise self._bad(f"it expired at {at} (a link is valid for {minutes} minutes)")
        return Claims(user_id, self.verifier(payload), nonce)

    def check(self, state: str | None, sent_by: str = "the provider") -> tuple[uuid.UUID, str]:
        """(user id, PKCE verifier) of a valid state (see `claims`)."""
        claims = self.claims(state, sent_by)
        return claims.user_id, claims.verifier
