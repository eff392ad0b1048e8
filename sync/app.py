"""The services' ASGI app: health, checkout and webhooks for each enabled payment provider, video
call tokens and the call page, linking a Discord account (OAuth2), connecting a mentor's Google
Calendar (OAuth2, sync/gcal/), the emails' unsubscribe links, and operations (sync/observability/:
request ids and access lines, GET /metrics, OpenTelemetry when set, POST /errors).

app = create_app(settings)   # refuses (ConfigError) when a required setting is missing

Every answer that is not a success has PostgREST's error shape (sync.errors, sync.handlers).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import stripe
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from sync import bodies, call_page, gcal, handlers, orders, preferences, rest, startup, video
from sync.discord import oauth as discord_oauth
from sync.errors import ApiError, ErrorBody
from sync.gcal import connect as gcal_connect
from sync.gcal import webhook as gcal_webhook
from sync.observability import client_errors, scrape, tracing
from sync.observability.metrics import Metrics
from sync.observability.requests import RequestContext
from sync.paypal import webhook as paypal_webhook
from sync.paypal.checkout import PayPalCheckout
from sync.paypal.client import PayPal
from sync.placeholders import placeholder_providers
from sync.rest import Rest
from sync.settings import API_KEYS, Provider, ServiceSettings, env_name
from sync.stripe import checkout as stripe_checkout
from sync.stripe import webhook as stripe_webhook

log = logging.getLogger(__name__)


@dataclass
class State:
    settings: ServiceSettings
    rest: Rest
    stripe: stripe_checkout.StripeCheckout | None = None
    paypal: PayPalCheckout | None = None
    paypal_verifier: paypal_webhook.PayPalVerifier | None = None
    discord: discord_oauth.DiscordLink | None = None
    google: gcal_connect.GoogleConnect | None = None


def state(request: Request) -> State:
    value: State = request.app.state.services
    return value


def metrics(request: Request) -> Metrics:
    value: Metrics = request.app.state.metrics
    return value


def refuse_checkout_on_placeholder_keys(settings: ServiceSettings, provider: Provider) -> None:
    """A checkout needs the provider's API; with placeholder keys it cannot succeed, so it is
    refused before an order holds a seat for nothing."""
    if provider in placeholder_providers(settings):
        variable = " and ".join(env_name(field) for field in API_KEYS[provider])
        raise ApiError.message(
            503,
            f"{provider} checkout is not available: this stack runs on local placeholder API keys;"
            f" set {variable} to the provider's test keys",
            details=variable,
            hint=f"Set {variable} to the provider's test keys and start the services again.",
        )


def create_app(settings: ServiceSettings) -> FastAPI:
    settings.check()
    providers = settings.payment_providers
    calls = call_page.CallAssets.load(settings)
    traces = tracing.start(settings.otlp_endpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        startup.warn_about_local_keys(settings)
        startup.warn_about_a_missing_call_sdk(calls)
        async with rest.session() as db_http, httpx.AsyncClient(timeout=30) as http:
            services = State(settings, Rest(settings, db_http))
            stripe_http = None
            if "stripe" in providers:
                stripe_http = stripe.HTTPXClient(timeout=30)
                services.stripe = stripe_checkout.StripeCheckout(
                    settings, services.rest, stripe_checkout.client(settings, stripe_http)
                )
            if "paypal" in providers:
                services.paypal = PayPalCheckout(settings, services.rest, PayPal(settings, http))
                services.paypal_verifier = paypal_webhook.PayPalVerifier(settings, http)
            services.discord = discord_oauth.DiscordLink(settings, services.rest, http)
            services.google = gcal_connect.GoogleConnect(settings, services.rest, http)
            app.state.services = services
            log.info(
                "services ready",
                extra={"providers": list(providers), "rest_url": settings.rest_url},
            )
            try:
                yield
            finally:
                if stripe_http is not None:
                    await stripe_http.close_async()  # type: ignore[no-untyped-call]
                if traces is not None:
                    traces.shutdown()  # sends the spans and metrics still pending

    app = FastAPI(
        title="Mentorships services",
        description=(
            "Checkout, payment webhooks, video call tokens, Discord linking, Google Calendar "
            "connection and unsubscribe links for the Mentorships platform."
        ),
        lifespan=lifespan,
        # A redirect to the path with(out) its slash would put the caller's Host and path into a
        # Location header; a 404 says where the endpoints are instead.
        redirect_slashes=False,
    )
    handlers.install(app)
    # Outermost: the request id is set before anything logs, and every answer (a 413 or 500 of
    # handlers.Guard too) is counted and carries it.
    app.state.metrics = Metrics()
    app.add_middleware(RequestContext, metrics=app.state.metrics, tracing=traces)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ping")
    async def ping() -> Response:
        """No database: what the webhook benchmark compares against."""
        return Response(b'{"pong":true}', media_type="application/json")

    if "stripe" in providers:
        app.include_router(_stripe_routes())
    if "paypal" in providers:
        app.include_router(_paypal_routes())
    app.include_router(_video_routes())
    app.include_router(call_page.routes(calls))
    app.include_router(_discord_routes())
    app.include_router(_google_routes())
    app.include_router(preferences.routes())
    app.include_router(scrape.routes())
    app.include_router(client_errors.routes())
    return app


# Every route documents the error shape (sync.errors) for the answers that are not successes.
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: code SV<status>, or PostgREST's own"},
    "5XX": {"model": ErrorBody, "description": "Failed: SV500, SV502, SV503"},
}


def _json_route(model: type[bodies.JsonBody]) -> dict[str, Any]:
    return {"openapi_extra": bodies.openapi(model), "responses": ERRORS}


def _stripe_routes() -> APIRouter:
    router = APIRouter(tags=["stripe"])

    @router.post("/checkout/stripe", **_json_route(orders.CheckoutRequest))
    async def checkout(request: Request) -> dict[str, Any]:
        s = state(request)
        assert s.stripe is not None
        token = orders.bearer_token(request)
        body = await bodies.read(request, orders.CheckoutRequest)
        refuse_checkout_on_placeholder_keys(s.settings, "stripe")
        return await s.stripe.start(token, body)

    @router.post("/webhooks/stripe", responses=ERRORS)
    async def webhook(request: Request) -> Response:
        s = state(request)
        response = await stripe_webhook.handle(
            s.settings, s.rest, await request.body(), request.headers.get("stripe-signature")
        )
        metrics(request).webhook("stripe", response)
        return response

    return router


def _paypal_routes() -> APIRouter:
    router = APIRouter(tags=["paypal"])

    @router.post("/checkout/paypal", **_json_route(orders.CheckoutRequest))
    async def checkout(request: Request) -> dict[str, Any]:
        s = state(request)
        assert s.paypal is not None
        token = orders.bearer_token(request)
        body = await bodies.read(request, orders.CheckoutRequest)
        refuse_checkout_on_placeholder_keys(s.settings, "paypal")
        return await s.paypal.start(token, body)

    @router.post("/checkout/paypal/capture", **_json_route(orders.CaptureRequest))
    async def capture(request: Request) -> dict[str, Any]:
        s = state(request)
        assert s.paypal is not None
        token = orders.bearer_token(request)
        body = await bodies.read(request, orders.CaptureRequest)
        return await s.paypal.capture(token, body)

    @router.post("/webhooks/paypal", responses=ERRORS)
    async def webhook(request: Request) -> Response:
        s = state(request)
        assert s.paypal_verifier is not None
        response = await paypal_webhook.handle(
            s.paypal_verifier, s.rest, await request.body(), request.headers
        )
        metrics(request).webhook("paypal", response)
        return response

    return router


def _video_routes() -> APIRouter:
    router = APIRouter(tags=["video"])

    @router.post("/video/token", **_json_route(video.VideoTokenRequest))
    async def token(request: Request) -> dict[str, Any]:
        s = state(request)
        bearer = orders.bearer_token(request)
        body = await bodies.read(request, video.VideoTokenRequest)
        return await video.token(s.settings, s.rest, bearer, body)

    return router


def _discord_routes() -> APIRouter:
    router = APIRouter(tags=["discord"])

    @router.get("/oauth/discord/start", responses=ERRORS)
    async def start(request: Request) -> dict[str, Any]:
        """Discord's authorize URL for the signed-in caller (`Authorization: Bearer <JWT>`):
        answers `{url, expires_at}`; send the person's browser to `url`."""
        s = state(request)
        assert s.discord is not None
        return await s.discord.start(orders.bearer_token(request))

    @router.get(discord_oauth.CALLBACK_PATH, responses=ERRORS)
    async def callback(request: Request) -> dict[str, Any]:
        """Where Discord sends the person back (`?code=...&state=...`): links the account
        Discord names to the person who started; answers `{user_id, discord_user_id,
        discord_username}`."""
        s = state(request)
        assert s.discord is not None
        q = request.query_params
        return await s.discord.finish(q.get("code"), q.get("state"), q.get("error"))

    return router


