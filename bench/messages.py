"""Outbox delivery: dispatcher processes draining the outbox through Resend's transport to a fake
of Resend's API, next to the fake driven directly at the same concurrency.

    .venv/bin/python bench/messages.py [--messages 10000] [--per-commit 100] [--workers 1,2]
                                       [--repeat 3] [--paced 50] [--pace 10]

On a stack of its own (`bench`, ports 263xx), the clock frozen in March 2002, 100 students
without Discord (so email only) and a ResendFake in this process (strict: each request checked,
one delivery per Idempotency-Key, arrival times kept). Each round, for each worker count: start
that many `python -m sync.messaging` processes (LISTEN, Resend pointed at the fake, its rate
limit 1000/s), wait until they listen, then
- bulk: queue --messages grace warnings through `private.notify_many` (the rules' queueing
  function), --per-commit to a transaction, as fast as this process can, and wait until every
  one arrived: messages/s from the first commit to the last arrival, and commit->arrival p50/p95
  (which, for a backlog, includes the wait in the queue);
- paced: --paced transactions of 2 messages (a booking's two confirmations) at --pace per
  second: commit->arrival p50/p95 of a message into an idle outbox;
then SIGTERM the workers, and drive the fake directly (a child process, aiohttp, the same
concurrency as the workers together, the same email body) for the reference rate.
Checks: every queued message arrived exactly once and its row is `sent`. Exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mentorships.settings import PROJECT_DIR
from mentorships.stack import Stack
from sync.messaging import worker
from testing.clock import Clock
from testing.dispatch import SENDER, T, provider_overrides, worker_env, worker_settings
from testing.factories import Scenario
from testing.fakes.resend import API_KEY, ResendFake
from testing.stacks import bench_settings, running_bench_stack

RECIPIENTS = 100
QUEUE = (
    "select private.notify_many(%s::uuid[], array['grace_warning']::public.notification_kind[],"
    " array[%s], array[null]::timestamptz[], %s::jsonb)"
)


@dataclass
class Phase:
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(q * len(xs)))]


def queue(
    conn: psycopg.Connection, people: list[uuid.UUID], payload: str, tag: str, txs: int, per: int
) -> dict[str, float]:
    """`txs` transactions of `per` messages (one each to `per` people); answers each
    transaction's event key and the time its commit returned."""
    commits: dict[str, float] = {}
    for i in range(txs):
        key = f"bench:{tag}:{i}"
        with conn.transaction():
            conn.execute(QUEUE, (people[:per], key, payload))
        commits[key] = time.time()
    return commits


def arrivals(fake: ResendFake, commits: dict[str, float], n: int, timeout: float) -> Phase:
    """Waits until the fake holds `n` deliveries (this phase's alone: it is reset before each
    worker count, and the paced phase starts after the bulk arrived); commit->arrival of each."""
    deadline = time.monotonic() + timeout
    while len(fake.deliveries) < n and time.monotonic() < deadline:
        time.sleep(0.05)  # (a length only: a scan under the fake's lock would slow it)
    with fake.lock:
        ours = [d for d in fake.deliveries if d.key.rsplit(":", 2)[0] in commits]
    if len(fake.deliveries) < n:
        raise SystemExit(f"only {len(fake.deliveries)} of {n} messages arrived in {timeout:.0f} s")
    lat = [(d.arrived_at - commits[d.key.rsplit(":", 2)[0]]) * 1000 for d in ours]
    first = min(commits.values())
    return Phase(max(d.arrived_at for d in ours) - first, lat)


