"""The services' observability: request ids and access lines (requests), Prometheus metrics
(metrics, health, scrape: GET /metrics), OpenTelemetry (tracing), client and server error reports
(client_errors: POST /errors), and the workers' errors as reports too (worker_errors)."""
