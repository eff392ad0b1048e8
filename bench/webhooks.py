"""Webhook throughput of the services app, exactly once, next to a trivial endpoint of the same app.

    .venv/bin/python bench/webhooks.py [--events 1000] [--duplicates 0.3] [--senders 20] [--repeat 3]

On a stack of its own (`bench`, ports 263xx; a running demo or test stack is not touched), each
round posts --events signed Stripe and PayPal events (payments, refunds, expired checkouts; a
--duplicates share sent again; shuffled) from --senders threads, then as many GET /ping, and
checks the database got each effect exactly once. Reports events/s, p50/p95 latency, statuses,
outcomes and the ratio to /ping. Exits 1 on any 5xx, non-200 or exactly-once failure.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentorships.settings import Settings
from mentorships.stack import PayPalSigner, Stack
from testing.events import (
    encode,
    paypal_capture,
    paypal_event,
    paypal_refund,
    sign_stripe,
    stripe_charge,
    stripe_checkout_session,
    stripe_event,
)
from testing.factories import Scenario
from testing.stacks import bench_settings, running_bench_stack

ALL_WEEK = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 8)]
CERT_PATH = "/v1/notifications/certs/CERT-bench"


class CertServer:
    """Serves the PayPal signer's certificate, as PayPal serves its own at PAYPAL-CERT-URL."""

    def __init__(self, cert_pem: bytes) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = self.path == CERT_PATH
                body = cert_pem if ok else b"not found"
                self.send_response(200 if ok else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@dataclass
class Delivery:
    path: str
    body: bytes
    headers: dict[str, str]
    event_id: str


@dataclass
class Plan:
    paid: list[str] = field(default_factory=list)  # order ids whose payment is sent
    refunded_full: list[str] = field(default_factory=list)
    refunded_partial: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    events: list[Delivery] = field(default_factory=list)  # distinct
    deliveries: list[Delivery] = field(default_factory=list)  # with duplicates, shuffled


@dataclass
class Result:
    seconds: float
    latencies_ms: list[float]
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(q * len(xs)))]


def orders(scenario: Scenario, count: int, provider: str) -> list[dict[str, Any]]:
    """`count` pending orders, each by a new student of a roomy mentor, made by create_order with
    the student's claims (as PostgREST would call it)."""
    conn = scenario.conn
    mentor = scenario.mentor("UTC", working_hours=ALL_WEEK, capacity=500)
    product = scenario.product(mentor)  # 4 sessions for 90 days, 24000 usd
    out = []
    for _ in range(count):
        student = scenario.person("student")
        with conn.transaction():
            conn.execute(
                "select set_config('request.jwt.claims', %s, true)",
                (json.dumps({"sub": str(student), "role": "authenticated"}),),
            )
            cur = conn.execute(
                "select id::text, amount_cents, currency from public.create_order(%s::text, %s)",
                (product, provider),
            )
            o = cur.fetchone()
            assert o
        out.append({"id": o[0], "amount_cents": o[1], "currency": o[2]})
    return out


