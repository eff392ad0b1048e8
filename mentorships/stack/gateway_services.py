"""The Python services (sync/) behind the gateway at /services/: the same rate limits, request
ids and access log as the REST API; their /metrics is not reachable from outside. And the local
PayPal certificate host the gateway plays for them."""

from __future__ import annotations

from mentorships.settings import Settings
from mentorships.stack.common import paths

SERVICES_PREFIX = "/services"
# What the services serve to their own scrapers only (answered 404 at the gateway).
PRIVATE_SERVICE_PATHS = ("/metrics",)


def services_upstream(s: Settings) -> str:
    return f"""
  upstream mentorships_services {{
    server {s.host}:{s.services_port};
    keepalive 16;
  }}
"""


def services_locations(s: Settings) -> str:
    """/services/<path> to the services' /<path> (nginx decodes and normalises the path first,
    so /services//metrics or /services/%6Detrics is /services/metrics too)."""
    timeout = s.gateway_upstream_timeout_seconds
    private = "".join(
        f"    location ^~ {SERVICES_PREFIX}{path} {{\n      return 404;\n    }}\n"
        for path in PRIVATE_SERVICE_PATHS
    )
    return f"""
    # The services (checkout, webhooks, OAuth callbacks, video tokens, client error reports).
{private}    location = {SERVICES_PREFIX} {{
      return 404;
    }}
    location {SERVICES_PREFIX}/ {{
      proxy_pass http://mentorships_services/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Request-Id $mentorships_request_id;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Prefix {SERVICES_PREFIX};
      # The gateway's request id is the one answered.
      proxy_hide_header X-Request-Id;
      proxy_read_timeout {timeout}s;
      proxy_send_timeout {timeout}s;
      # Redirects (OAuth) keep the services' own Location.
      proxy_redirect off;
    }}
"""


def paypal_cert_server(s: Settings) -> str:
    """The server block playing PayPal's certificate host: the local signer's certificate
    at LOCAL_PAYPAL_CERT_PATH, nothing else."""
    from mentorships.stack.services import (
        LOCAL_PAYPAL_CERT_PATH,
        Services,
    )

    services = Services(s)
    if services.local_paypal_signer() is None:
        return ""
    not_found = (
        '{"name":"RESOURCE_NOT_FOUND","message":"the local PayPal stand-in serves only '
        f'{LOCAL_PAYPAL_CERT_PATH}"}}'
    )
    return f"""
  # PayPal's certificate host, played locally: PayPal runs on placeholder keys here.
  server {{
    listen {s.host}:{s.paypal_local_port};
    server_name _;

    location = {LOCAL_PAYPAL_CERT_PATH} {{
      default_type application/x-pem-file;
      alias "{paths(s).paypal_cert}";
    }}
    location / {{
      return 404 '{not_found}';
    }}
  }}
"""
