"""POST /webhooks/google: a Google Calendar push notification (a watch channel's message: headers,
empty body). One RPC, google_push as the service role, checks the channel id and its token (as
sha256), that the channel is not stopped and the resource id, and makes the mentor's sync due now
(the worker is woken by NOTIFY). `sync` (the channel's first message) is acknowledged only.

Its refusals (404 unknown channel, 403 wrong token or resource, 410 stopped, 422 state) pass
through as PostgREST answered them; nothing the caller sent is logged or put in a header.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import Headers

from sync.errors import ApiError
from sync.rest import Rest

log = logging.getLogger(__name__)

CHANNEL_ID = "X-Goog-Channel-ID"
TOKEN = "X-Goog-Channel-Token"
RESOURCE_ID = "X-Goog-Resource-ID"
RESOURCE_STATE = "X-Goog-Resource-State"
MESSAGE_NUMBER = "X-Goog-Message-Number"
HINT = "Google sends X-Goog-Channel-ID and X-Goog-Resource-State with every notification."


async def handle(rest: Rest, headers: Headers) -> dict[str, Any]:
    for required in (CHANNEL_ID, RESOURCE_STATE):
        if not headers.get(required):
            raise ApiError.message(400, f"{required} is missing", details=required, hint=HINT)
    args = {
        "channel_id": headers[CHANNEL_ID],
        "token": headers.get(TOKEN),
        "resource_id": headers.get(RESOURCE_ID),
        "resource_state": headers[RESOURCE_STATE],
        "message_number": headers.get(MESSAGE_NUMBER),
    }
    try:
        rows = await rest.rpc("google_push", args, service=True)
    except ApiError as e:
        log.warning("google push refused", extra={"status": e.status})
        raise
    (row,) = rows
    return {"sync_due": row["sync_due"]}
