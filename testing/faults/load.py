"""A steady mixed load on a stack, recording every request (bench/load.py is its command):

- `book`: a student books a random slot of their mentor (2 to 50 days ahead, on the grid) through
  PostgREST's book_session with their JWT, then `cancel` cancels it (credit restored); a cancel
  that fails is tried again until it answers;
- `availability`: anyone reads a mentor's bookable slots (mentor_availability, a week);
- `webhook`: a signed Stripe checkout.session.completed paying one of the pending orders, posted
  to the services; each event id sent again (signed anew) until it gets a 2xx, as Stripe retries;
- `dashboard`: the REST reads a student's and a mentor's pages make (packs, sessions, messages).

Each kind runs in threads of its own at its rate (requests per second; a slow answer slows that
thread only). Every request is a Sample (start and end wall time, kind, status; 0 for a
connection error or timeout), so a test can find the failure window (5xx, 429, no answer) and
the load held, by kind."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import httpx

from mentorships import jwt
from mentorships.settings import Settings
from testing.events import encode, sign_stripe, stripe_checkout_session, stripe_event
from testing.faults.world import LoadWorld, Order, Student

KINDS = ("book", "cancel", "availability", "webhook", "dashboard")
DEFAULT_RATES = {"book": 4.0, "availability": 4.0, "webhook": 2.0, "dashboard": 4.0}
TIMEOUT = 5.0  # seconds a request may take before it counts as failed (status 0)
THREADS = 2  # per kind


def slot(rng: random.Random) -> dt.datetime:
    """A random start on the half-hour grid, 2 to 50 days ahead."""
    day = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return day + dt.timedelta(days=rng.randint(2, 50), minutes=30 * rng.randint(0, 47))


@dataclass(frozen=True)
class Sample:
    kind: str
    started: float  # time.time()
    ended: float
    status: int  # 0: no answer (refused, reset, timed out)

    @property
    def failed(self) -> bool:
        """No answer, a 5xx, or a 429 (the gateway refused it: the load was not held)."""
        return self.status in (0, 429) or self.status >= 500


@dataclass
class Event:
    order: Order
    event_id: str
    body: bytes
    sends: int = 0
    acked_at: float | None = None


@dataclass
class Load:
    settings: Settings
    world: LoadWorld
    webhook_secret: str
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    seed: int = 1
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    booked: int = 0
    to_cancel: deque[tuple[Student, str]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pending: deque[Event] = deque()

    # --- running

    def add_orders(self, orders: list[Order]) -> None:
        """Orders the webhooks pay, one event each (in this order)."""
        for o in orders:
            session = stripe_checkout_session(
                order_id=o.id,
                amount_total=o.amount_cents,
                currency=o.currency,
                payment_intent=f"pi_{uuid.uuid4().hex[:24]}",
            )
            event = stripe_event("checkout.session.completed", session)
            e = Event(o, event["id"], encode(event))
            self.events.append(e)
            self._pending.append(e)

    def start(self) -> None:
        work = {
            "book": self._book,
            "availability": self._availability,
            "webhook": self._webhook,
            "dashboard": self._dashboard,
        }
        for kind, rate in self.rates.items():
            if rate <= 0:
                continue
            for i in range(THREADS):
                rng = random.Random(f"{self.seed}-{kind}-{i}")
                t = threading.Thread(
                    target=self._loop, args=(work[kind], rate / THREADS, rng), daemon=True
                )
                t.start()
                self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(TIMEOUT * 3)
        self._threads.clear()

    def run(self, seconds: float) -> None:
        self.start()
        try:
            time.sleep(seconds)
        finally:
            self.stop()

    def drain(self, timeout: float = 60) -> list[Event]:
        """After stop: sends every unacknowledged event and cancel until answered; the events
        still not acknowledged after `timeout` seconds."""
        rng = random.Random(self.seed)
        with httpx.Client(timeout=TIMEOUT) as http:
            deadline = time.monotonic() + timeout
            while (self._pending or self.to_cancel) and time.monotonic() < deadline:
                if self._pending:
                    self._webhook(http, rng)
                if self.to_cancel:
                    self._cancel_one(http)
                if self._pending or self.to_cancel:
                    time.sleep(0.2)
        return [e for e in self.events if e.acked_at is None]

    def _loop(self, step: object, rate: float, rng: random.Random) -> None:
        assert callable(step)
        interval = 1 / rate
        nxt = time.monotonic() + rng.random() * interval
        with httpx.Client(timeout=TIMEOUT) as http:
            while not self._stop.is_set():
                wait = nxt - time.monotonic()
                if wait > 0 and self._stop.wait(wait):
                    break
                nxt = max(nxt + interval, time.monotonic() - interval)
                step(http, rng)

    def _call(
        self, kind: str, http: httpx.Client, method: str, url: str, **kw: object
    ) -> httpx.Response | None:
        started = time.time()
        try:
            r = http.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError:
            self.samples.append(Sample(kind, started, time.time(), 0))
            return None
        self.samples.append(Sample(kind, started, time.time(), r.status_code))
        return r

    def _headers(self, user: uuid.UUID | None) -> dict[str, str]:
        h = {"apikey": jwt.anon_key(self.settings)}
        if user is not None:
            h["Authorization"] = f"Bearer {self.world.token(user)}"
        return h

    # --- the kinds

    def _book(self, http: httpx.Client, rng: random.Random) -> None:
        student = rng.choice(self.world.students)
        session = self._book_slot(http, rng, student)
        if session is not None:
            with self._lock:
                self.booked += 1
            self.to_cancel.append((student, session))
            self._cancel_one(http)

    def _book_slot(self, http: httpx.Client, rng: random.Random, student: Student) -> str | None:
        """A random slot booked for the student: the session's id (None: refused or failed)."""
        r = self._call(
            "book",
            http,
            "POST",
            f"{self.settings.rest_url}/rpc/book_session",
            json={"pack_id": str(student.pack), "starts_at": slot(rng).isoformat()},
            headers=self._headers(student.id),
        )
        return str(r.json()["id"]) if r is not None and r.status_code == 200 else None

    def keep(self, count: int, tries: int = 20) -> list[str]:
        """Books `count` sessions for students with Discord linked and keeps them (the load's own
        bookings are canceled at once, which voids their messages and leaves Google nothing to
        write): each queues an email and a Discord message and a calendar job. Answers the
        sessions' ids; a slot taken meanwhile is tried again elsewhere (`tries` in all)."""
        linked = [s for s in self.world.students if s.discord]
        rng = random.Random(f"{self.seed}-keep-{len(self.samples)}")
        kept: list[str] = []
        with httpx.Client(timeout=TIMEOUT) as http:
            for _ in range(tries):
                if len(kept) == count:
                    break
                session = self._book_slot(http, rng, rng.choice(linked))
                if session is not None:
                    kept.append(session)
        return kept

    def _cancel_one(self, http: httpx.Client) -> None:
        try:
            student, session = self.to_cancel.popleft()
        except IndexError:
            return
        r = self._call(
            "cancel",
            http,
            "POST",
            f"{self.settings.rest_url}/rpc/cancel_session",
            json={"session_id": session},
            headers=self._headers(student.id),
        )
        if r is None or r.status_code >= 500:
            self.to_cancel.append((student, session))

    def _availability(self, http: httpx.Client, rng: random.Random) -> None:
        mentor = rng.choice(self.world.mentors).mentor
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=rng.randint(1, 40))
        self._call(
            "availability",
            http,
            "GET",
            f"{self.settings.rest_url}/rpc/mentor_availability",
            params={
                "mentor_id": str(mentor),
                "from_at": start.isoformat(),
                "to_at": (start + dt.timedelta(days=7)).isoformat(),
            },
            headers=self._headers(None),
        )

    def _webhook(self, http: httpx.Client, rng: random.Random) -> None:
        try:
            e = self._pending.popleft()
        except IndexError:
            return
        e.sends += 1
        r = self._call(
            "webhook",
            http,
            "POST",
            f"{self.settings.services_url}/webhooks/stripe",
            content=e.body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": sign_stripe(e.body, self.webhook_secret),
            },
        )
        if r is not None and 200 <= r.status_code < 300:
            e.acked_at = time.time()
        else:
            self._pending.append(e)  # Stripe tries again later

    def _dashboard(self, http: httpx.Client, rng: random.Random) -> None:
        student = rng.choice(self.world.students)
        rest = self.settings.rest_url
        if rng.random() < 0.5:
            who, reads = (
                student.id,
                [
                    f"{rest}/session_packs?select=*&student_id=eq.{student.id}",
                    f"{rest}/sessions?select=*&student_id=eq.{student.id}"
                    "&order=starts_at.desc&limit=20",
                ],
            )
        else:
            who, reads = (
                student.mentor,
                [
                    f"{rest}/sessions?select=*&mentor_id=eq.{student.mentor}"
                    "&status=eq.scheduled&order=starts_at&limit=50",
                    f"{rest}/notifications?select=*&order=created_at.desc&limit=20",
                ],
            )
        for url in reads:
            self._call("dashboard", http, "GET", url, headers=self._headers(who))
