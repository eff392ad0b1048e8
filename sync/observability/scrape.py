"""GET /metrics: the Prometheus text format, this app's metrics (sync.observability.metrics)
followed by the health gauges read now (sync.observability.health). Not served through the
gateway; with MENTORSHIPS_METRICS_TOKEN set it asks for `Authorization: Bearer <token>`."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from sync.errors import ApiError, ErrorBody
from sync.observability import health

PATH = "/metrics"


def _check_token(request: Request) -> None:
    expected = request.app.state.services.settings.metrics_token
    if expected is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.get_secret_value().encode()
    ):
        raise ApiError.message(
            401,
            "GET /metrics needs Authorization: Bearer <the metrics token>",
            details="Authorization",
            hint="Send the token set in MENTORSHIPS_METRICS_TOKEN as a Bearer token.",
            headers={"WWW-Authenticate": "Bearer"},
        )


def routes() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get(
        PATH,
        responses={401: {"model": ErrorBody, "description": "SV401: the metrics token is set"}},
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests by route and status, webhook outcomes, the process's
        own, and the platform's health figures (public.ops_health) read now."""
        _check_token(request)
        own = request.app.state.metrics.text()
        figures = await health.text(request.app.state.services.rest)
        return Response(own + figures, media_type=CONTENT_TYPE_LATEST)

    return router
