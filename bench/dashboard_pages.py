"""Each dashboard page's time to its first full render in Chromium on the data set of
bench/dataset.py, next to the time of the same page's API reads, as a ratio.

    .venv/bin/python bench/dataset.py --sessions 1000000 --keep
    .venv/bin/python bench/dashboard_pages.py [--rounds 7] [--keep]

The readers: the busiest student with a session left to book, the busiest mentor and an admin
of the data set. For each
page of their role (dashboards/roles.py):
  1. its API reads, recorded: the page run once in-process (streamlit's AppTest) with the app's
     HTTP client noting every request it sends (method, URL, headers, body);
  2. those requests replayed one after another on one keep-alive connection, once per round: the
     page's API time is the median of their sums;
  3. the page in Chromium (Debian's, through Playwright), signed in through the local sign-in
     page: each round opens it from the sidebar (coming from another page) and times the click
     to the render settled (Streamlit's script finished, nothing stale): the median.
The app runs with MENTORSHIPS_DASHBOARDS_CACHE_SECONDS=0, so every render reads. Goal: every
page under 1.5 s. Exits 1 when a page shows an error or an exception.

(Named dashboard_pages.py, not dashboards.py: a script of the package's name would shadow the
`dashboards` package for mypy and for an import run from bench/.)"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from dashboards import api as dashboards_api
from dashboards import settings as dashboard_settings
from dashboards.roles import ACCOUNT, ROLE_PAGES
from mentorships.stack import Stack
from testing import dashboards as apptest
from testing.browser import launch
from testing.dashboards_browser import go, open_app, settled, shoot, sign_in
from testing.stacks import bench_settings

GOAL_SECONDS = 1.5


def readers(conn: psycopg.Connection) -> dict[str, tuple[str, str]]:
    """role: (id, email) of the busiest student with a session left to book, the busiest mentor,
    the first admin."""
    found: dict[str, tuple[str, str]] = {}
    # The student: the busiest of those with a session left to book (else the booking page stops
    # at its empty state and reads no free slots).
    bookable = (
        " where exists (select from public.session_packs k where k.student_id = s.student_id"
        " and k.status = 'active' and k.remaining_sessions > 0)"
    )
    for role, column in (("student", "student_id"), ("mentor", "mentor_id")):
        row = conn.execute(
            f"select p.id::text, p.email from public.profiles p join ("
            f"  select {column} as id from public.sessions s"
            f"{bookable if role == 'student' else ''} group by 1 order by count(*) desc"
            f"  limit 1) s on s.id = p.id"
        ).fetchone()
        if row is None:
            raise SystemExit("no sessions: load a data set first (bench/dataset.py --keep)")
        found[role] = (row[0], row[1])
    row = conn.execute(
        "select id::text, email from public.profiles where role = 'admin' order by email limit 1"
    ).fetchone()
    if row is None:
        raise SystemExit("no admin in the data set")
    found["admin"] = (row[0], row[1])
    return found


def pages_of(role: str) -> list[tuple[str, str]]:
    return [(f, t) for pages in ROLE_PAGES[role].values() for f, t, _ in pages] + [
        (f, t) for f, t, _ in ACCOUNT
    ]


def record_reads(person: str, email: str, file: str) -> list[httpx.Request]:
    """The requests the page sends when it renders once (AppTest, in-process)."""
    sent: list[httpx.Request] = []
    client = dashboards_api._client(dashboard_settings.cached().dashboards_timeout_seconds)
    at = apptest.app(uuid.UUID(person), email)  # signs in: not the page's read
    client.event_hooks["request"] = [sent.append]
    try:
        at.switch_page(f"views/{file}")
        at.run()
        if at.exception or at.error:
            problems = [str(e.value) for e in (*at.exception, *at.error)]
            raise SystemExit(f"{file} as {email}: {problems}")
    finally:
        client.event_hooks["request"] = []
    return sent


def replay(http: httpx.Client, requests: list[httpx.Request]) -> float:
    t0 = time.perf_counter()
    for r in requests:
        answer = http.send(
            http.build_request(r.method, r.url, headers=r.headers, content=r.content)
        )
        if answer.status_code >= 400:
            raise SystemExit(f"{r.method} {r.url}: {answer.status_code} {answer.text[:300]}")
    return time.perf_counter() - t0


def main() -> None:
    # AppTest's runs outside a server: Streamlit warns of that once per cached call.
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7, help="renders per page [7]")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="leave the bench stack running")
    args = parser.parse_args()
    stack = Stack(bench_settings(dashboards_cache_seconds=0))
    settings = stack.settings
    figures: dict[str, Any] = {}
    try:
        stack.postgres.start()
        stack.postgrest.start()
        stack.gateway.start()
        stack.services.start()
        stack.dashboards.stop()  # a kept one may run older code: the app's files are read once
        stack.dashboards.start()
        with psycopg.connect(settings.dsn(), autocommit=True) as conn:
            people = readers(conn)
            total = conn.execute("select count(*) from public.sessions").fetchone()
        figures["sessions_in_database"] = total[0] if total else 0
        with apptest.environment(settings), httpx.Client(timeout=60) as http:
            api_times: dict[str, list[float]] = {}
            for role, (person, email) in people.items():
                for file, title in pages_of(role):
                    reads = record_reads(person, email, file)
                    replay(http, reads)  # warm
                    api_times[title] = [replay(http, reads) for _ in range(args.rounds)]
                    figures.setdefault(role, {})[title] = {"api_requests": len(reads)}
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for role, (_, email) in people.items():
                page = open_app(browser, stack.dashboards.address)
                try:
                    sign_in(page, role, email)
                except Exception:
                    print(f"signing in as {email} failed: {shoot(page, f'bench-sign-in-{role}')}")
                    raise
                pages = pages_of(role)
                for i, (_file, title) in enumerate(pages):
                    other = pages[(i + 1) % len(pages)][1]
                    renders = []
                    for _ in range(args.rounds + 1):
                        go(page, other)
                        t0 = time.perf_counter()
                        go(page, title)
                        renders.append(time.perf_counter() - t0)
                    if (
                        page.get_by_test_id("stException").count()
                        or page.get_by_test_id("stAlertContentError").count()
                    ):
                        shoot(page, f"bench-{role}-{title}")
                        raise SystemExit(f"{title} as {email} shows an error (screenshot saved)")
                    settled(page)
                    render = statistics.median(renders[1:])
                    api_median = statistics.median(api_times[title])
                    figures[role][title].update(
                        render_ms=round(render * 1000, 1),
                        api_ms=round(api_median * 1000, 1),
                        ratio=round(render / api_median, 2) if api_median else None,
                        under_goal=render < GOAL_SECONDS,
                    )
                page.context.close()
            browser.close()
    finally:
        if not args.keep:
            for _ in stack.stop():
                pass
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"sessions in the database: {figures['sessions_in_database']:,}")
    print(f"{'role':<8} {'page':<28} {'reads':>5} {'render ms':>10} {'API ms':>8} {'ratio':>6}")
    for role in people:
        for title, f in figures[role].items():
            mark = "" if f["under_goal"] else f"  over {GOAL_SECONDS} s"
            print(
                f"{role:<8} {title:<28} {f['api_requests']:>5} {f['render_ms']:>10} "
                f"{f['api_ms']:>8} {f['ratio']:>6}{mark}"
            )


if __name__ == "__main__":
    main()
