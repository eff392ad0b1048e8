"""GET /metrics over real HTTP, parsed with prometheus_client's parser: request and webhook
counters that move with requests, the ops_health gauges as the database reads them, the
process metrics and `mentorships_health_up 0` when the database is out of reach, the optional
token."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

from testing.api import Api
from testing.clock import Clock
from testing.events import encode, sign_stripe, stripe_event
from testing.observability import CLOSED_OFFSET, Serve, port_base
from testing.services import STRIPE_WEBHOOK_SECRET

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str, **headers: str) -> Samples:
    r = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_counters_move_with_requests(served: str) -> None:
    before = scrape(served)
    for _ in range(3):
        assert httpx.get(f"{served}/health").status_code == 200
    assert httpx.get(f"{served}/nothing").status_code == 404
    assert httpx.request("TRACE", f"{served}/health").status_code == 405
    after = scrape(served)
    requests = "mentorships_http_requests_total"
    health = {"method": "GET", "route": "/health", "status": "200"}
    assert value(after, requests, **health) == value(before, requests, **health) + 3
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, requests, **unmatched) == value(before, requests, **unmatched) + 1
    brewed = {"method": "other", "route": "/health", "status": "405"}
    assert value(after, requests, **brewed) == value(before, requests, **brewed) + 1
    assert not [labels for name, labels in after if ("method", "TRACE") in labels]
    count = "mentorships_http_request_duration_seconds_count"
    assert value(after, count, method="GET", route="/health") >= 3
    assert value(after, "process_resident_memory_bytes") > 0


def test_webhook_outcomes_are_counted(served: str) -> None:
    counter = "mentorships_webhooks_total"
    before = scrape(served)
    body = encode(stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))
    bad = httpx.post(
        f"{served}/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert bad.status_code == 400
    signature = sign_stripe(body, STRIPE_WEBHOOK_SECRET)
    for _ in range(2):  # applied, then the same event again
        r = httpx.post(
            f"{served}/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
        )
        assert r.status_code == 200, r.text
    after = scrape(served)

    def moved(outcome: str) -> float:
        return value(after, counter, provider="stripe", outcome=outcome) - value(
            before, counter, provider="stripe", outcome=outcome
        )

    assert moved("refused-signature") == 1
    google = httpx.post(f"{served}/webhooks/google", headers={"X-Goog-Resource-State": "sync"})
    assert google.status_code == 400
    assert (
        value(scrape(served), counter, provider="google", outcome="refused-headers")
        == value(before, counter, provider="google", outcome="refused-headers") + 1
    )
    assert moved("ignored") == 1
    assert moved("duplicate") == 1
    events = "mentorships_webhook_events"
    assert (
        value(after, events, provider="stripe", status="ignored")
        == value(before, events, provider="stripe", status="ignored") + 1
    )


def test_the_health_gauges_are_ops_health(
    served: str, actors: dict[str, Api], clock: Clock
) -> None:
    clock.freeze(dt.datetime(2026, 12, 3, 19, tzinfo=dt.UTC))
    health: dict[str, Any] = actors["service"].rpc("ops_health").json()
    samples = scrape(served)
    assert value(samples, "mentorships_health_up") == 1
    outbox, jobs = health["outbox"], health["calendar_jobs"]
    assert value(samples, "mentorships_outbox_pending") == outbox["pending"]
    assert value(samples, "mentorships_outbox_due") == outbox["due"]
    assert value(samples, "mentorships_outbox_failed") == outbox["failed"]
    assert value(samples, "mentorships_calendar_jobs_pending") == jobs["pending"]
    assert value(samples, "mentorships_calendar_jobs_failed") == jobs["failed"]
    for m in health["messages"]:
        assert (
            value(samples, "mentorships_messages", channel=m["channel"], status=m["status"])
            == (m["count"])
        )
    for c in health["calendar"]:
        if c["lag_seconds"] is not None:
            lag = value(samples, "mentorships_calendar_sync_lag_seconds", mentor_id=c["mentor_id"])
            assert lag == c["lag_seconds"]
    assert value(samples, "mentorships_report_build_running") == int(health["reports"]["running"])


def test_ops_health_is_for_admins_and_the_service_role(actors: dict[str, Api]) -> None:
    refused = actors["student_a"].rpc("ops_health")
    assert refused.status_code == 403
    assert refused.json()["code"] == "PT403"
    assert set(refused.json()) == {"code", "message", "details", "hint"}
    assert actors["admin"].rpc("ops_health").status_code == 200
    health = actors["service"].rpc("ops_health").json()
    assert set(health) == {
        "at",
        "outbox",
        "messages",
        "calendar",
        "calendar_jobs",
        "reports",
        "webhooks",
    }
    assert set(health["outbox"]) == {"pending", "due", "oldest_due_age_seconds", "failed", "sent"}


def test_the_database_out_of_reach_leaves_process_metrics_and_health_down(serve: Serve) -> None:
    with serve(supabase_url=f"http://127.0.0.1:{port_base() + CLOSED_OFFSET}") as url:
        samples = scrape(url)
    assert value(samples, "mentorships_health_up") == 0
    assert value(samples, "process_resident_memory_bytes") > 0
    assert not any(name == "mentorships_outbox_pending" for name, _ in samples)


def test_a_metrics_token_when_set(serve: Serve, conn: psycopg.Connection) -> None:
    token = "metrics-token-of-the-tests-0123456789"
    with serve(metrics_token=token) as url:
        refused = httpx.get(f"{url}/metrics")
        wrong = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer nope"})
        samples = scrape(url, Authorization=f"Bearer {token}")
    for r in (refused, wrong):
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        body = json.loads(r.text)
        assert body["code"] == "SV401"
        assert body["details"] == "Authorization"
    assert value(samples, "mentorships_health_up") == 1
