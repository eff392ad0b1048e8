"""Refresh tokens at rest: AES-256-GCM under versioned keys (MENTORSHIPS_GOOGLE_TOKEN_KEYS).

    keys = TokenKeys.from_settings(settings)
    sealed = keys.seal(refresh_token, mentor_id)        # Sealed(ciphertext, key_version)
    token = keys.open(ciphertext, key_version, mentor_id)   # SealError if it does not open
    keys.newest                                          # the version new seals use

The ciphertext is the 12-byte random nonce followed by AES-GCM's output (ciphertext and tag).
The associated data binds it to its mentor and key version: a row copied to another mentor, or
relabelled with another version, does not open. Rotation: add a new highest version to the keys,
run `mentorships gcal rotate-key` (every row re-sealed under it), then drop the old key.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync.settings import ProviderSettings, env_name, parse_token_keys

NONCE_BYTES = 12


class SealError(Exception):
    """A sealed token that cannot be opened (no key of its version, or not sealed for this
    mentor under that key). Its message never carries the token or a key."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    key_version: int

    @property
    def text(self) -> str:
        """As the RPCs take it: base64."""
        return base64.b64encode(self.ciphertext).decode()


def _aad(mentor_id: uuid.UUID, key_version: int) -> bytes:
    return f"mentorships google refresh token|{mentor_id}|{key_version}".encode()


class TokenKeys:
    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ValueError("no token key")
        self._keys = {version: AESGCM(key) for version, key in keys.items()}
        self.newest = max(keys)

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> TokenKeys:
        if settings.google_token_keys is None:
            raise SealError(f"{env_name('google_token_keys')} is not set")
        return cls(parse_token_keys(settings.google_token_keys.get_secret_value()))

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def seal(self, token: str, mentor_id: uuid.UUID) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        box = self._keys[self.newest].encrypt(nonce, token.encode(), _aad(mentor_id, self.newest))
        return Sealed(nonce + box, self.newest)

    def open(self, ciphertext: bytes | str, key_version: int, mentor_id: uuid.UUID) -> str:
        """The token; `ciphertext` as bytes or as the RPCs give it (base64)."""
        if isinstance(ciphertext, str):
            ciphertext = base64.b64decode(ciphertext)
        aead = self._keys.get(key_version)
        if aead is None:
            raise SealError(
                f"no token key of version {key_version} (the keys have versions "
                f"{', '.join(map(str, self.versions))}); add it back to "
                f"{env_name('google_token_keys')}"
            )
        try:
            plain = aead.decrypt(
                ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], _aad(mentor_id, key_version)
            )
        except (InvalidTag, ValueError) as e:
            raise SealError(
                f"a token sealed under key version {key_version} does not open for mentor "
                f"{mentor_id} (another key of that version, or another mentor's row)"
            ) from e
        return plain.decode()

    def reseal(self, ciphertext: bytes | str, key_version: int, mentor_id: uuid.UUID) -> Sealed:
        """The same token sealed under the newest key."""
        return self.seal(self.open(ciphertext, key_version, mentor_id), mentor_id)