def _google_routes() -> APIRouter:
    router = APIRouter(tags=["google"])

    def google(request: Request) -> gcal_connect.GoogleConnect:
        s = state(request)
        assert s.google is not None
        return s.google

    @router.get("/oauth/google/start", responses=ERRORS)
    async def start(request: Request) -> dict[str, Any]:
        """Google's consent URL for the signed-in mentor (`Authorization: Bearer <JWT>`):
        answers `{url, expires_at}`; send the mentor's browser to `url`."""
        return await google(request).start(orders.bearer_token(request))

    @router.get(gcal.CALLBACK_PATH, responses=ERRORS)
    async def callback(request: Request) -> dict[str, Any]:
        """Where Google sends the mentor back (`?code=...&state=...`): stores the sealed grant
        and the mentor's calendars; answers `{mentor_id, scopes, calendars}`."""
        q = request.query_params
        return await google(request).finish(q.get("code"), q.get("state"), q.get("error"))

    @router.post("/oauth/google/disconnect", responses=ERRORS)
    async def disconnect(request: Request) -> dict[str, Any]:
        """Disconnects the signed-in mentor's Google Calendar and revokes the grant at Google:
        answers `{disconnected, revoked_at_google}`."""
        return await google(request).disconnect(orders.bearer_token(request))

    @router.post("/webhooks/google", responses=ERRORS)
    async def push(request: Request) -> dict[str, Any]:
        """A Google Calendar push notification (X-Goog-* headers, empty body): the channel and
        its token checked, the mentor's sync due now; answers `{sync_due}`."""
        try:
            answer = await gcal_webhook.handle(state(request).rest, request.headers)
        except ApiError as e:
            metrics(request).google_push(e.status)
            raise
        metrics(request).google_push(200)
        return answer

    return router
