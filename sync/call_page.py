"""The video call page: GET /video/{session_id} (HTML) and the files it loads from
GET /video/assets/{name}: its own script and style (sync/call/) and Agora's Web SDK (the npm
package agora-rtc-sdk-ng, installed by scripts/setup.sh, never fetched from a CDN).

    assets = CallAssets.load(settings)       # never fails: a missing SDK is assets.sdk_problem()
    app.include_router(call_page.routes(assets))

The page holds no secret and no user data: the browser brings the user's JWT in the URL fragment
(never sent here), asks POST /video/token with it and joins (sync/call/call.js). A strict
Content-Security-Policy goes with it (no inline script or style element anywhere)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import Response

from sync.errors import ApiError, quoted
from sync.settings import ServiceSettings

log = logging.getLogger(__name__)

CALL_DIR = Path(__file__).parent / "call"
DEFAULT_SDK_DIR = CALL_DIR / "node_modules" / "agora-rtc-sdk-ng"
SDK_FILE = "AgoraRTC_N-production.js"
ASSETS = "/video/assets"
# The page's own files, served next to the SDK.
OWN_FILES = {"call.js": "text/javascript; charset=utf-8", "call.css": "text/css; charset=utf-8"}
INSTALL_HINT = (
    "Run `make setup` (or `npm ci` in sync/call) where the services run, or set "
    "MENTORSHIPS_CALL_SDK_DIR to the folder of the npm package agora-rtc-sdk-ng."
)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Agora's Web SDK reaches these (docs.agora.io/en/introduction/firewall: "RTC SDK (Web)"), on
# 443 and on its own ports (4700-5000, 5668, ...): any port of those domains.
AGORA_DOMAINS = ("agora.io", "sd-rtn.com", "rtnsvc.com", "rtesvc.com")
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # Style attributes only (never a <style> element): the SDK sizes a hidden 1-pixel probe
        # video (and its screen-share picker) with setAttribute("style", ...).
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        # The SDK runs a small worker from a blob: URL (its encoded-frame transform).
        "worker-src 'self' blob:",
        "connect-src 'self' "
        + " ".join(f"{scheme}://*.{d}:*" for d in AGORA_DOMAINS for scheme in ("https", "wss")),
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(), geolocation=()",
}
# Asset URLs carry their content's version (?v=), so a year's cache never serves a stale file.
ASSET_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    version: str

    @classmethod
    def of(cls, body: bytes, media_type: str, version: str | None = None) -> Asset:
        digest = hashlib.sha256(body).hexdigest()[:16]
        return cls(body, gzip.compress(body, 6, mtime=0), media_type, version or digest)

    def response(self, request: Request) -> Response:
        headers = {
            "Cache-Control": ASSET_CACHE,
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        body = self.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body, headers["Content-Encoding"] = self.gzipped, "gzip"
        return Response(body, headers=headers, media_type=self.media_type)


class CallAssets:
    """The page's files, read once; Agora's SDK from its folder, read when first there (so a
    `make setup` after the services started needs no restart)."""

    def __init__(self, sdk_dir: Path, own: dict[str, Asset]) -> None:
        self.sdk_dir = sdk_dir
        self.own = own
        self._sdk: Asset | None = None
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(CALL_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    @classmethod
    def load(cls, settings: ServiceSettings) -> CallAssets:
        own = {
            name: Asset.of((CALL_DIR / name).read_bytes(), media_type)
            for name, media_type in OWN_FILES.items()
        }
        return cls(settings.call_sdk_dir or DEFAULT_SDK_DIR, own)

    def sdk(self) -> Asset | None:
        """Agora's SDK, or None when it is not installed."""
        if self._sdk is None:
            try:
                body = (self.sdk_dir / SDK_FILE).read_bytes()
                package = json.loads((self.sdk_dir / "package.json").read_bytes())
            except (OSError, ValueError):
                return None
            version = package.get("version") if isinstance(package, dict) else None
            self._sdk = Asset.of(body, OWN_FILES["call.js"], str(version) if version else None)
        return self._sdk

    def sdk_problem(self) -> str | None:
        """What is wrong when the SDK is missing (for the log and the SDK URL's 503)."""
        if self.sdk() is not None:
            return None
        return f"the video call software (Agora's Web SDK) is not installed: no {self.sdk_dir / SDK_FILE}"

    def asset(self, name: str) -> Asset | None:
        return self.sdk() if name == SDK_FILE else self.own.get(name)

    def url(self, name: str) -> str:
        asset = self.asset(name)
        return f"{ASSETS}/{name}" + (f"?v={asset.version}" if asset else "")

    def page(self, session_id: str) -> Response:
        """The call page for a session id already checked to be a UUID; 503 (the same page,
        saying so, without the call's script) when the SDK is missing."""
        missing = self.sdk_problem()
        html = self.templates.get_template("call.html").render(
            session_id=session_id,
            style_url=self.url("call.css"),
            sdk_url=self.url(SDK_FILE),
            script_url=self.url("call.js"),
            missing=missing is not None,
        )
        return Response(
            html,
            503 if missing else 200,
            headers=PAGE_HEADERS,
            media_type="text/html; charset=utf-8",
        )


def session_id_of(text: str) -> str:
    """The session id of the page's path: a UUID in its canonical form, else a 404 (and the
    405 that GET /video/token was before this page existed)."""
    if text == "token":
        raise ApiError.message(
            405, '"/video/token" does not take GET', hint="Use POST.", headers={"Allow": "POST"}
        )
    if not _UUID.match(text):
        raise ApiError.message(
            404,
            f"there is no call page {quoted('/video/' + text)}: session ids are UUIDs",
            details="session_id",
            hint="Open the call from your dashboard or from the link in your session emails "
            "(/video/ and the session's id, such as /video/0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b).",
        )
    return text.lower()


def routes(assets: CallAssets) -> APIRouter:
    router = APIRouter(tags=["video"])

    @router.api_route(
        ASSETS + "/{name}", methods=["GET", "HEAD"], include_in_schema=False, response_model=None
    )
    async def asset(request: Request, name: str) -> Response:
        """The call page's files: call.js, call.css and Agora's SDK (nothing else is served)."""
        found = assets.asset(name)
        if found is not None:
            return found.response(request)
        if name == SDK_FILE:
            raise ApiError.message(503, assets.sdk_problem() or SDK_FILE, hint=INSTALL_HINT)
        served = ", ".join(sorted([*OWN_FILES, SDK_FILE]))
        raise ApiError.message(
            404,
            f"there is no call page file {quoted(name)}",
            details="name",
            hint=f"The call page's files are {served}.",
        )

    @router.get(
        "/video/{session_id}",
        response_class=Response,
        responses={200: {"content": {"text/html": {}}}},
    )
    async def page(session_id: str) -> Response:
        """The call page of a session (HTML). Open it as
        `/video/<session id>#access_token=<the user's JWT>`: the page keeps the token in the
        tab's sessionStorage, asks POST /video/token and joins the call."""
        return assets.page(session_id_of(session_id))

    return router
