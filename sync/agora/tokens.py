"""Agora RTC tokens for one participant of one call, minted offline with Agora's own builder
(agora_token_builder.RtcTokenBuilder): no call to Agora is made.

    token = mint(settings, channel="...", uid=uid_for(user_id), expires_at=access_expiry)

The uid is a uint32 derived from the user's id (uid_for): Agora's numeric uid is what every
Agora product takes (the Web SDK's join, cloud recording, the REST API's kicking rules), and a
stable one names the same person in every call without handing their user id to Agora. A call
has two participants, so two uids collide once in 2^32 calls.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from agora_token_builder.RtcTokenBuilder import Role_Publisher, RtcTokenBuilder

from sync.settings import ProviderSettings

# Agora's uids are uint32; 0 asks Agora to pick one, so it is never a participant's.
UID_MAX = 2**32 - 1


def uid_for(user_id: uuid.UUID) -> int:
    """The participant's Agora uid: 1..2^32-1, the same for a user in every call."""
    digest = hashlib.sha256(f"mentorships-agora-uid:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % UID_MAX + 1


def mint(settings: ProviderSettings, *, channel: str, uid: int, expires_at: dt.datetime) -> str:
    """A publisher's token (join, and publish audio, video and data) for `channel` as `uid`, every
    privilege expiring at `expires_at` (when the access window closes)."""
    assert settings.agora_app_id is not None  # checked at start
    assert settings.agora_app_certificate is not None
    token: str = RtcTokenBuilder.buildTokenWithUid(
        settings.agora_app_id,
        settings.agora_app_certificate.get_secret_value(),
        channel,
        uid,
        Role_Publisher,
        int(expires_at.timestamp()),
    )
    return token