def plan(
    conn: psycopg.Connection,
    settings: Settings,
    signer: PayPalSigner,
    cert_url: str,
    events: int,
    duplicates: float,
    rng: random.Random,
) -> Plan:
    """Distinct events: 5/7 payments (70 % Stripe, 30 % PayPal), 1/7 refunds (half full, half
    partial), 1/7 expired Stripe checkouts; then duplicates, shuffled, and signed."""
    distinct = round(events * (1 - duplicates))
    n_refund = n_expired = distinct // 7
    n_paid = distinct - n_refund - n_expired
    n_paypal = n_paid * 3 // 10
    secret = settings.stripe_webhook_secret
    webhook_id = settings.paypal_webhook_id
    assert secret and webhook_id
    p = Plan()
    scenario = Scenario(conn, settings)
    stripe_orders = orders(scenario, n_paid - n_paypal + n_expired, "stripe")
    paypal_orders = orders(scenario, n_paypal, "paypal")

    def stripe(event: dict[str, Any]) -> Delivery:
        body = encode(event)
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign_stripe(body, secret.get_secret_value()),
        }
        return Delivery("/webhooks/stripe", body, headers, event["id"])

    def paypal(event: dict[str, Any]) -> Delivery:
        body = encode(event)
        return Delivery(
            "/webhooks/paypal",
            body,
            signer.headers(body, webhook_id=webhook_id, cert_url=cert_url),
            event["id"],
        )

    paid: list[tuple[dict[str, Any], str]] = []
    for o in stripe_orders[:-n_expired] if n_expired else stripe_orders:
        pi = f"pi_{uuid.uuid4().hex[:24]}"
        session = stripe_checkout_session(
            order_id=o["id"],
            amount_total=o["amount_cents"],
            currency=o["currency"],
            payment_intent=pi,
        )
        p.events.append(stripe(stripe_event("checkout.session.completed", session)))
        paid.append((o, pi))
    for o in paypal_orders:
        capture = paypal_capture(
            order_id=o["id"],
            paypal_order_id=uuid.uuid4().hex[:17].upper(),
            amount_cents=o["amount_cents"],
            currency=o["currency"],
        )
        p.events.append(
            paypal(
                paypal_event(
                    "PAYMENT.CAPTURE.COMPLETED",
                    capture,
                    resource_type="capture",
                    summary="Payment completed",
                )
            )
        )
        paid.append((o, capture["id"]))
    p.paid = [o["id"] for o, _ in paid]
    for i, (o, ref) in enumerate(rng.sample(paid, n_refund)):
        full = i % 2 == 0
        amount = o["amount_cents"] if full else o["amount_cents"] // 4
        (p.refunded_full if full else p.refunded_partial).append(o["id"])
        if ref.startswith("pi_"):
            charge = stripe_charge(
                order_id=o["id"],
                amount=o["amount_cents"],
                amount_refunded=amount,
                currency=o["currency"],
                payment_intent=ref,
            )
            p.events.append(stripe(stripe_event("charge.refunded", charge)))
        else:
            refund = paypal_refund(
                order_id=o["id"], capture_id=ref, amount_cents=amount, currency=o["currency"]
            )
            p.events.append(
                paypal(
                    paypal_event(
                        "PAYMENT.CAPTURE.REFUNDED",
                        refund,
                        resource_type="refund",
                        summary="Payment refunded",
                    )
                )
            )
    for o in stripe_orders[len(stripe_orders) - n_expired :]:
        session = stripe_checkout_session(
            order_id=o["id"],
            amount_total=o["amount_cents"],
            currency=o["currency"],
            payment_status="unpaid",
            status="expired",
        )
        p.events.append(stripe(stripe_event("checkout.session.expired", session)))
        p.expired.append(o["id"])
    p.deliveries = p.events + rng.choices(p.events, k=events - len(p.events))
    rng.shuffle(p.deliveries)
    return p


def send(
    settings: Settings, requests: list[tuple[str, str, bytes | None, dict[str, str]]], senders: int
) -> tuple[Result, list[bytes]]:
    """Every request once, from `senders` threads each on its own keep-alive connection."""
    lock = threading.Lock()
    nxt = iter(range(len(requests)))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    bodies: list[bytes] = []
    barrier = threading.Barrier(senders + 1)

    def worker() -> None:
        conn = http.client.HTTPConnection(settings.host, settings.services_port, timeout=60)
        barrier.wait()
        while True:
            with lock:
                i = next(nxt, None)
            if i is None:
                break
            method, path, body, headers = requests[i]
            t = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
                statuses[response.status] += 1
                bodies.append(data)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    for th in threads:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    return Result(time.perf_counter() - t0, latencies, statuses), bodies


