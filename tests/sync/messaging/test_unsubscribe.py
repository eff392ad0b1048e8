"""sync/messaging/unsubscribe.py: the List-Unsubscribe headers (only for kinds that may be turned
off, and those are the database's list), and the signed token: round trip, tampering, a rotated
secret."""

from __future__ import annotations

import base64
import uuid

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.messaging.unsubscribe import (
    OPTIONAL_KINDS,
    BadToken,
    make_token,
    read_token,
    unsubscribe_headers,
    unsubscribe_url,
)

SECRET = b"unsubscribe-secret-of-the-tests-0123456789abcdef"
OLD = b"an-older-unsubscribe-secret-0123456789abcdef"
USER = "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b"
ALL_KINDS = [
    "pack_purchased",
    "session_booked",
    "session_rescheduled",
    "session_canceled",
    "session_reminder_24h",
    "session_reminder_1h",
    "renewal_reminder",
    "one_session_left",
    "grace_started",
    "grace_warning",
    "seat_released",
    "refund_processed",
    "payment_flagged",
    "delivery_failed",
]


def test_the_optional_kinds_are_the_databases(conn: psycopg.Connection) -> None:
    """Headers exactly for the kinds private.message_kind_optional allows, whatever kinds the
    database has."""
    rows = conn.execute(
        "select k::text, private.message_kind_optional(k)"
        " from unnest(enum_range(null::public.notification_kind)) k"
    ).fetchall()
    assert {kind for kind, optional in rows if optional} == OPTIONAL_KINDS
    for kind, optional in rows:
        headers = unsubscribe_headers(
            recipient_id=USER,
            kind=kind,
            channel="email",
            services_url="https://services.example",
            secret=SECRET,
        )
        assert bool(headers) == optional, kind


def test_headers_for_a_kind_that_may_be_turned_off() -> None:
    headers = unsubscribe_headers(
        recipient_id=USER,
        kind="session_reminder_24h",
        channel="email",
        services_url="https://services.example/",
        secret=SECRET,
    )
    assert set(headers) == {"List-Unsubscribe", "List-Unsubscribe-Post"}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = headers["List-Unsubscribe"]
    prefix = "<https://services.example/messages/unsubscribe?token="
    assert link.startswith(prefix) and link.endswith(">")
    token = link[len(prefix) : -1]
    assert read_token(token, [SECRET]) == (uuid.UUID(USER), "session_reminder_24h", "email")
    # one line, nothing to fold or encode: a URL-safe token
    assert all(c.isalnum() or c in "-_." for c in token)
    assert len(link) < 200


@pytest.mark.parametrize("kind", sorted(set(ALL_KINDS) - OPTIONAL_KINDS))
def test_no_headers_for_a_kind_that_may_not_be_turned_off(kind: str) -> None:
    assert (
        unsubscribe_headers(
            recipient_id=USER,
            kind=kind,
            channel="email",
            services_url="https://services.example",
            secret=SECRET,
        )
        == {}
    )
    assert (
        unsubscribe_url(
            recipient_id=USER,
            kind=kind,
            channel="discord",
            services_url="https://services.example",
            secret=SECRET,
        )
        is None
    )


def test_the_token_binds_user_kind_and_channel() -> None:
    tokens = {
        make_token(recipient_id=USER, kind=k, channel=c, secret=SECRET)
        for k in OPTIONAL_KINDS
        for c in ("email", "discord")
    }
    assert len(tokens) == 8
    other = make_token(
        recipient_id=str(uuid.uuid4()), kind="renewal_reminder", channel="email", secret=SECRET
    )
    assert other not in tokens
    # the same inputs sign the same token (no nonce, no expiry)
    again = make_token(recipient_id=USER, kind="renewal_reminder", channel="email", secret=SECRET)
    assert again in tokens


def _swap_payload(token: str, text: str) -> str:
    version, key_id, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    return f"{version}.{key_id}.{payload}.{signature}"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda t: _swap_payload(t, f"{uuid.uuid4()}:renewal_reminder:email"), "its signature"),
        (lambda t: _swap_payload(t, f"{USER}:session_booked:email"), "its signature"),
        (lambda t: _swap_payload(t, f"{USER}:renewal_reminder:discord"), "its signature"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "its signature"),
        (lambda t: "v2" + t[2:], "it is not an unsubscribe token"),
        (lambda t: t + ".", "it is not an unsubscribe token"),
        (lambda t: t.replace(".", "", 1), "it is not an unsubscribe token"),
        (lambda t: "", "it is missing"),
    ],
)
def test_a_tampered_token_is_refused(change: object, reason: str) -> None:
    token = make_token(recipient_id=USER, kind="renewal_reminder", channel="email", secret=SECRET)
    with pytest.raises(BadToken) as refused:
        read_token(change(token), [SECRET])  # type: ignore[operator]
    assert refused.value.reason.startswith(reason)


def test_a_token_of_another_secret_is_refused_and_a_rotated_one_still_verifies() -> None:
    old = make_token(recipient_id=USER, kind="one_session_left", channel="discord", secret=OLD)
    with pytest.raises(BadToken) as refused:
        read_token(old, [SECRET])
    assert refused.value.reason == "it was signed with a key these services no longer have"
    # after a rotation: the new secret signs, the previous one still verifies
    assert read_token(old, [SECRET, OLD]) == (uuid.UUID(USER), "one_session_left", "discord")
    new = make_token(recipient_id=USER, kind="one_session_left", channel="discord", secret=SECRET)
    assert new.split(".")[1] != old.split(".")[1]  # the key id names the secret
    assert read_token(new, [SECRET, OLD])[1] == "one_session_left"


@given(st.text(max_size=300))
def test_anything_else_is_a_bad_token_never_a_crash(text: str) -> None:
    with pytest.raises(BadToken):
        read_token(text, [SECRET])


def test_a_malformed_recipient_or_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        make_token(recipient_id="nobody", kind="renewal_reminder", channel="email", secret=SECRET)
    with pytest.raises(ValueError):
        make_token(recipient_id=USER, kind="renewal_reminder", channel="sms", secret=SECRET)
