"""A strict fake OpenTelemetry collector (OTLP/HTTP, a real server in a thread): it accepts only
POST /v1/traces and POST /v1/metrics with Content-Type application/x-protobuf, decodes each with
opentelemetry-proto, and keeps what came; anything else is answered 400 and recorded as a
failure (`verify()` raises on one). On the stateful fakes' server (testing/fakes/server.py)."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from testing.fakes.http import Request
from testing.fakes.server import Answer, FakeServer

PROTOBUF = "application/x-protobuf"


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP key-values as a dict."""
    return {kv.key: value_of(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


class OtlpCollector(FakeServer):
    def __init__(self, port: int = 0) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        super().__init__("OTLP collector", port)

    def handle(self, request: Request) -> Answer:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if request.method != "POST" or request.path not in ("/v1/traces", "/v1/metrics"):
            return self.fail(f"{request.method} {request.path}: not an OTLP path")
        if content_type != PROTOBUF:
            return self.fail(f"{request.path}: content type {content_type!r}")
        try:
            if request.path == "/v1/traces":
                traces = ExportTraceServiceRequest.FromString(request.body)
                with self.lock:
                    self.traces.append(traces)
                answer = ExportTraceServiceResponse().SerializeToString()
            else:
                metrics = ExportMetricsServiceRequest.FromString(request.body)
                with self.lock:
                    self.metrics.append(metrics)
                answer = ExportMetricsServiceResponse().SerializeToString()
        except Exception as e:  # protobuf's DecodeError (its module has no types)
            return self.fail(f"{request.path}: not OTLP protobuf ({e!r})")
        return Answer(200, answer, {"Content-Type": PROTOBUF})

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """Every span received, with its resource's attributes."""
        with self.lock:
            return [
                (attributes(rs.resource.attributes), span)
                for request in self.traces
                for rs in request.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def metric_names(self) -> set[str]:
        with self.lock:
            return {
                m.name
                for request in self.metrics
                for rm in request.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            }

    def reset(self) -> None:
        self.end_outage()
        with self.lock:
            self.traces.clear()
            self.metrics.clear()
            self.failures.clear()
            self.errors.clear()
