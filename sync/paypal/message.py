"""The message PayPal signs for a webhook, which the verifier (sync.paypal.webhook) checks."""

from __future__ import annotations

import zlib


def paypal_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """What PayPal signs: <transmission id>|<transmission time>|<webhook id>|<CRC32 of the body,
    unsigned decimal>."""
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()
