"""`mentorships seed`: replaces the demo data with a history played through the real rules.

The cast joins, the mentors list their products and every student lives a storyline
(demo/stories.py), all in order of time with the clock frozen at each instant; the pg_cron job
functions run every hour of that history, and the real outbox dispatcher delivers each message
when it falls due, into the stack's mail folder (`mentorships mail` lists them). At the end the
clock is back, the jobs and the stack's dispatcher run again, and every storyline's rows are
checked to be where it says."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg

from demo import calendars as calendars_
from demo import cast as cast_
from demo.cleanup import cleanup
from demo.delivery import forget_files
from demo.stage import Signing, Stage
from demo.stories import STORIES, Play, Steps, Story
from mentorships import db
from mentorships import jwt as jwt_
from mentorships.errors import StackError
from mentorships.settings import PROJECT_DIR, Settings
from mentorships.stack import PayPalCert, Stack, Worker

UTC = dt.UTC

# Every state a row of the demo must be in somewhere, by table and column.
EVERY_STATE: dict[str, tuple[str, set[str]]] = {
    "notifications": ("status", {"pending", "sent", "voided", "failed"}),
    "seat_reservations": ("status", {"hold", "active", "grace", "released"}),
    "session_packs": ("status", {"active", "depleted", "expired", "refunded"}),
    "sessions": (
        "status",
        {
            "scheduled",
            "completed",
            "canceled",
            "late_canceled",
            "student_no_show",
            "mentor_no_show",
        },
    ),
    "orders": ("status", {"pending", "paid", "expired", "canceled", "refunded", "flagged"}),
    "payments": ("status", {"succeeded", "partially_refunded", "refunded"}),
    "session_credit_ledger": (
        "kind",
        {
            "session_booked",
            "session_canceled",
            "mentor_no_show",
            "admin_adjustment",
            "pack_expired",
        },
    ),
}
SUMMARY = {
    "seats": "public.seat_reservations",
    "orders": "public.orders",
    "payments": "public.payments",
    "packs": "public.session_packs",
    "sessions": "public.sessions",
    "credit_entries": "public.session_credit_ledger",
    "notifications": "public.notifications",
}
ROWS = ("seats", "orders", "payments", "packs", "sessions")  # whose changes the audit log has
DEMO = "select id from auth.users where email like '%%@demo.mentorships.test'"


def require_stack(settings: Settings) -> None:
    """Refuses before anything is written when the services or the gateway are not answering,
    run with other settings than this stack's, the local Google (local Google mode) does not
    answer, or the local PayPal certificate is not served."""
    for name, url, headers in (
        ("the services app", f"{settings.services_url}/health", {}),
        ("the API gateway", f"{settings.rest_url}/", {"apikey": jwt_.anon_key(settings)}),
    ):
        try:
            status = httpx.get(url, headers=headers, timeout=3).status_code
        except httpx.HTTPError:
            status = 0
        if status != 200:
            raise StackError(
                f"{name} is not answering at {url} (HTTP {status or 'none'}); run "
                "`mentorships up` (the demo's purchases go through it)"
            )
    google = Stack(settings).google
    if google.enabled and not google.healthy():
        raise StackError(
            f"the local Google is not answering at {google.address} (local Google mode: no "
            "Google client set); run `mentorships up`"
        )
    services = Stack(settings).services
    env = services.p.services_env
    if services.pid() is not None and env.exists() and env.read_text() != services.config():
        raise StackError(
            f"the services app on {settings.host}:{settings.services_port} runs with other settings than "
            f"this stack's now ({env.relative_to(PROJECT_DIR)} differs); restart it "
            "with `mentorships up`"
        )
    local = services.local_paypal_signer()
    if local is not None:
        try:
            r = httpx.get(local.cert_url, timeout=3)
            served = r.status_code == 200 and r.content == local.signer.cert_pem
        except httpx.HTTPError:
            served = False
        if not served:
            raise StackError(
                f"the local PayPal certificate host {local.cert_url} does not serve "
                "this stack's certificate; run `mentorships up`"
            )


def signing_for(settings: Settings, paypal: PayPalCert | None = None) -> Signing:
    """The services' own webhook secrets; PayPal events need a signer whose certificate they can
    download (`paypal`, else the stack's local one): with real PayPal keys only Stripe is used."""
    services = Stack(settings).services
    eff = services.effective_settings()
    paypal = paypal or services.local_paypal_signer()
    secret = eff.stripe_webhook_secret
    pp_ok = paypal is not None and eff.paypal_webhook_id is not None
    providers = tuple(
        p for p in eff.payment_providers if (p == "stripe" and secret) or (p == "paypal" and pp_ok)
    )
    if not providers:
        raise StackError(
            "seed: the services accept no payment provider the demo can sign webhooks "
            "for (MENTORSHIPS_PAYMENT_PROVIDERS is empty?)"
        )
    return Signing(
        providers,
        secret.get_secret_value() if secret else None,
        paypal if pp_ok else None,
        eff.paypal_webhook_id,
        eff.paypal_api_base,
    )


def _deck(c: cast_.Cast, scale: int) -> list[tuple[cast_.Person, str]]:
    """Who lives which storyline: one shuffled deck per block; student1 (in the README) has an
    active pack with history and an earlier one; a third of the others a second storyline."""
    counts = cast_.load("cast.toml")["stories"]
    plan = []
    for block in range(scale):
        deck = [kind for kind, n in counts.items() for _ in range(n)]
        c.rng.shuffle(deck)
        if block == 0:
            deck.remove("active_mid")
            deck.insert(0, "active_mid")
        for st, kind in zip(c.students[block * len(deck) :], deck, strict=False):
            plan.append((st, kind))
            if st.index == 1:
                plan.append((st, "released"))
            elif (
                kind in ("active_new", "active_mid", "renewed", "browsing")
                and c.rng.random() < 0.35
            ):
                plan.append((st, c.rng.choice(("released", "hold_expired", "active_new"))))
    return plan


def _play(
    stage: Stage,
    c: cast_.Cast,
    scale: int,
    now: dt.datetime,
    signing: Signing,
    progress: Callable[[str], None],
) -> Play:
    queue: list[tuple[dt.datetime, int, str, Iterator[dt.datetime]]] = []
    seq = itertools.count()

    def push(label: str, steps: Iterator[dt.datetime], at: dt.datetime | None = None) -> None:
        try:
            at = at or next(steps)
        except StopIteration:
            return
        # the history ends now: what a storyline would do later (a payment minutes after a
        # checkout of a moment ago) happens now
        heapq.heappush(queue, (min(at, now), next(seq), label, steps))

    p = Play(stage, c, now, signing.providers, lambda label, steps: push(label, steps))
    push("admin", cast_.admin_story(stage, c))
    calendars = calendars_.Calendars.of(stage.settings, stage)
    if calendars is not None:
        p.calendars = calendars
        push("calendars", calendars.story(c, now))
    for m in c.mentors:
        push(m.person.handle, cast_.mentor_story(stage, c, m))
    firsts: dict[uuid.UUID, dt.datetime] = {}
    deck = _deck(c, scale)
    for st, kind in deck:
        story = Story(p, st, kind)
        steps = STORIES[kind](story)
        first = next(steps)
        firsts[st.id] = min(first, firsts.get(st.id, first))
        push(story.label, steps, first)
    for st in c.students:
        st.joined = firsts.get(st.id, c.days_ago(5, 60)) - dt.timedelta(days=c.rng.uniform(1, 40))

        def joins(st: cast_.Person = st) -> Steps[None]:
            yield st.joined or now
            cast_.join(stage, st)

        push(f"{st.handle} (joins)", joins())
    # one student with a pack (so with messages) has blocked the bot: their Discord DMs fail
    with_messages = [st for st, kind in deck if st.discord and kind.startswith("active")]
    blocked = c.rng.choice(with_messages or [st for st in c.students if st.discord])
    stage.block_bot(blocked.id, blocked.discord)
    stage.next_tick = min(firsts.values()).replace(minute=0) + dt.timedelta(hours=1)
    started, steps_done = time.monotonic(), 0
    while queue:
        at, _, label, playing = heapq.heappop(queue)
        stage.advance(at)  # the jobs and the deliveries before this step
        if at > stage.now:
            stage.move(at)
        try:
            then: dt.datetime | None = next(playing)
        except StopIteration:
            then = None
        except Exception as e:
            raise StackError(f"seed: {label} at {stage.now:%Y-%m-%d %H:%M} UTC: {e}") from e
        stage.deliver()  # what the step queued for now goes out now (a booking's confirmation)
        if then is not None:
            push(label, playing, then)
        steps_done += 1
        if steps_done % 500 == 0:
            progress(
                f"  played {steps_done} steps, up to {stage.now:%Y-%m-%d} "
                f"({time.monotonic() - started:.0f} s)"
            )
    stage.advance(max(now, stage.now))
    stage.move(max(now, stage.now))
    stage.tick()
    done = ", ".join(f"{n} {k}" for k, n in sorted(stage.counts.items()))
    progress(f"  played {steps_done} steps in {time.monotonic() - started:.1f} s: {done}")
    return p


def _check(conn: psycopg.Connection, p: Play) -> list[str]:
    """What disagrees with the storylines, and the states no demo row is in."""
    wrong = []
    for story, table, row_id, status in p.expected:
        row = conn.execute(f"select status::text from public.{table} where id = %s", (row_id,))
        found = (row.fetchone() or ["missing"])[0]
        if found != status:
            wrong.append(f"{story}: {table} {row_id} is {found}, expected {status}")
    for table, (column, states) in EVERY_STATE.items():
        who = "recipient_id" if table == "notifications" else "student_id"
        rows = conn.execute(
            f"select distinct {column}::text from public.{table} where {who} in ({DEMO})"
        )
        missing = states - {r[0] for r in rows}
        if missing:
            wrong.append(f"no demo {table} with {column} {', '.join(sorted(missing))}")
    if p.calendars is not None:
        wrong += calendars_.check(conn, p.calendars)
    return wrong


def _summary(conn: psycopg.Connection, c: cast_.Cast) -> dict[str, int]:
    counts = {
        "mentors": len(c.mentors),
        "students": len(c.students),
        "products": sum(len(m.products) for m in c.mentors),
        "promotion_codes": len(c.promos),
    }
    for name, table in SUMMARY.items():
        who = "recipient_id" if name == "notifications" else "student_id"
        row = conn.execute(f"select count(*) from {table} where {who} in ({DEMO})").fetchone()
        counts[name] = int(row[0]) if row else 0
    rows = " union all ".join(
        f"select id from {t} where student_id in ({DEMO})" for n, t in SUMMARY.items() if n in ROWS
    )
    row = conn.execute(
        f"select count(*) from public.audit_log where actor_id in ({DEMO}) or row_id in ({rows})"
    ).fetchone()
    counts["audit_log"] = int(row[0]) if row else 0
    return counts


def run(
    settings: Settings,
    *,
    scale: int,
    random_seed: int,
    progress: Callable[[str], None],
    paypal: PayPalCert | None = None,
) -> dict[str, int]:
    """Replaces the demo data; refuses before writing anything when the stack is not running."""
    started = time.monotonic()
    require_stack(settings)
    signing = signing_for(settings, paypal)
    # the Stage first: it puts back what a killed run left (its frozen clock would be `now`)
    with Stage(settings, signing) as stage:
        if stage.recovered:
            progress(
                "  note: an earlier seed was killed; its frozen clock and paused jobs are back"
            )
        with db.connect(settings) as conn, conn.transaction(), conn.cursor() as cur:
            removed = cleanup(cur)
            row = conn.execute("select private.clock_now()").fetchone()
        assert row is not None
        now: dt.datetime = row[0].astimezone(UTC)
        folder = Worker(settings).mail_dir
        files = forget_files(folder, removed.messages)
        progress(
            f"  removed earlier demo data: {removed.users} users and everything of theirs"
            + (f", and the files of their {files} messages sent, in {folder}" if files else "")
        )
        if "paypal" not in signing.providers and "paypal" in settings.payment_providers:
            progress(
                "  note: no PayPal signer whose certificate the services can fetch (real PayPal "
                "keys are set): every purchase goes through Stripe"
            )
        c = cast_.plan(scale, random_seed, now.replace(minute=0, second=0, microsecond=0))
        try:
            p = _play(stage, c, scale, now, signing, progress)
        finally:
            if stage.calendars is not None:
                stage.calendars.close()
    with db.connect(settings) as conn:
        wrong = _check(conn, p)
        if wrong:
            raise StackError(
                "seed: the database disagrees with the storylines:\n  " + "\n  ".join(wrong)
            )
        summary = _summary(conn, c)
    if p.calendars is not None:
        summary["calendars_connected"] = len(p.calendars.connected)
    progress(f"  done in {time.monotonic() - started:.1f} s")
    return summary
