"""The unsubscribe link of an email (sync/messaging/unsubscribe.py makes it):

- `POST /messages/unsubscribe?token=...`: what a mail client sends for one click (RFC 8058, body
  `List-Unsubscribe=One-Click`; the token alone decides, so the body is not read). Verifies the
  token, then public.unsubscribe as the service role, which applies the database's rule of which
  kinds may be turned off. Idempotent. Answers the preference as JSON (or a small HTML page to a
  browser, from the button below); refusals in the error shape (SV400 for a bad token, the RPC's
  own PT404/PT422 unchanged).
- `GET` on the same URL: a page with a button that POSTs. Mail scanners fetch links to check
  them, so a GET changes nothing; a bad token is a readable page (400), not JSON.

    router = routes()
"""

from __future__ import annotations

import html
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from sync.errors import ApiError, ErrorBody
from sync.messaging import unsubscribe
from sync.rest import Rest

log = logging.getLogger(__name__)

HINT = "Use the link exactly as it came in the email, or change your messages in your dashboard."
# What each kind that may be turned off is, in the page's words.
KIND_NAMES = {
    "session_reminder_24h": "reminders a day before a session",
    "session_reminder_1h": "reminders an hour before a session",
    "renewal_reminder": "reminders to renew your pack",
    "one_session_left": "notes that one session is left in your pack",
}
CHANNEL_NAMES = {"email": "by email", "discord": "on Discord"}
# The pages load nothing and post only back here.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
OTHER_METHODS = ["PUT", "PATCH", "DELETE", "OPTIONS"]
RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: SV400 a bad token, or the RPC's own"},
    "5XX": {"model": ErrorBody, "description": "Failed: SV500, SV502"},
}


def _what(kind: str, channel: str) -> str:
    return f"{KIND_NAMES.get(kind, kind)} {CHANNEL_NAMES.get(channel, channel)}"


def _page(status: int, title: str, body: str) -> HTMLResponse:
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(title)} · Mentorships</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}}
button{{font:inherit;padding:.5rem 1.25rem}}</style></head>
<body><h1>{html.escape(title)}</h1>
{body}
</body></html>
"""
    return HTMLResponse(text, status, headers=PAGE_HEADERS)


def confirm_page(token: str | None, secrets: list[bytes]) -> HTMLResponse:
    """GET: the question and a button that POSTs; nothing changes yet."""
    try:
        _, kind, channel = unsubscribe.read_token(token, secrets)
    except unsubscribe.BadToken as e:
        return _page(
            400,
            "This unsubscribe link does not work",
            f"<p>The link's token: {html.escape(e.reason)}.</p><p>{html.escape(HINT)}</p>",
        )
    assert token is not None
    what = html.escape(_what(kind, channel))
    action = html.escape(f"?token={token}")
    return _page(
        200,
        f"Stop {_what(kind, channel)}?",
        f"""<p>You will no longer get {what}. Messages about your purchases, bookings, changes and
refunds still reach you. You can turn it back on in your dashboard.</p>
<form method="post" action="{action}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>""",
    )


async def apply(
    rest: Rest, token: str | None, secrets: list[bytes], *, wants_html: bool
) -> Response | dict[str, Any]:
    """POST: public.unsubscribe for the person, kind and channel the token names."""
    try:
        user_id, kind, channel = unsubscribe.read_token(token, secrets)
    except unsubscribe.BadToken as e:
        raise ApiError.message(400, f"token: {e.reason}", details="token", hint=HINT) from e
    row: dict[str, Any] = await rest.rpc(
        "unsubscribe",
        {"user_id": str(user_id), "kind": kind, "channel": channel},
        service=True,
    )
    log.info("unsubscribed", extra={"user_id": str(user_id), "kind": kind, "channel": channel})
    if wants_html:
        return _page(
            200,
            "You are unsubscribed",
            f"<p>You will no longer get {html.escape(_what(kind, channel))}. You can turn it back "
            "on in your dashboard.</p>",
        )
    return {"user_id": row["user_id"], "kind": kind, "channel": channel, "enabled": False}


def routes() -> APIRouter:
    router = APIRouter(tags=["messages"])

    @router.get(unsubscribe.PATH, response_class=HTMLResponse, responses=RESPONSES)
    async def confirm(request: Request) -> Response:
        """The page an unsubscribe link opens: a button that POSTs here (a GET changes
        nothing)."""
        settings = request.app.state.services.settings
        return confirm_page(request.query_params.get("token"), settings.unsubscribe_secrets())

    @router.post(unsubscribe.PATH, responses=RESPONSES)
    async def one_click(request: Request) -> Any:
        """One-click unsubscribe (RFC 8058): turns the kind off on the channel the token names;
        answers `{user_id, kind, channel, enabled: false}`, again on a second click."""
        services = request.app.state.services
        return await apply(
            services.rest,
            request.query_params.get("token"),
            services.settings.unsubscribe_secrets(),
            wants_html="text/html" in request.headers.get("accept", ""),
        )

    # Starlette's 405 would name only the first route's method; this one names both.
    @router.api_route(unsubscribe.PATH, methods=OTHER_METHODS, include_in_schema=False)
    async def other(request: Request) -> None:
        raise HTTPException(405, headers={"Allow": "GET, POST"})

    return router