def start_workers(ws: Any, count: int, folder: Path) -> list[subprocess.Popen[bytes]]:
    """`count` dispatcher processes (`python -m sync.messaging`), once each listens."""
    procs = []
    for i in range(count):
        env = worker_env(ws) | {
            "MENTORSHIPS_MESSAGES_WORKER_NAME": f"bench-{i}",
            "MENTORSHIPS_MESSAGES_STATUS_FILE": str(folder / f"w{i}.json"),
        }
        with (folder / f"w{i}.log").open("ab") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "sync.messaging"],
                    cwd=PROJECT_DIR,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    deadline = time.monotonic() + 60
    for i, p in enumerate(procs):
        while True:
            status = worker.status_of(folder / f"w{i}.json")
            if status and status.get("pid") == p.pid and status.get("listening"):
                break
            if p.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker {i} did not start: {(folder / f'w{i}.log').read_text()}")
            time.sleep(0.05)
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(30)


def drive(url: str, requests: int, concurrency: int, body_file: Path) -> float:
    """Reference: `requests` POST /emails with distinct keys from `concurrency` tasks on one
    aiohttp session, in a child process (as the workers are); answers the seconds taken."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--drive",
            url,
            "--messages",
            str(requests),
            "--concurrency",
            str(concurrency),
            "--body",
            str(body_file),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout)["seconds"])


async def _drive(url: str, requests: int, concurrency: int, body: bytes) -> float:
    import aiohttp

    run = uuid.uuid4().hex[:8]
    headers = {
        "Authorization": f"Bearer {API_KEY}",
        "User-Agent": "resend-python:bench",
        "Content-Type": "application/json",
    }
    left = iter(range(requests))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def one_task() -> None:
            for i in left:
                key = {"Idempotency-Key": f"drive:{run}:{i}"}
                async with http.post(f"{url}/emails", data=body, headers=headers | key) as r:
                    await r.read()
                    if r.status != 200:
                        raise SystemExit(f"the fake answered {r.status}")

        started = time.perf_counter()
        await asyncio.gather(*(one_task() for _ in range(concurrency)))
        return time.perf_counter() - started


def unsent(conn: psycopg.Connection, tag: str) -> int:
    row = conn.execute(
        "select count(*) from public.notifications where dedupe_key like %s and status <> 'sent'",
        (f"bench:{tag}%",),
    ).fetchone()
    return int(row[0]) if row else -1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000, help="bulk messages [10000]")
    parser.add_argument("--per-commit", type=int, default=100, help="messages a commit [100]")
    parser.add_argument("--workers", default="1,2", help="worker counts, in order [1,2]")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians reported [3]")
    parser.add_argument("--paced", type=int, default=50, help="paced transactions [50]")
    parser.add_argument("--pace", type=float, default=10, help="paced transactions/s [10]")
    parser.add_argument("--batch", type=int, default=100, help="MESSAGES_BATCH_SIZE [100]")
    parser.add_argument("--concurrency", type=int, default=16, help="MESSAGES_CONCURRENCY [16]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    parser.add_argument("--drive", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--body", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        seconds = asyncio.run(
            _drive(args.drive, args.messages, args.concurrency, args.body.read_bytes())
        )
        print(json.dumps({"seconds": seconds}))
        return 0
    counts = [int(w) for w in args.workers.split(",")]
    if not 100 <= args.messages <= 200_000 or not 1 <= args.per_commit <= RECIPIENTS:
        parser.error(f"--messages takes 100-200000, --per-commit 1-{RECIPIENTS}")
    if not all(1 <= w <= 8 for w in counts) or not 1 <= args.repeat <= 15:
        parser.error("--workers takes counts 1-8, --repeat 1-15")
    txs = -(-args.messages // args.per_commit)
    n = txs * args.per_commit

    stack = Stack(bench_settings())
    settings = stack.settings
    fake = ResendFake(api_key=API_KEY, sender=SENDER)
    results: dict[int, list[dict[str, Any]]] = {w: [] for w in counts}
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, running_bench_stack(stack, keep=args.keep):
        folder = Path(tmp)
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            Clock(conn).freeze(T)
            scenario = Scenario(conn, settings)
            mentor = scenario.mentor("UTC")
            people = [scenario.person("student") for _ in range(RECIPIENTS)]
            payload = json.dumps(
                {"seat_id": None, "mentor_id": str(mentor), "grace_ends_at": T.isoformat()}
            )
            for r in range(args.repeat):
                for w in counts:
                    fake.reset()
                    ws = worker_settings(
                        settings,
                        folder / "mail",
                        **provider_overrides(fake, None),
                        messages_batch_size=args.batch,
                        messages_concurrency=args.concurrency,
                    )
                    print(f"round {r + 1}/{args.repeat}, {w} worker(s)", file=sys.stderr)
                    procs = start_workers(ws, w, folder)
                    try:
                        tag = f"{r}-{w}"
                        commits = queue(conn, people, payload, tag, txs, args.per_commit)
                        bulk = arrivals(fake, commits, n, timeout=600)
                        paced_commits: dict[str, float] = {}
                        for i in range(args.paced):
                            t0 = time.monotonic()
                            paced_commits |= queue(
                                conn, people[i % 50 :], payload, f"{tag}p{i}", 1, 2
                            )
                            time.sleep(max(0.0, 1 / args.pace - (time.monotonic() - t0)))
                        paced = arrivals(fake, paced_commits, n + 2 * args.paced, timeout=60)
                    finally:
                        stop_workers(procs)
                    dups = sum(c - 1 for c in fake.per_key.values() if c > 1)
                    left = unsent(conn, tag)
                    if dups or left or len(fake.deliveries) != n + 2 * args.paced:
                        problems.append(
                            f"round {r + 1}, {w} worker(s): {dups} duplicates, {left} rows not"
                            f" sent, {len(fake.deliveries)} deliveries for {n + 2 * args.paced}"
                        )
                    body = folder / "body.json"
                    body.write_text(json.dumps(fake.deliveries[0].body))
                    fake.reset()
                    ref_seconds = drive(fake.url, n, w * args.concurrency, body)
                    results[w].append(
                        {
                            "msg_per_s": bulk.rate,
                            "bulk_p50_ms": bulk.pct(0.5),
                            "bulk_p95_ms": bulk.pct(0.95),
                            "paced_p50_ms": paced.pct(0.5),
                            "paced_p95_ms": paced.pct(0.95),
                            "fake_per_s": n / ref_seconds,
                            "duplicates": dups,
                            "unsent": left,
                        }
                    )
            conn.execute("delete from public.notifications where dedupe_key like 'bench:%'")
    fake.close()
    return report(args, n, results, problems)


def report(
    args: argparse.Namespace, n: int, results: dict[int, list[dict[str, Any]]], problems: list[str]
) -> int:
    figures: dict[str, Any] = {"messages": n, "per_commit": args.per_commit, "rounds": args.repeat}
    for w, rounds in results.items():
        med = {k: statistics.median(x[k] for x in rounds) for k in rounds[0]}
        ratios = [x["msg_per_s"] / x["fake_per_s"] for x in rounds]
        figures[f"{w}_workers"] = {
            **{k: round(v, 1) for k, v in med.items()},
            "ratio_median": round(statistics.median(ratios), 3),
            "ratios": [round(x, 3) for x in ratios],
            "rates": [round(x["msg_per_s"], 1) for x in rounds],
        }
    figures["problems"] = problems
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"\n{n} messages a round, {args.per_commit} a commit, medians of {args.repeat}:")
        for w in results:
            f = figures[f"{w}_workers"]
            print(
                f"{w} worker(s): {f['msg_per_s']:>7} msg/s (rounds {f['rates']})"
                f"  bulk commit->arrival p50 {f['bulk_p50_ms']} ms p95 {f['bulk_p95_ms']} ms"
                f"  paced p50 {f['paced_p50_ms']} ms p95 {f['paced_p95_ms']} ms"
                f"  fake alone {f['fake_per_s']} req/s  ratio {f['ratio_median']:.1%}"
                f" {f['ratios']}  duplicates {f['duplicates']}"
            )
        print(
            "exactly once: "
            + ("verified" if not problems else "FAILED\n  " + "\n  ".join(problems))
        )
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.pop("MENTORSHIPS_TEST_PORTS", None)
    sys.exit(main())
