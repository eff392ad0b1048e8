"""Agora RTC tokens read back offline, as Agora's servers read them: agora_token_builder's own
AccessToken parses one (version 006, the app id, then the signed content), and a token verifies
when the same builder, given the certificate, the channel, the uid and the token's own salt,
timestamp and privileges, signs it to the very same string."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from zlib import crc32

from agora_token_builder.AccessToken import (
    APP_ID_LENGTH,
    VERSION_LENGTH,
    AccessToken,
    kJoinChannel,
    kPublishAudioStream,
    kPublishDataStream,
    kPublishVideoStream,
    unPackContent,
)

# What a publisher (RtcTokenBuilder's Role_Publisher) may do.
PUBLISHER = {
    "join_channel": kJoinChannel,
    "publish_audio": kPublishAudioStream,
    "publish_video": kPublishVideoStream,
    "publish_data": kPublishDataStream,
}


@dataclass(frozen=True)
class RtcToken:
    version: str
    app_id: str
    salt: int
    ts: int
    # privilege (AccessToken's k* numbers) -> the epoch second it expires at
    privileges: dict[int, int]
    channel_crc: int
    uid_crc: int

    def names(self, channel: str, uid: int) -> bool:
        """Whether the token's checksums are those of this channel and uid."""
        return self.channel_crc == _crc(channel) and self.uid_crc == _crc(str(uid))


def _crc(text: str) -> int:
    return crc32(text.encode()) & 0xFFFFFFFF


def read(token: str) -> RtcToken:
    """The token's fields; ValueError when it is not an RTC token of version 006."""
    parsed = AccessToken()
    if not parsed.fromString(token):
        raise ValueError("not an Agora access token of version 006")
    content = base64.b64decode(token[VERSION_LENGTH + APP_ID_LENGTH :])
    _signature, channel_crc, uid_crc, _messages = unPackContent(content)
    return RtcToken(
        version=token[:VERSION_LENGTH],
        app_id=token[VERSION_LENGTH : VERSION_LENGTH + APP_ID_LENGTH],
        salt=parsed.salt,
        ts=parsed.ts,
        privileges=dict(parsed.messages),
        channel_crc=channel_crc,
        uid_crc=uid_crc,
    )


def verifies(token: str, *, certificate: str, channel: str, uid: int) -> bool:
    """Whether `token` was signed with `certificate` for this channel and uid."""
    fields = read(token)
    again = AccessToken(fields.app_id, certificate, channel, uid)
    again.salt, again.ts = fields.salt, fields.ts
    for privilege, expires in fields.privileges.items():
        again.addPrivilege(privilege, expires)
    rebuilt: str = again.build()
    return rebuilt == token
