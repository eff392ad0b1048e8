"""A strict fake OpenTelemetry collector (OTLP/HTTP, a real server in a thread): it accepts only
POST /v1/traces and POST /v1/metrics with Content-Type application/x-protobuf, decodes each with
opentelemetry-proto, and keeps what came; anything else is answered 400 and recorded as a
failure (`verify()` raises on one)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

PROTOBUF = "application/x-protobuf"


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP key-values as a dict."""
    return {kv.key: value_of(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


class OtlpCollector:
    def __init__(self, port: int = 0) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 20

            def _refuse(self, why: str) -> None:
                with fake._lock:
                    fake.failures.append(why)
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if content_type != PROTOBUF:
                    return self._refuse(f"{self.path}: content type {content_type!r}")
                try:
                    if self.path == "/v1/traces":
                        traces = ExportTraceServiceRequest.FromString(body)
                        answer = ExportTraceServiceResponse().SerializeToString()
                        with fake._lock:
                            fake.traces.append(traces)
                    elif self.path == "/v1/metrics":
                        metrics = ExportMetricsServiceRequest.FromString(body)
                        answer = ExportMetricsServiceResponse().SerializeToString()
                        with fake._lock:
                            fake.metrics.append(metrics)
                    else:
                        return self._refuse(f"POST {self.path}: not an OTLP path")
                except Exception as e:  # protobuf's DecodeError (its module has no types)
                    return self._refuse(f"{self.path}: not OTLP protobuf ({e!r})")
                self.send_response(200)
                self.send_header("Content-Type", PROTOBUF)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_GET(self) -> None:
                self._refuse(f"GET {self.path}")

            do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """Every span received, with its resource's attributes."""
        with self._lock:
            return [
                (attributes(rs.resource.attributes), span)
                for request in self.traces
                for rs in request.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def metric_names(self) -> set[str]:
        with self._lock:
            return {
                m.name
                for request in self.metrics
                for rm in request.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            }

    def reset(self) -> None:
        with self._lock:
            self.traces.clear()
            self.metrics.clear()
            self.failures.clear()

    def verify(self) -> None:
        assert not self.failures, f"the OTLP collector refused: {self.failures}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
