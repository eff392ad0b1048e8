"""Sealing refresh tokens (sync/gcal/sealing.py) and reading MENTORSHIPS_GOOGLE_TOKEN_KEYS: a
token opens only for its mentor under its key version; malformed keys are named, never shown."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import ValidationError

from sync.gcal.sealing import NONCE_BYTES, SealError, TokenKeys
from sync.settings import ProviderSettings, parse_token_keys
from testing.services import GOOGLE_TOKEN_KEY_1, GOOGLE_TOKEN_KEY_2

TOKEN = "1//0g-a-refresh-token-of-the-tests"


def test_a_token_opens_for_its_mentor_under_its_version_only() -> None:
    keys = TokenKeys(parse_token_keys(f"{GOOGLE_TOKEN_KEY_1},{GOOGLE_TOKEN_KEY_2}"))
    mentor = uuid.uuid4()
    sealed = keys.seal(TOKEN, mentor)
    assert sealed.key_version == 2 == keys.newest
    assert TOKEN.encode() not in sealed.ciphertext
    assert len(sealed.ciphertext) == NONCE_BYTES + len(TOKEN) + 16
    assert keys.open(sealed.ciphertext, 2, mentor) == TOKEN
    assert keys.open(sealed.text, 2, mentor) == TOKEN
    assert keys.seal(TOKEN, mentor).ciphertext != sealed.ciphertext  # a fresh nonce each time
    with pytest.raises(SealError, match="does not open for mentor"):
        keys.open(sealed.ciphertext, 2, uuid.uuid4())
    with pytest.raises(SealError, match="does not open"):
        keys.open(sealed.ciphertext, 1, mentor)  # relabelled
    old_only = TokenKeys(parse_token_keys(GOOGLE_TOKEN_KEY_1))
    with pytest.raises(SealError, match="no token key of version 2") as e:
        old_only.open(sealed.ciphertext, 2, mentor)
    assert TOKEN not in str(e.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no key"),
        ("1:short", "item 1 is not <version>:<base64 of 32 random bytes>"),
        (f"{GOOGLE_TOKEN_KEY_1},{GOOGLE_TOKEN_KEY_1}", "version 1 is given twice"),
        ("0:" + base64.b64encode(b"x" * 32).decode(), "item 1 is not"),
    ],
)
def test_malformed_token_keys_are_named_not_shown(text: str, says: str) -> None:
    if text:
        with pytest.raises(ValidationError, match=says.split(" <")[0]):
            ProviderSettings(google_token_keys=text)
    with pytest.raises(ValueError, match=says.split(" <")[0]):
        parse_token_keys(text)


def test_google_bases_take_https_or_a_loopback_fake() -> None:
    assert ProviderSettings(google_api_base="http://127.0.0.1:9999/").google_api_base == (
        "http://127.0.0.1:9999"
    )
    with pytest.raises(ValidationError, match=r"http:// only for 127\.0\.0\.1"):
        ProviderSettings(google_oauth_base="http://oauth2.googleapis.com")
