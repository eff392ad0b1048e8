"""Supabase Auth (GoTrue), faked at the dashboards' network edge: the calls supabase-py's auth
client makes for an email one-time code, a password and a refresh, each declared exactly (method,
path, query, apikey, API version header, the whole JSON body), and answers shaped like GoTrue's
(its 2024-01-01 API: sessions, and errors as `{code, message}`). The sessions' access tokens are
signed with the stack's JWT secret, as a hosted project's Auth signs with the project's, so the
real gateway accepts them.

    fake = StrictFake("supabase-auth")
    expect_code_sent(fake, anon, "sam@example.com")
    expect_code_verified(fake, anon, "sam@example.com", "123456", session(secret, uid, email))
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

import jwt as pyjwt

from testing.fakes.http import Expected, StrictFake

API_VERSION = "2024-01-01"
NO_CAPTCHA = {"captcha_token": None}


def session(
    secret: str, user_id: uuid.UUID, email: str, *, ttl: int = 3600, auth_url: str = ""
) -> dict[str, Any]:
    """GoTrue's session answer (POST /verify, /token): a signed access token and a refresh token."""
    now = int(time.time())
    claims = {
        "iss": auth_url,
        "sub": str(user_id),
        "aud": "authenticated",
        "exp": now + ttl,
        "iat": now,
        "email": email,
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "otp", "timestamp": now}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }
    return {
        "access_token": pyjwt.encode(claims, secret, algorithm="HS256"),
        "token_type": "bearer",
        "expires_in": ttl,
        "expires_at": now + ttl,
        "refresh_token": secrets.token_urlsafe(12),
        "user": {
            "id": str(user_id),
            "aud": "authenticated",
            "role": "authenticated",
            "email": email,
            "email_confirmed_at": "2026-11-01T10:00:00Z",
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {},
            "identities": [],
            "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-01T10:00:00Z",
            "is_anonymous": False,
        },
    }


def error(code: str, message: str) -> dict[str, Any]:
    """GoTrue's error body (API 2024-01-01)."""
    return {"code": code, "message": message}


def _headers(anon: str) -> dict[str, str]:
    return {
        "apikey": anon,
        "Authorization": f"Bearer {anon}",
        "X-Supabase-Api-Version": API_VERSION,
        "Content-Type": "application/json;charset=UTF-8",
    }


def expect_code_sent(fake: StrictFake, anon: str, email: str) -> Expected:
    """POST /auth/v1/otp: an email code to an existing account (create_user false)."""
    return fake.expect(
        "POST",
        "/auth/v1/otp",
        headers=_headers(anon),
        json={
            "email": email,
            "data": None,
            "create_user": False,
            "gotrue_meta_security": NO_CAPTCHA,
        },
        response={},
    )


def expect_code_verified(
    fake: StrictFake, anon: str, email: str, code: str, answer: dict[str, Any], status: int = 200
) -> Expected:
    return fake.expect(
        "POST",
        "/auth/v1/verify",
        headers=_headers(anon),
        json={"gotrue_meta_security": NO_CAPTCHA, "email": email, "token": code, "type": "email"},
        status=status,
        response=answer,
    )


def expect_password(
    fake: StrictFake,
    anon: str,
    email: str,
    password: str,
    answer: dict[str, Any],
    status: int = 200,
) -> Expected:
    return fake.expect(
        "POST",
        "/auth/v1/token",
        query={"grant_type": "password"},
        headers=_headers(anon),
        json={"email": email, "password": password, "data": {}, "gotrue_meta_security": NO_CAPTCHA},
        status=status,
        response=answer,
    )


def expect_refresh(
    fake: StrictFake, anon: str, refresh_token: str, answer: dict[str, Any], status: int = 200
) -> Expected:
    return fake.expect(
        "POST",
        "/auth/v1/token",
        query={"grant_type": "refresh_token"},
        headers=_headers(anon),
        json={"refresh_token": refresh_token},
        status=status,
        response=answer,
    )
