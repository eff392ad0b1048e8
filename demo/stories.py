"""The storylines: what each student does, as a timeline of real calls. A storyline is a
generator that yields the instant it wants to act next; demo/play.py resumes it there with the
clock frozen at that instant, and the rules answer (slots come from mentor_availability; a
refusal sends the student to the next slot or mentor). Each storyline says which states it
expects its rows to end in; demo/play.py checks them once the whole history has played."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from demo.cast import DAY, HOUR, Cast, Mentor, Person, Product
from demo.stage import Refused, Stage

T = TypeVar("T")
Steps = Generator[dt.datetime, None, T]
Pick = Callable[[Mentor], Product | None]
MINUTE = dt.timedelta(minutes=1)
RETRY = ("PT409", "PT422")  # slot taken, the student busy then, the pack running out first


@dataclass(eq=False)
class Play:
    """What the storylines share: the stage, the cast, who already has which mentor, what was
    done once (targets told, codes used, prices raised) and what every storyline expects."""

    stage: Stage
    cast: Cast
    now: dt.datetime  # where the history ends
    providers: tuple[str, ...]
    spawn: Callable[[str, Steps[None]], None]  # another storyline, played beside
    expected: list[tuple[str, str, uuid.UUID, str]] = field(default_factory=list)
    done: set[object] = field(default_factory=set)
    mentors_of: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    turn: int = 0
    calendars: Any = None  # demo.calendars.Calendars in local Google mode


class Story:
    """One storyline of one student, and the moves every storyline makes."""

    def __init__(self, play: Play, student: Person, kind: str) -> None:
        self.p, self.st, self.label = play, student, f"{student.handle} ({kind})"
        self.stage, self.cast, self.rng = play.stage, play.cast, play.cast.rng
        self.n = play.counters[kind] = play.counters.get(kind, -1) + 1  # nth of its kind

    @property
    def now(self) -> dt.datetime:
        return self.stage.now

    def ago(self, lo: float, hi: float) -> dt.datetime:
        return self.cast.days_ago(lo, hi)

    def hours(self, lo: float, hi: float) -> dt.timedelta:
        return dt.timedelta(minutes=round(self.rng.uniform(lo, hi) * 60))

    def expect(self, table: str, row_id: Any, status: str) -> None:
        self.p.expected.append((self.label, table, uuid.UUID(str(row_id)), status))

    def word(self, kind: str) -> str:
        return str(self.rng.choice(self.cast.words[kind]))

    def promo(self, code: str) -> str | None:
        """The code, if valid now and not used by this student yet (they would not type it)."""
        promo = next(x for x in self.cast.promos if x["code"] == code)
        if (
            not promo["valid_from"] <= self.now < promo["valid_until"]
            or (code, self.st) in self.p.done
        ):
            return None
        self.p.done.add((code, self.st))
        return code

    def provider(self) -> str:
        providers = self.p.providers
        return providers[0] if len(providers) == 1 else self.rng.choices(providers, (7, 3))[0]

    def live_mentors(self) -> list[Mentor]:
        """The listed mentors, each storyline starting with the next, so students spread."""
        listed = [m for m in self.cast.mentors if not m.leaves]
        self.p.turn += 1
        k = self.p.turn % len(listed)
        return listed[k:] + listed[:k]

    def product(self, sessions: int | None = None, validity: int | None = None) -> Pick:
        """One of a mentor's products on sale: of `sessions` if it has one; of `validity` days
        or none."""

        def pick(m: Mentor) -> Product | None:
            on_sale = [x for x in m.on_sale() if validity in (None, x.validity_days)]
            preferred = [x for x in on_sale if x.sessions == sessions]
            return self.rng.choice(preferred or on_sale) if on_sale else None

        return pick

    def order(
        self, mentors: list[Mentor], pick: Pick, promo: str | None = None
    ) -> tuple[Mentor, Product, dict[str, Any]] | None:
        """create_order with the first of `mentors` who has a seat for the student (the rules
        say), skipping mentors the student already has unless only one is named (a renewal)."""
        mine = self.p.mentors_of.setdefault(self.st.id, set())
        for m in mentors:
            product = pick(m)
            if product is None or (m.id in mine and len(mentors) > 1):
                continue
            try:
                order = self.stage.create_order(
                    self.st.id, self.st.email, product.id, self.provider(), promo
                )
            except Refused as e:
                if e.code != "PT409":
                    raise
                continue
            mine.add(m.id)
            return m, product, order
        return None

    def buy(
        self, mentors: list[Mentor], pick: Pick, promo: str | None = None
    ) -> Steps[Pack | None]:
        """An order, paid a few minutes later through the provider's webhook: the pack."""
        got = self.order(mentors, pick, promo)
        if got is None:
            return None
        yield self.now + dt.timedelta(minutes=self.rng.randint(3, 25))
        pack_id = uuid.UUID(self.stage.paid(got[2])["pack_id"])
        return Pack(self, *got, pack_id)


