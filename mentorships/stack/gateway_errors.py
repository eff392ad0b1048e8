"""The gateway's own answers: every status nginx produces, as JSON in PostgREST's error shape with
a standard status line (code GW<status>), and the internal server that holds them."""

from __future__ import annotations

import http
import json
from dataclasses import dataclass
from pathlib import Path

from mentorships.stack.gateway_limits import ROUTE_CLASSES, RateLimit

# What the gateway accepts from a client (nginx's client_max_body_size and
# large_client_header_buffers); its error messages name these sizes.
GATEWAY_MAX_BODY_MB = 10
GATEWAY_HEADER_BUFFERS = 4
GATEWAY_HEADER_BUFFER_KB = 8
# What it accepts from PostgREST: the response headers must fit in one proxy buffer.
GATEWAY_UPSTREAM_HEADER_KB = 16
# Where the gateway's own error answers are served (internal only, see error_server).
GATEWAY_ERROR_PREFIX = "/__gateway_error/"
# error_page: each status nginx produces -> the page answering it (error_pages). 494 is
# nginx's own code for request headers too large, answered 400. nginx never answers 408 itself:
# on a client timeout it closes the connection (mapped all the same).
ERROR_PAGE_FOR_STATUS = {
    400: "400",
    494: "400-headers",
    401: "401-$mentorships_apikey",
    403: "403",
    404: "404",
    405: "405",
    408: "408",
    413: "413",
    414: "414",
    429: "429-$mentorships_route_class",
    500: "500",
    501: "501",
    502: "502$mentorships_upstream_answered",
    503: "503",
    504: "504",
    505: "505",
}


@dataclass(frozen=True)
class GatewayError:
    """An answer the gateway makes itself, in PostgREST's error shape: `{"code", "message",
    "details", "hint"}` (all four keys, null where there is nothing), code `GW<status>`."""

    status: int
    message: str
    hint: str
    details: str | None = None
    # Headers of its own (Retry-After), a fixed text each.
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> str:
        return f"GW{self.status}"

    def body(self) -> str:
        return json.dumps(
            {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "hint": self.hint,
            },
            separators=(",", ":"),
        )

    def http_response(self) -> str:
        """The whole HTTP/1.1 response, status line with the standard reason phrase."""
        body = self.body()
        return (
            f"HTTP/1.1 {self.status} {http.HTTPStatus(self.status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in self.headers)
            + f"Content-Length: {len(body.encode())}\r\n"
            "Connection: close\r\n"
            "\r\n"
            f"{body}"
        )


def _nginx_string(text: str) -> str:
    """text as a single-quoted nginx string (nginx turns the \\r and \\n escapes back into bytes)."""
    if "$" in text:
        # nginx would read it as a variable, and has no escape for it.
        raise ValueError(f"a literal nginx string cannot contain '$': {text!r}")
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "'" + escaped.replace("\r", "\\r").replace("\n", "\\n") + "'"


def rate_limited_pages(
    limits: dict[str, RateLimit | None], address_factor: int
) -> dict[str, GatewayError]:
    """The 429 answer of each route class (gateway_limits): the class, its limits, and a
    Retry-After of the time one more request takes at the user's rate."""
    pages = {}
    for route_class in ROUTE_CLASSES:
        limit = limits.get(route_class.name)
        if limit is None:
            message = f"too many requests ({route_class.what}, class {route_class.name})"
            retry_after = 1
        else:
            per_address = limit.scaled(address_factor).describe()
            message = (
                f"too many {route_class.what}: the {route_class.name} rate limit allows "
                f"{limit.describe()} per user and {per_address} per client address"
            )
            retry_after = limit.retry_after
        pages[f"429-{route_class.name}"] = GatewayError(
            429,
            message,
            f"wait {retry_after} s (the Retry-After header), then retry with fewer requests "
            "per second; a script should retry with backoff",
            details=f"rate limit class: {route_class.name}",
            headers=(("Retry-After", str(retry_after)),),
        )
    return pages


