"""OpenTelemetry, off unless a collector is set (MENTORSHIPS_OTLP_ENDPOINT or the standard
OTEL_EXPORTER_OTLP_ENDPOINT): the SDK with its OTLP/HTTP exporters (protobuf) to <base>/v1/traces
and <base>/v1/metrics, service name "mentorships-services". A span per request (sync.observability
.requests) with its request id, route, status; the request counter and duration histogram. With
no endpoint nothing here is built, so nothing is exported or tried.

Axiom, Better Stack, Grafana Cloud and others ingest OTLP/HTTP; their key goes in the standard
OTEL_EXPORTER_OTLP_HEADERS (e.g. `Authorization=Bearer%20<token>`), which the exporters read."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer

SERVICE_NAME = "mentorships-services"
SCOPE = "sync.observability"
# How often the request metrics are sent (the SDK's default).
METRICS_INTERVAL_MS = 60_000


class Tracing:
    """The providers of one app (never the process-global ones: a test process runs many apps);
    shutdown() sends what is pending."""

    def __init__(self, endpoint: str, *, metrics_interval_ms: int = METRICS_INTERVAL_MS) -> None:
        resource = Resource.create({"service.name": SERVICE_NAME})
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))
        )
        self.tracer: Tracer = self.tracer_provider.get_tracer(SCOPE)
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics"),
            export_interval_millis=metrics_interval_ms,
        )
        self.meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        meter = self.meter_provider.get_meter(SCOPE)
        self.requests = meter.create_counter(
            "http.server.requests", unit="{request}", description="Requests answered."
        )
        self.duration = meter.create_histogram(
            "http.server.request.duration", unit="s", description="Time to answer a request."
        )

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "http.route": route,
            "http.response.status_code": status,
        }
        self.requests.add(1, attributes)
        self.duration.record(seconds, attributes)

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def start(endpoint: str | None) -> Tracing | None:
    """The app's tracing when an endpoint is set, None (nothing at all) otherwise."""
    return Tracing(endpoint) if endpoint else None