@dataclass(eq=False)
class Pack:
    """A pack a storyline bought, and the sessions of it."""

    s: Story
    mentor: Mentor
    product: Product
    order: dict[str, Any]
    id: uuid.UUID

    def remaining(self) -> int:
        row = self.s.stage.one(
            "select remaining_sessions from public.session_packs where id = %s", (self.id,)
        )
        return int(row)

    def expect(self, pack: str, seat: str | None = None) -> None:
        self.s.expect("session_packs", self.id, pack)
        if seat:
            self.s.expect("seat_reservations", self.order["seat_reservation_id"], seat)

    def book(self, lo: dt.datetime, hi: dt.datetime) -> dict[str, Any] | None:
        """A slot of the mentor's in [lo, hi], at an hour the student is awake if there is one."""
        s, zone = self.s, ZoneInfo(self.s.st.zone)
        slots = s.stage.slots(self.mentor.id, lo, hi)
        awake = [t for t in slots if 8 <= t.astimezone(zone).hour <= 21]
        others = [t for t in slots if t not in awake]
        for start in s.rng.sample(awake, len(awake)) + s.rng.sample(others, len(others)):
            try:
                return s.stage.rpc(
                    s.st.id, "book_session", pack_id=self.id, starts_at=start.isoformat()
                )
            except Refused as e:
                if e.code not in RETRY:
                    raise
        return None

    def session(self, outcome: str, lo: dt.datetime, hi: dt.datetime) -> Steps[bool]:
        """Books a slot in [lo, hi] a few days ahead, then plays it out as `outcome`."""
        s, rpc, m = self.s, self.s.stage.rpc, self.mentor
        if s.now < lo - 3 * DAY:
            yield lo - s.hours(24, 72)
        booked = self.book(max(lo, s.now + HOUR), hi)
        if booked is None:
            return False
        sid = booked["id"]
        start, end = (dt.datetime.fromisoformat(booked[k]) for k in ("starts_at", "ends_at"))
        if outcome == "canceled":  # in time: the credit comes back
            latest = start - 25 * HOUR
            yield s.now + max(latest - s.now, dt.timedelta()) * s.rng.random()
            who, why = (m.id, "mentor") if s.rng.random() < 0.3 else (s.st.id, "student")
            rpc(who, "cancel_session", session_id=sid, reason=s.word(f"{why}_cancel_reasons"))
        elif outcome == "late_canceled":
            yield start - s.hours(2, 20)
            rpc(s.st.id, "cancel_session", session_id=sid, reason=s.word("late_cancel_reasons"))
        elif outcome == "completed":
            yield min(end + dt.timedelta(minutes=s.rng.randint(5, 90)), s.p.now - MINUTE)
            rpc(m.id, "complete_session", session_id=sid, notes=s.word("session_notes"))
        elif outcome == "student_no_show":
            yield start + 20 * MINUTE
            rpc(m.id, "mark_no_show", session_id=sid, who="student")
        elif outcome == "mentor_no_show":  # the student told an admin
            yield end + 45 * MINUTE
            rpc(s.cast.admin.id, "mark_no_show", session_id=sid, who="mentor")
        return True

    def series(self, outcomes: list[str], lo: dt.datetime, hi: dt.datetime) -> Steps[None]:
        """Sessions spread over [lo, hi], one per outcome, in order."""
        part = (hi - lo) / max(1, len(outcomes))
        for i, outcome in enumerate(outcomes):
            a = max(lo + part * i, self.s.now + (3 * DAY if outcome == "canceled" else HOUR))
            b = min(hi, max(lo + part * (i + 1), a + 2 * DAY))
            if b <= a:
                return
            (yield from self.session(outcome, a, b)) or (yield from self.session(outcome, a, hi))

    def used_up(self, lo: dt.datetime, last_lo: dt.datetime, last_hi: dt.datetime) -> Steps[None]:
        """Every credit used: sessions over [lo, last_lo], the last one in [last_lo, last_hi]
        (the rules then deplete the pack and put the seat into grace)."""
        rng, total = self.s.rng, self.remaining()
        outcomes = ["completed"] * total
        if rng.random() < 0.3:
            outcomes[rng.randrange(total - 1)] = "student_no_show"
        if rng.random() < 0.3:
            outcomes.insert(rng.randrange(total), rng.choice(("canceled", "mentor_no_show")))
        yield from self.series(outcomes[:-1], lo, last_lo - DAY)
        while self.remaining() > 1 and self.s.now < last_lo - 2 * DAY:
            yield from self.session("completed", self.s.now + DAY, last_lo - DAY)
        if self.remaining() == 1:
            (yield from self.session(outcomes[-1], last_lo, last_hi)) or (
                yield from self.session("completed", last_lo - 5 * DAY, last_hi)
            )

    def upcoming(self, count: int) -> Steps[None]:
        """Sessions booked in the last two days, about a week apart from tomorrow; now and
        then the student moves the last one."""
        s = self.s
        yield max(s.now, s.cast.anchor - s.hours(1, 48))
        booked = []
        for i in range(min(count, self.remaining())):
            lo = s.cast.anchor + DAY + 7 * DAY * i
            booked.append(self.book(lo, lo + 7 * DAY) or self.book(lo, lo + 21 * DAY))
        last = booked[-1] if booked else None
        if last and s.rng.random() < 0.2:
            yield s.now + dt.timedelta(minutes=s.rng.randint(10, 50))
            start = dt.datetime.fromisoformat(last["starts_at"])
            for new in s.stage.slots(self.mentor.id, start + DAY, start + 8 * DAY)[:8]:
                try:
                    s.stage.rpc(
                        s.st.id,
                        "reschedule_session",
                        session_id=last["id"],
                        starts_at=new.isoformat(),
                    )
                    return
                except Refused as e:
                    if e.code not in RETRY:
                        raise

    def price_rise(self) -> Steps[None]:
        """Forty days ago the mentor raised this price: earlier buyers keep theirs."""
        if self.product in self.s.p.done:
            return
        self.s.p.done.add(self.product)
        yield self.s.cast.anchor - 40 * DAY
        self.product.price_cents += self.s.rng.choice((2000, 3000, 4000))
        self.s.stage.as_person(
            self.mentor.id,
            "update public.mentorship_products set price_cents = %s where id = %s returning id",
            (self.product.price_cents, self.product.id),
        )