def error_pages(
    upstream_timeout_seconds: int,
    limits: dict[str, RateLimit | None] | None = None,
    address_factor: int = 1,
) -> dict[str, GatewayError]:
    """The gateway's own answers by page name (the name is the status, or the status and
    why). error_page sends each nginx status to one of them: ERROR_PAGE_FOR_STATUS."""
    timeout = upstream_timeout_seconds
    status_hint = "try again shortly; if it persists run `mentorships status`"
    return {
        "400": GatewayError(
            400,
            "the gateway could not read this request: it is not well-formed HTTP",
            "send a well-formed HTTP/1.1 request, as supabase-js, supabase-py and curl do",
        ),
        "400-headers": GatewayError(
            400,
            "the request headers are larger than the gateway accepts "
            f"({GATEWAY_HEADER_BUFFER_KB} KB per header line, "
            f"{GATEWAY_HEADER_BUFFERS * GATEWAY_HEADER_BUFFER_KB} KB in all)",
            "send less in headers: long filters belong in the query or in a "
            "POST /rest/v1/rpc/<function> body, and the API needs no cookies",
        ),
        "401-missing": GatewayError(
            401,
            "No API key found in request",
            "send the project's anon or service_role key in the `apikey` header (or an "
            "`apikey` url param); `mentorships keys` prints them",
            details="No `apikey` request header or url param was found.",
        ),
        "401-invalid": GatewayError(
            401,
            "Invalid API key",
            "Double check your Supabase `anon` or `service_role` API key; "
            "`mentorships keys` prints this stack's.",
            details="The `apikey` header or url param is not this project's anon or service_role key.",
        ),
        "401-repeated": GatewayError(
            401,
            "Duplicate API key found",
            "send the key once: in the `apikey` header or in one `apikey` url param",
            details="The `apikey` url param appears more than once.",
        ),
        "403": GatewayError(
            403,
            "the gateway does not allow this request",
            "use the REST API at /rest/v1/ with your `apikey`, e.g. /rest/v1/mentors",
        ),
        "404": GatewayError(
            404,
            "the gateway has no route for this path",
            "the REST API is at /rest/v1/ (with the trailing slash), e.g. /rest/v1/mentors",
        ),
        "405": GatewayError(
            405,
            "the gateway does not accept this HTTP method",
            "use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
        ),
        "408": GatewayError(
            408,
            "the request did not arrive in time",
            "send the whole request without pausing, then retry",
        ),
        "413": GatewayError(
            413,
            f"the request body is larger than the gateway accepts ({GATEWAY_MAX_BODY_MB} MB)",
            "send less per request, e.g. split a bulk insert into batches",
        ),
        "414": GatewayError(
            414,
            f"the request URI is longer than the gateway accepts ({GATEWAY_HEADER_BUFFER_KB} KB)",
            "shorten the URL: select fewer columns, or send long filters in a "
            "POST /rest/v1/rpc/<function> body",
        ),
        **rate_limited_pages(limits or {}, address_factor),
        "500": GatewayError(
            500,
            "the gateway failed while handling this request",
            "try again; if it persists run `mentorships status` and report it",
        ),
        "501": GatewayError(
            501,
            "the gateway does not support this request's Transfer-Encoding",
            "send the body with Content-Length or Transfer-Encoding: chunked",
        ),
        "502": GatewayError(502, "the API server is not reachable", status_hint),
        "502-answer": GatewayError(
            502,
            "the API server sent an answer the gateway cannot pass on (for example, "
            f"response headers over {GATEWAY_UPSTREAM_HEADER_KB} KB)",
            "this is a bug in the API (PostgREST or a database function it ran): "
            "report it with the request",
        ),
        "503": GatewayError(503, "the API is not available right now", status_hint),
        "504": GatewayError(
            504,
            f"the API server did not answer within {timeout} s",
            "try again; a request this slow should ask for less (filters, limit) or "
            "move its work into a database function",
        ),
        "505": GatewayError(
            505,
            "the gateway speaks HTTP/1.0 and HTTP/1.1 only",
            "send an HTTP/1.1 request",
        ),
    }


def error_server(
    socket: Path,
    upstream_timeout_seconds: int,
    limits: dict[str, RateLimit | None] | None = None,
    address_factor: int = 1,
) -> str:
    """The server holding the gateway's own answers, on a unix socket of its own.

    error_page sends every status nginx produces to GATEWAY_ERROR_PREFIX<page>, which asks
    this server for the page. Why a server: nginx writes its own reason phrases ("405 Not
    Allowed", "414 Request-URI Too Large", "503 Service Temporarily Unavailable", "504 Gateway
    Time-out") but passes a proxied status line on as it is. The request to this server is an
    HTTP/0.9 one (proxy_method ends the request line; nginx ignores what follows), which nginx
    answers with the body alone, and each body here is a whole HTTP response."""
    pages = error_pages(upstream_timeout_seconds, limits, address_factor)
    locations = "".join(
        f"    location = {GATEWAY_ERROR_PREFIX}{name} {{\n"
        f"      return 200 {_nginx_string(page.http_response())};\n"
        "    }\n"
        for name, page in pages.items()
    )
    return f"""
  # The gateway's own answers (see error_server); nothing else connects here.
  server {{
    listen unix:{socket};
    access_log off;

{locations}    location / {{
      return 200 {_nginx_string(pages["500"].http_response())};
    }}
  }}
"""
