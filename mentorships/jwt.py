"""Supabase-shaped JWTs for the local stack: the anon and service-role keys, and user tokens."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt as pyjwt

from mentorships.settings import Settings

# Same claims as the Supabase CLI's local keys, so with the default secret they are identical.
_KEY_EXPIRY = 1983812996


def _sign(settings: Settings, claims: dict[str, Any]) -> str:
    return pyjwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def anon_key(settings: Settings) -> str:
    return _sign(settings, {"iss": "supabase-demo", "role": "anon", "exp": _KEY_EXPIRY})


def service_role_key(settings: Settings) -> str:
    return _sign(settings, {"iss": "supabase-demo", "role": "service_role", "exp": _KEY_EXPIRY})


def user_token(
    settings: Settings,
    user_id: uuid.UUID | str,
    email: str | None,
    *,
    ttl_seconds: int | None = None,
    now: int | None = None,
) -> str:
    """A token with the claims Supabase Auth puts in an access token."""
    iat = int(time.time()) if now is None else now
    exp = iat + (settings.jwt_expiry_seconds if ttl_seconds is None else ttl_seconds)
    claims: dict[str, Any] = {
        "iss": f"{settings.gateway_url}/auth/v1",
        "sub": str(user_id),
        "aud": "authenticated",
        "exp": exp,
        "iat": iat,
        "email": email or "",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": iat}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    return _sign(settings, claims)


def decode(settings: Settings, token: str) -> dict[str, Any]:
    claims: dict[str, Any] = pyjwt.decode(
        token,
        settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        options={"verify_aud": False},
    )
    return claims