# --- the storylines: the first instant, then the calls ------------------------------------------


def active_new(s: Story) -> Steps[None]:
    yield s.ago(2, 20)
    pack = yield from s.buy(
        s.live_mentors(), s.product(), s.promo("DEMO-WELCOME10") if s.n % 3 == 0 else None
    )
    if pack is None:
        return
    if s.now < s.cast.anchor - 8 * DAY and s.rng.random() < 0.7:
        yield from pack.series(["completed"], s.now + 2 * DAY, s.cast.anchor - 2 * HOUR)
    if s.n % 4 == 1:  # a session the student canceled in time: the credit came back
        yield max(s.now, s.cast.anchor - s.hours(30, 60))
        booked = pack.book(s.cast.anchor + 2 * DAY, s.cast.anchor + 16 * DAY)
        if booked:
            yield s.now + s.hours(1, 20)
            s.stage.rpc(
                s.st.id,
                "cancel_session",
                session_id=booked["id"],
                reason=s.word("student_cancel_reasons"),
            )
    yield from pack.upcoming(s.rng.randint(1, 2))
    pack.expect("active", "active")


def active_mid(s: Story) -> Steps[None]:
    """Half way through a pack; the first of them had an admin's make-up session and left a
    renewal checkout, the second a no-show each way and a partial refund."""
    rng = s.rng
    yield s.ago(30, 55)
    mentors = [s.cast.mentors[0]] if s.st.index == 1 else s.live_mentors()
    pack = yield from s.buy(mentors, s.product(), s.promo("DEMO-INKLAB25") if s.n == 0 else None)
    if pack is None:
        return
    total = pack.product.sessions
    most = max(1, min(total - 1, int((s.cast.anchor - s.now) / (7 * DAY))))
    k = rng.randint(min(most, max(1, total // 2)), most)
    outcomes = rng.choices(("completed", "student_no_show", "late_canceled"), (16, 1, 1), k=k)
    if s.n == 0 and "late_canceled" not in outcomes:
        outcomes[-1] = "late_canceled"
    if s.n == 1:  # before the in-time cancel goes in: this replaces an outcome that uses a credit
        outcomes[0:1] = ["student_no_show", "mentor_no_show"]
    if rng.random() < 0.3 or s.n == 0:
        outcomes.insert(rng.randrange(len(outcomes) + 1), "canceled")
    yield from pack.series(outcomes, s.now + 5 * DAY, s.cast.anchor - 2 * HOUR)
    if s.n == 0:
        yield s.now + 30 * MINUTE
        s.stage.rpc(
            s.cast.admin.id,
            "adjust_pack_sessions",
            pack_id=pack.id,
            delta=1,
            reason=s.cast.words["make_up_reason"],
        )
        yield max(s.now, s.ago(1, 5))
        provider = s.provider()
        if len(s.p.providers) > 1:  # switched provider: create_order cancels the first checkout
            first = s.stage.create_order(s.st.id, s.st.email, pack.product.id, provider, None)
            s.expect("orders", first["id"], "canceled")
            yield s.now + dt.timedelta(minutes=rng.randint(2, 6))
            provider = "paypal" if provider == "stripe" else "stripe"
        renewal = s.stage.create_order(s.st.id, s.st.email, pack.product.id, provider, None)
        s.expect("orders", renewal["id"], "expired")
        if provider == "stripe":  # a PayPal checkout has no such event: the hold job ends it
            yield dt.datetime.fromisoformat(renewal["expires_at"])
            s.stage.checkout_expired(renewal)
    if s.n == 1:  # one session's worth refunded: recorded, the admins told
        yield max(s.now, s.ago(1, 6))
        part = int(pack.order["amount_cents"]) // total
        s.stage.refunded(pack.order, part, part, "partially_refunded")
    yield from pack.upcoming(rng.randint(1, 2))
    pack.expect("active", "active")


def renewed(s: Story) -> Steps[None]:
    """Used up a pack and renewed it in grace, at the price from before the rise."""
    yield s.ago(60, 80)
    first = yield from s.buy(s.live_mentors(), s.product(sessions=4))
    if first is None:
        return
    s.p.spawn(f"{s.label}: price", first.price_rise())
    last = s.cast.anchor - 24 * DAY
    yield from first.used_up(s.now + 4 * DAY, last, last + 7 * DAY)
    yield s.now + s.hours(6, 60)
    pack = yield from s.buy([first.mentor], lambda _: first.product)
    if pack is None:
        return
    yield from pack.series(
        ["completed"] * s.rng.randint(0, 2), s.now + 2 * DAY, s.cast.anchor - 2 * HOUR
    )
    yield from pack.upcoming(s.rng.randint(1, 2))
    first.expect("depleted")
    pack.expect("active", "active")


def grace_depleted(s: Story) -> Steps[None]:
    """Used up the last session in the past three days: the seat is in grace."""
    yield s.ago(40, 70)
    pack = yield from s.buy(s.live_mentors(), s.product(sessions=4))
    if pack:
        yield from pack.used_up(
            s.now + 4 * DAY, s.cast.anchor - 66 * HOUR, s.cast.anchor - 2 * HOUR
        )
        pack.expect("depleted", "grace")


def expired(s: Story, mentors: list[Mentor], pick: Pick, seat: str) -> Steps[None]:
    """A pack that ran out of time with credits left; the rules put the seat into grace."""
    pack = yield from s.buy(mentors, pick)
    if pack:
        expires = s.now + pack.product.validity_days * DAY
        used = s.rng.randint(1, max(1, pack.product.sessions // 2))
        yield from pack.series(
            ["completed"] * used, s.now + 4 * DAY, min(expires - 5 * DAY, s.cast.anchor - 2 * HOUR)
        )
        pack.expect("expired", seat)


def grace_expired(s: Story) -> Steps[None]:
    mentors = s.live_mentors()
    days = s.rng.choice(mentors[0].on_sale()).validity_days
    yield s.cast.anchor - days * DAY - s.hours(8, 60)
    yield from expired(s, mentors, s.product(validity=days), "grace")


def released(s: Story) -> Steps[None]:
    """An earlier student: pack used up (or expired) months ago, seat released after grace.
    Each block's leaving mentor and retired product had such students."""
    p = s.p
    target = None if s.st.index == 1 else next((t for t in s.cast.targets if t not in p.done), None)
    mentors = [m for m in s.cast.mentors if not (m.leaves and s.st.index == 1)]
    s.rng.shuffle(mentors)
    retired: Product | None = None
    if target:
        p.done.add(target)
        m = next(m for m in s.cast.mentors if m.person.email == target)
        mentors = [m, *(x for x in mentors if x is not m)]
        retired = next((x for x in m.products if x.retired), None)

    def pick(any_product: Pick) -> Pick:
        return lambda m: retired if retired in m.products else any_product(m)

    if s.rng.random() < 0.25:
        days = (retired or s.rng.choice(mentors[0].products)).validity_days
        yield s.ago(days + 20, days + 90)
        yield from expired(s, mentors, pick(s.product(validity=days)), "released")
        return
    yield s.ago(110, 220)
    pack = yield from s.buy(mentors, pick(s.product()), s.promo("DEMO-SPRING20"))
    if pack:
        last = s.now + (7 * pack.product.sessions + 5) * DAY
        yield from pack.used_up(s.now + 4 * DAY, last, last + 10 * DAY)
        s.expect("seat_reservations", pack.order["seat_reservation_id"], "released")


def refunded(s: Story) -> Steps[None]:
    """Refunded in full: the upcoming session canceled, the seat freed."""
    yield s.ago(12, 25)
    pack = yield from s.buy(s.live_mentors(), s.product())
    if pack is None:
        return
    refund_at = s.ago(1, 4)
    yield from pack.series(["completed"], s.now + 3 * DAY, refund_at - 12 * HOUR)
    yield max(s.now, refund_at - s.hours(24, 48))
    pack.book(s.cast.anchor + 2 * DAY, s.cast.anchor + 14 * DAY)
    yield refund_at
    amount = int(pack.order["amount_cents"])
    s.stage.refunded(pack.order, amount, amount, "refunded")
    s.expect("orders", pack.order["id"], "refunded")
    pack.expect("refunded", "released")


def hold(s: Story) -> Steps[None]:
    """At checkout right now: the seat is held for them."""
    yield s.p.now - dt.timedelta(minutes=s.rng.randint(2, 15))
    got = s.order(s.live_mentors(), s.product(), s.promo("DEMO-WELCOME10") if s.n == 0 else None)
    if got:
        s.expect("orders", got[2]["id"], "pending")
        s.expect("seat_reservations", got[2]["seat_reservation_id"], "hold")


def hold_expired(s: Story) -> Steps[None]:
    """Left a checkout: Stripe says it expired; a PayPal one the hold job ends."""
    yield s.ago(1, 12)
    got = s.order(s.live_mentors(), s.product())
    if got is None:
        return
    order = got[2]
    if order["provider"] == "stripe":
        yield dt.datetime.fromisoformat(order["expires_at"])
        s.stage.checkout_expired(order)
    s.expect("orders", order["id"], "expired")
    s.expect("seat_reservations", order["seat_reservation_id"], "released")


def flagged(s: Story) -> Steps[None]:
    """Paid less than the order says: recorded and flagged, nothing granted; the hold ran out."""
    yield s.ago(2, 8)
    got = s.order(s.live_mentors(), s.product())
    if got is None:
        return
    order, amount = got[2], int(got[2]["amount_cents"])
    yield s.now + dt.timedelta(minutes=s.rng.randint(3, 20))
    s.stage.paid(order, amount - 5000 if amount > 5000 else amount // 2, expect="flagged")
    s.expect("orders", order["id"], "flagged")
    s.expect("seat_reservations", order["seat_reservation_id"], "released")


def browsing(s: Story) -> Steps[None]:
    yield s.ago(1, 30)  # signed up, looked around, bought nothing


STORIES: dict[str, Callable[[Story], Steps[None]]] = {
    f.__name__: f
    for f in (
        active_new,
        active_mid,
        renewed,
        grace_depleted,
        grace_expired,
        released,
        refunded,
        hold,
        hold_expired,
        flagged,
        browsing,
    )
}
