"""OpenTelemetry: with an endpoint, a span per request (its request id, route, status) and the
request metrics reach a strict fake collector over OTLP/HTTP (protobuf); without one, nothing
is built and nothing is sent."""

from __future__ import annotations

import threading

import httpx
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from testing.fakes.otlp import OtlpCollector, attributes
from testing.observability import Serve


def exporting_threads() -> list[str]:
    """The SDK's exporting threads (its batch span processor, its periodic metric reader)."""
    return [t.name for t in threading.enumerate() if "otel" in t.name.lower()]


def test_a_span_per_request_with_its_request_id(serve: Serve, collector: OtlpCollector) -> None:
    rid = "otlp-span-check-01"
    with serve(otlp_endpoint=collector.url) as url:
        assert httpx.get(f"{url}/health", headers={"X-Request-Id": rid}).status_code == 200
        assert httpx.get(f"{url}/video/x", headers={"X-Request-Id": rid + "b"}).status_code
        assert exporting_threads()
    # The app's shutdown sent what was pending.
    collector.verify()
    spans = {
        attributes(span.attributes).get("request_id"): (resource, span)
        for resource, span in collector.spans()
    }
    resource, span = spans[rid]
    assert resource["service.name"] == "mentorships-services"
    assert span.name == "GET /health"
    assert span.kind == Span.SPAN_KIND_SERVER
    found = attributes(span.attributes)
    assert found["http.route"] == "/health"
    assert found["http.response.status_code"] == 200
    assert found["url.path"] == "/health"
    assert spans[rid + "b"][1].name == "GET /video/{session_id}"
    assert {"http.server.requests", "http.server.request.duration"} <= collector.metric_names()


def test_no_endpoint_nothing_is_sent(serve: Serve, collector: OtlpCollector) -> None:
    with serve() as url:
        assert httpx.get(f"{url}/health").status_code == 200
        assert exporting_threads() == []
    collector.verify()
    assert collector.traces == [] and collector.metrics == []
