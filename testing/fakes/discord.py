"""Answers of Discord's OAuth2 endpoints, shaped like the real ones (Discord developer docs,
OAuth2: token exchange, `GET /users/@me`), and what the services must send them."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from typing import Any

from testing.fakes.http import StrictFake

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