def verify(conn: psycopg.Connection, p: Plan) -> list[str]:
    """Exactly once, counted in the database."""
    problems = []

    def one(sql: str, *params: Any) -> Any:
        row = conn.execute(sql, params).fetchone()
        assert row
        return row[0]

    packs = one(
        "select count(*) from public.session_packs where order_id = any(%s::uuid[])", p.paid
    )
    distinct_packs = one(
        "select count(distinct order_id) from public.session_packs where order_id = any(%s::uuid[])",
        p.paid,
    )
    if packs != len(p.paid) or distinct_packs != len(p.paid):
        problems.append(f"{packs} packs for {len(p.paid)} paid orders ({distinct_packs} distinct)")
    payments = one("select count(*) from public.payments where order_id = any(%s::uuid[])", p.paid)
    if payments != len(p.paid):
        problems.append(f"{payments} payments for {len(p.paid)} paid orders")
    inbox = one(
        "select count(*) from private.webhook_events where event_id = any(%s)",
        [e.event_id for e in p.events],
    )
    if inbox != len(p.events):
        problems.append(f"{inbox} inbox rows for {len(p.events)} distinct events")
    deferred = one(
        "select count(*) from private.webhook_events where event_id = any(%s) and outcome = 'deferred'",
        [e.event_id for e in p.events],
    )
    if deferred:
        problems.append(f"{deferred} refunds still waiting for their payment")
    full = one(
        "select count(*) from public.session_packs where order_id = any(%s::uuid[]) and status = 'refunded'",
        p.refunded_full,
    )
    if full != len(p.refunded_full):
        problems.append(f"{full} of {len(p.refunded_full)} fully refunded packs are refunded")
    partial = one(
        "select count(*) from public.payments where order_id = any(%s::uuid[]) and status = 'partially_refunded'",
        p.refunded_partial,
    )
    if partial != len(p.refunded_partial):
        problems.append(f"{partial} of {len(p.refunded_partial)} partial refunds recorded")
    messages = one(
        "select count(*) from public.notifications where kind = 'pack_purchased' and payload ->> 'order_id' = any(%s)",
        p.paid,
    )
    if messages != 2 * len(p.paid):
        problems.append(f"{messages} purchase messages for {len(p.paid)} orders (expected 2 each)")
    released = one(
        "select count(*) from public.orders o join public.seat_reservations s on s.id = o.seat_reservation_id"
        " where o.id = any(%s::uuid[]) and o.status = 'expired' and s.status = 'released'",
        p.expired,
    )
    if released != len(p.expired):
        problems.append(f"{released} of {len(p.expired)} expired checkouts released their hold")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1000, help="deliveries per round [1000]")
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.3,
        help="share of the deliveries that repeat an event sent before or after [0.3]",
    )
    parser.add_argument("--senders", type=int, default=20, help="concurrent senders [20]")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported [3]")
    parser.add_argument("--seed", type=int, default=7, help="shuffle seed [7]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    if not 70 <= args.events <= 100_000 or not 0 <= args.duplicates < 1:
        parser.error("--events takes 70-100000, --duplicates 0 to below 1")
    if not 1 <= args.senders <= 200 or not 1 <= args.repeat <= 15:
        parser.error("--senders takes 1-200, --repeat 1-15")

    signer = PayPalSigner.generate()
    certs = CertServer(signer.cert_pem)
    stack = Stack(bench_settings(paypal_api_base=certs.base))
    settings = stack.services.effective_settings()
    rng = random.Random(args.seed)
    print(f"bench stack: services on {settings.services_url}", file=sys.stderr)
    rounds: list[tuple[Result, Result, Counter[str]]] = []
    problems: list[str] = []
    with contextlib.closing(certs), running_bench_stack(stack, keep=args.keep):
        stack.services.start()
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            for n in range(args.repeat):
                print(f"round {n + 1}/{args.repeat}: orders and signed events ...", file=sys.stderr)
                p = plan(
                    conn,
                    settings,
                    signer,
                    certs.base + CERT_PATH,
                    args.events,
                    args.duplicates,
                    rng,
                )
                print(
                    f"  {len(p.deliveries)} deliveries ({len(p.events)} distinct), then as many pings ...",
                    file=sys.stderr,
                )
                hooks, bodies = send(
                    settings,
                    [("POST", d.path, d.body, d.headers) for d in p.deliveries],
                    args.senders,
                )
                outcomes = Counter(
                    str(json.loads(b).get("outcome", "?")) if b.startswith(b"{") else "?"
                    for b in bodies
                )
                pings, _ = send(
                    settings, [("GET", "/ping", None, {})] * len(p.deliveries), args.senders
                )
                rounds.append((hooks, pings, outcomes))
                problems += [f"round {n + 1}: {x}" for x in verify(conn, p)]
                bad = {s: c for s, c in hooks.statuses.items() if s != 200}
                if bad:
                    problems.append(f"round {n + 1}: non-200 answers {bad}")

    ratios = [h.rate / pg.rate for h, pg, _ in rounds]
    median_round = sorted(rounds, key=lambda r: r[0].rate / r[1].rate)[len(rounds) // 2]
    hooks, pings, outcomes = median_round
    figures = {
        "events": args.events,
        "duplicates": args.duplicates,
        "senders": args.senders,
        "rounds": args.repeat,
        "events_per_s": round(hooks.rate, 1),
        "p50_ms": round(hooks.pct(0.5), 1),
        "p95_ms": round(hooks.pct(0.95), 1),
        "statuses": dict(hooks.statuses),
        "outcomes": dict(outcomes),
        "ping_per_s": round(pings.rate, 1),
        "ping_p95_ms": round(pings.pct(0.95), 1),
        "ratio_median": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "exactly_once_problems": problems,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"\nwebhooks  {figures['events_per_s']:>8} events/s  p50 {figures['p50_ms']} ms"
            f"  p95 {figures['p95_ms']} ms  statuses {figures['statuses']}"
        )
        print(f"outcomes  {figures['outcomes']}")
        print(
            f"/ping     {figures['ping_per_s']:>8} req/s     p95 {figures['ping_p95_ms']} ms"
            "  (same app, no database)"
        )
        print(
            f"\nwebhooks / ping: {figures['ratio_median']:.1%} (median of {args.repeat} rounds;"
            f" per round {figures['ratios']})"
        )
        print(
            "exactly once: "
            + ("verified in the database" if not problems else "FAILED\n  " + "\n  ".join(problems))
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
