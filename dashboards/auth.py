"""Who is signed in, and how they got there.

Hosted: Supabase Auth through supabase-py's auth client (an email one-time code, or a password);
the session is refreshed with its refresh token before it expires. Local stack (Supabase Auth
does not run there): the settings carry the stack's JWT secret, the sign-in page lists the
accounts and the app mints the chosen person's token, with the claims Supabase Auth would put in.

The person's role, name and time zone come from their own profile row, read with their token."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import jwt as pyjwt
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthError

from dashboards.api import Api, ApiError
from dashboards.settings import DashboardSettings

LOCAL_TOKEN_SECONDS = 3600
LISTING_TOKEN_SECONDS = 60


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str
    access_token: str
    expires_at: int  # unix seconds
    refresh_token: str | None  # hosted only
    local: bool
    role: str = "student"
    name: str = ""
    zone: str = "UTC"

    def api(self, settings: DashboardSettings) -> Api:
        return Api(settings, self.access_token)


@dataclass(frozen=True)
class Account:
    """A local stack's account, as the local sign-in lists it."""

    id: str
    email: str
    name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.name or self.email} <{self.email}> ({self.role})"


def _auth(settings: DashboardSettings) -> SyncGoTrueClient:
    anon = settings.supabase_anon_key.get_secret_value()
    return SyncGoTrueClient(
        url=settings.auth_url,
        headers={"apikey": anon, "Authorization": f"Bearer {anon}"},
        auto_refresh_token=False,
        persist_session=False,
    )


class SignInError(Exception):
    """Sign-in refused; the message says why, for the person."""


def _from_session(session: Any) -> SignedIn:
    if session is None:
        raise SignInError("Supabase Auth answered without a session; try again")
    return SignedIn(
        user_id=str(session.user.id),
        email=str(session.user.email or ""),
        access_token=session.access_token,
        expires_at=int(session.expires_at or time.time() + int(session.expires_in)),
        refresh_token=session.refresh_token,
        local=False,
    )


def send_code(settings: DashboardSettings, email: str) -> None:
    """Email a one-time code to an existing account (no account is created here)."""
    try:
        _auth(settings).sign_in_with_otp({"email": email, "options": {"should_create_user": False}})
    except AuthError as e:
        raise SignInError(f"email: {e.message}") from None


def verify_code(settings: DashboardSettings, email: str, code: str) -> SignedIn:
    try:
        answer = _auth(settings).verify_otp({"email": email, "token": code, "type": "email"})
    except AuthError as e:
        raise SignInError(f"code: {e.message}") from None
    return with_profile(settings, _from_session(answer.session))


def with_password(settings: DashboardSettings, email: str, password: str) -> SignedIn:
    try:
        answer = _auth(settings).sign_in_with_password({"email": email, "password": password})
    except AuthError as e:
        raise SignInError(f"password: {e.message}") from None
    return with_profile(settings, _from_session(answer.session))


def _mint(settings: DashboardSettings, claims: dict[str, Any], ttl: int) -> tuple[str, int]:
    if settings.dashboards_jwt_secret is None:
        raise SignInError("local sign-in is off (this app is not on a local stack)")
    now = int(time.time())
    exp = now + ttl
    token = pyjwt.encode(
        {**claims, "iat": now, "exp": exp},
        settings.dashboards_jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    return token, exp


def _user_claims(settings: DashboardSettings, user_id: str, email: str) -> dict[str, Any]:
    """What Supabase Auth puts in an access token."""
    return {
        "iss": settings.auth_url,
        "sub": user_id,
        "aud": "authenticated",
        "email": email,
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": int(time.time())}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }


ACCOUNTS_LISTED = 50


def local_accounts(settings: DashboardSettings, role: str, search: str = "") -> list[Account]:
    """Up to ACCOUNTS_LISTED of the local stack's accounts of a role, by email, matching `search`
    (in the email or the name) when given. Read with a token of a minute minted for the listing
    alone: the local stack's JWT secret can sign any role, which is why this exists only with
    local sign-in on."""
    token, _ = _mint(settings, {"role": "service_role", "iss": "mentorships-dashboards"}, 60)
    params = {
        "select": "id,email,display_name,role",
        "role": f"eq.{role}",
        "order": "email",
        "limit": str(ACCOUNTS_LISTED),
    }
    words = "".join(ch for ch in search if ch.isalnum() or ch in "@._- ").strip()
    if words:
        params["or"] = f'(email.ilike."*{words}*",display_name.ilike."*{words}*")'
    rows = Api(settings, token).rows("profiles", params)
    return [
        Account(str(r["id"]), str(r["email"] or ""), str(r["display_name"] or ""), str(r["role"]))
        for r in rows
    ]


def local_sign_in(settings: DashboardSettings, account: Account) -> SignedIn:
    token, exp = _mint(
        settings, _user_claims(settings, account.id, account.email), LOCAL_TOKEN_SECONDS
    )
    signed = SignedIn(account.id, account.email, token, exp, None, local=True)
    return with_profile(settings, signed)


def with_profile(settings: DashboardSettings, signed: SignedIn) -> SignedIn:
    """The person's role, name and zone from their own profile."""
    rows = signed.api(settings).rows(
        "profiles",
        {"select": "role,display_name,time_zone", "id": f"eq.{signed.user_id}"},
    )
    if not rows:
        raise SignInError("this account has no profile yet; ask an admin")
    p = rows[0]
    return replace(
        signed, role=str(p["role"]), name=str(p["display_name"] or ""), zone=str(p["time_zone"])
    )


def fresh(settings: DashboardSettings, signed: SignedIn) -> SignedIn:
    """The session, refreshed when its token is about to expire (None-safe for the caller: a
    refresh Supabase refuses raises SignInError, and the person signs in again)."""
    if signed.expires_at - time.time() > settings.dashboards_refresh_margin_seconds:
        return signed
    if signed.local:
        token, exp = _mint(
            settings, _user_claims(settings, signed.user_id, signed.email), LOCAL_TOKEN_SECONDS
        )
        return replace(signed, access_token=token, expires_at=exp)
    try:
        answer = _auth(settings).refresh_session(signed.refresh_token)
    except AuthError as e:
        raise SignInError(f"your session ended ({e.message}); sign in again") from None
    new = _from_session(answer.session)
    return replace(
        signed,
        access_token=new.access_token,
        expires_at=new.expires_at,
        refresh_token=new.refresh_token,
    )


__all__ = ["Account", "ApiError", "SignInError", "SignedIn"]
