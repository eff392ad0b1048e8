"""POST /video/token: who may join a call is the database's rule (public.video_session_access,
called as the user); the services only mint the Agora token it allows.

    answer = await video.token(settings, rest, token, body)
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any, ClassVar

from pydantic import Field

from sync.agora import tokens
from sync.bodies import UUID_FORM, JsonBody
from sync.orders import token_subject
from sync.rest import Rest
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)


class VideoTokenRequest(JsonBody):
    """POST /video/token."""

    session_id: uuid.UUID = Field(description="The session whose call to join.")

    forms: ClassVar[dict[str, str]] = {"session_id": UUID_FORM}
    example: ClassVar[str] = '{"session_id": "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b"}'


async def token(
    settings: ServiceSettings, rest: Rest, bearer: str, body: VideoTokenRequest
) -> dict[str, Any]:
    """video_session_access as the caller (its 403/404/409/422 reach the caller unchanged), then
    an Agora token for the channel it names, expiring when the access window closes."""
    access: dict[str, Any] = await rest.rpc(
        "video_session_access", {"session_id": str(body.session_id)}, token=bearer
    )
    user_id = token_subject(bearer)
    expires_at = dt.datetime.fromisoformat(access["expires_at"])
    uid = tokens.uid_for(user_id)
    minted = tokens.mint(settings, channel=access["channel"], uid=uid, expires_at=expires_at)
    log.info(
        "video token minted",
        extra={"session_id": str(body.session_id), "role": access["role"], "uid": uid},
    )
    return {
        "app_id": settings.agora_app_id,
        "channel": access["channel"],
        "uid": uid,
        "token": minted,
        "expires_at": access["expires_at"],
    }
