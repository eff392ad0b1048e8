"""The storylines: what each student does, as a timeline of real calls. A storyline is a
generator that yields the instant it wants to act next; demo/play.py resumes it there with the
clock frozen at that instant, and the rules answer (a slot comes from mentor_availability, a
refusal sends the student to the next slot or mentor). Each storyline ends by saying the states
it expects its rows to be in; demo/play.py checks them when the whole history has played."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Generator
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from demo.cast import DAY, HOUR, Cast, Mentor, Person, Product
from demo.stage import Refused, Stage

T = TypeVar("T")
Steps = Generator[dt.datetime, None, T]
MINUTE = dt.timedelta(minutes=1)
CONSUMING = ("completed", "student_no_show", "late_canceled")


class Play:
    """What the storylines share: the stage, the cast, the expectations and the bookkeeping of
    who is whose mentor and which prices went up."""

    def __init__(
        self,
        stage: Stage,
        cast: Cast,
        now: dt.datetime,
        providers: tuple[str, ...],
        spawn: Callable[[str, Steps[None]], None],
    ) -> None:
        self.stage, self.cast, self.now, self.providers, self.spawn = (
            stage,
            cast,
            now,
            providers,
            spawn,
        )
        self.rng = cast.rng
        self.expected: list[tuple[str, str, uuid.UUID, str]] = []  # (story, table, id, status)
        self.raised: set[uuid.UUID] = set()
        self.taken: set[object] = set()  # targets of the released storylines already told
        self.mentors_of: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.turn = 0
        self.counters: dict[str, int] = {}

    def nth(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind] - 1

    def expect(self, story: str, table: str, row_id: Any, status: str) -> None:
        self.expected.append((story, table, uuid.UUID(str(row_id)), status))

    def promo(self, code: str, st: Person) -> str | None:
        """The code, when it is valid now and the student has not used it (the rules refuse it
        otherwise; a student would not type it)."""
        promo = next(x for x in self.cast.promos if x["code"] == code)
        if (
            not promo["valid_from"] <= self.stage.now < promo["valid_until"]
            or (code, st.id) in self.taken
        ):
            return None
        self.taken.add((code, st.id))
        return code

    def minutes(self, lo: int, hi: int) -> dt.timedelta:
        return dt.timedelta(minutes=self.rng.randint(lo, hi))

    def hours(self, lo: float, hi: float) -> dt.timedelta:
        return dt.timedelta(minutes=round(self.rng.uniform(lo, hi) * 60))

    def provider(self) -> str:
        if len(self.providers) == 1:
            return self.providers[0]
        return "stripe" if self.rng.random() < 0.7 else "paypal"

    def live_mentors(self, st: Person) -> list[Mentor]:
        """Listed mentors in turn, so students spread over them."""
        listed = [m for m in self.cast.mentors if not m.leaves]
        self.turn += 1
        return listed[self.turn % len(listed) :] + listed[: self.turn % len(listed)]

    # purchases --------------------------------------------------------------------------------

    def order(
        self,
        st: Person,
        mentors: list[Mentor],
        pick: Callable[[Mentor], Product | None],
        promo: str | None = None,
        provider: str | None = None,
    ) -> tuple[Mentor, Product, dict[str, Any]] | None:
        """create_order with the first of `mentors` who has a seat for the student (the rules
        say), skipping mentors the student already has unless only one is named (a renewal)."""
        mine = self.mentors_of.setdefault(st.id, set())
        for m in mentors:
            product = pick(m)
            if product is None or (m.id in mine and len(mentors) > 1):
                continue
            try:
                order = self.stage.create_order(
                    st.id, st.email, product.id, provider or self.provider(), promo
                )
            except Refused as e:
                if e.code != "PT409":
                    raise
                continue
            mine.add(m.id)
            return m, product, order
        return None

    def product(
        self,
        sessions: int | None = None,
        validity: int | None = None,
    ) -> Callable[[Mentor], Product | None]:
        """Picks one of a mentor's products: of `sessions` if there is one; of `validity`
        days or none."""

        def pick(m: Mentor) -> Product | None:
            on_sale = [p for p in m.on_sale() if validity in (None, p.validity_days)]
            preferred = [p for p in on_sale if p.sessions == sessions]
            return self.rng.choice(preferred or on_sale) if on_sale else None

        return pick

    def buy(
        self,
        st: Person,
        mentors: list[Mentor],
        pick: Callable[[Mentor], Product | None],
        promo: str | None = None,
    ) -> Steps[tuple[Mentor, Product, dict[str, Any], uuid.UUID] | None]:
        """An order, paid a few minutes later through the provider's webhook: the pack."""
        got = self.order(st, mentors, pick, promo)
        if got is None:
            return None
        yield self.stage.now + self.minutes(3, 25)
        answer = self.stage.paid(got[2])
        return (*got, uuid.UUID(answer["pack_id"]))

    # sessions ---------------------------------------------------------------------------------

    def book(
        self,
        st: Person,
        m: Mentor,
        pack: uuid.UUID,
        lo: dt.datetime,
        hi: dt.datetime,
    ) -> dict[str, Any] | None:
        """A slot of the mentor's in [lo, hi], at an hour the student is awake if there is one."""
        slots = self.stage.slots(m.id, lo, hi)
        zone = ZoneInfo(st.zone)
        awake = [s for s in slots if 8 <= s.astimezone(zone).hour <= 21]
        others = [s for s in slots if s not in awake]
        for start in self.rng.sample(awake, len(awake)) + self.rng.sample(others, len(others)):
            try:
                return self.stage.rpc(
                    st.id, "book_session", pack_id=pack, starts_at=start.isoformat()
                )
            except Refused as e:  # the student has another session then; the pack runs out
                if e.code not in ("PT409", "PT422"):
                    raise
        return None

    def session(
        self, st: Person, m: Mentor, pack: uuid.UUID, outcome: str, lo: dt.datetime, hi: dt.datetime
    ) -> Steps[bool]:
        """Books a slot in [lo, hi] a few days ahead, then plays it out as `outcome`."""
        words, rng, stage = self.cast.words, self.rng, self.stage
        if stage.now < lo - 3 * DAY:
            yield lo - self.hours(24, 72)
        s = self.book(st, m, pack, max(lo, stage.now + HOUR), hi)
        if s is None:
            return False
        sid = s["id"]
        start = dt.datetime.fromisoformat(s["starts_at"])
        end = dt.datetime.fromisoformat(s["ends_at"])
        if outcome == "canceled":
            by_mentor = rng.random() < 0.3
            latest = start - 25 * HOUR
            yield (
                stage.now + (latest - stage.now) * rng.random() if latest > stage.now else stage.now
            )
            who, reasons = (
                (m.id, "mentor_cancel_reasons") if by_mentor else (st.id, "student_cancel_reasons")
            )
            stage.rpc(who, "cancel_session", session_id=sid, reason=rng.choice(words[reasons]))
        elif outcome == "late_canceled":
            yield start - self.hours(2, 20)
            stage.rpc(
                st.id,
                "cancel_session",
                session_id=sid,
                reason=rng.choice(words["late_cancel_reasons"]),
            )
        elif outcome == "completed":
            yield min(end + self.minutes(5, 90), self.now - MINUTE)
            stage.rpc(
                m.id, "complete_session", session_id=sid, notes=rng.choice(words["session_notes"])
            )
        elif outcome == "student_no_show":
            yield start + 20 * MINUTE
            stage.rpc(m.id, "mark_no_show", session_id=sid, who="student")
        elif outcome == "mentor_no_show":
            yield end + 45 * MINUTE
            stage.rpc(self.cast.admin.id, "mark_no_show", session_id=sid, who="mentor")
        return True

    def series(
        self,
        st: Person,
        m: Mentor,
        pack: uuid.UUID,
        outcomes: list[str],
        lo: dt.datetime,
        hi: dt.datetime,
    ) -> Steps[int]:
        """Sessions spread over [lo, hi], one per outcome, in order; how many took place."""
        done = 0
        part = (hi - lo) / max(1, len(outcomes))
        for i, outcome in enumerate(outcomes):
            a = max(lo + part * i, self.stage.now + HOUR)
            if outcome == "canceled":
                a = max(a, self.stage.now + 3 * DAY)
            b = min(hi, max(lo + part * (i + 1), a + 2 * DAY))
            if b <= a:
                break
            if (yield from self.session(st, m, pack, outcome, a, b)) or (
                yield from self.session(st, m, pack, outcome, a, hi)
            ):
                done += 1
        return done

    def remaining(self, pack: uuid.UUID) -> int:
        return int(
            self.stage.one(
                "select remaining_sessions from public.session_packs where id = %s", (pack,)
            )
        )

    def used_up(
        self,
        st: Person,
        m: Mentor,
        pack: uuid.UUID,
        lo: dt.datetime,
        last_lo: dt.datetime,
        last_hi: dt.datetime,
    ) -> Steps[None]:
        """Every credit used: sessions over [lo, last_lo], the last one in [last_lo, last_hi]."""
        total = self.remaining(pack)
        outcomes = ["completed"] * total
        if self.rng.random() < 0.3:
            outcomes[self.rng.randrange(total - 1)] = "student_no_show"
        if self.rng.random() < 0.3:
            outcomes.insert(
                self.rng.randrange(total), self.rng.choice(("canceled", "mentor_no_show"))
            )
        yield from self.series(st, m, pack, outcomes[:-1], lo, last_lo - DAY)
        while self.remaining(pack) > 1 and self.stage.now < last_lo - 2 * DAY:
            yield from self.session(st, m, pack, "completed", self.stage.now + DAY, last_lo - DAY)
        if self.remaining(pack) == 1:
            (yield from self.session(st, m, pack, outcomes[-1], last_lo, last_hi)) or (
                yield from self.session(st, m, pack, "completed", last_lo - 5 * DAY, last_hi)
            )

    def upcoming(self, st: Person, m: Mentor, pack: uuid.UUID, count: int) -> Steps[None]:
        """Sessions booked in the last two days, about a week apart from tomorrow; now and then
        the student moves one."""
        yield max(self.stage.now, self.cast.anchor - self.hours(1, 48))
        booked = []
        for i in range(min(count, self.remaining(pack))):
            lo = self.cast.anchor + DAY + 7 * DAY * i
            s = self.book(st, m, pack, lo, lo + 7 * DAY) or self.book(
                st, m, pack, lo, lo + 21 * DAY
            )
            booked += [s] if s else []
        if booked and self.rng.random() < 0.2:
            yield self.stage.now + self.minutes(10, 50)
            s = booked[-1]
            start = dt.datetime.fromisoformat(s["starts_at"])
            for new in self.stage.slots(m.id, start + DAY, start + 8 * DAY)[:8]:
                try:
                    self.stage.rpc(
                        st.id, "reschedule_session", session_id=s["id"], starts_at=new.isoformat()
                    )
                    break
                except Refused as e:
                    if e.code not in ("PT409", "PT422"):
                        raise

    def raise_price(self, m: Mentor, product: Product) -> Steps[None]:
        """Forty days ago the mentor raised this price: earlier buyers keep theirs."""
        if product.id in self.raised:
            return
        self.raised.add(product.id)
        yield self.cast.anchor - 40 * DAY
        product.price_cents += self.rng.choice((2000, 3000, 4000))
        self.stage.as_person(
            m.id,
            "update public.mentorship_products set price_cents = %s where id = %s returning id",
            (product.price_cents, product.id),
        )


# --- the storylines (each: its first instant, then the calls) ---------------------------------


def active_new(p: Play, st: Person, label: str) -> Steps[None]:
    n = p.nth("active_new")
    yield p.cast.days_ago(2, 20)
    got = yield from p.buy(
        st, p.live_mentors(st), p.product(), p.promo("DEMO-WELCOME10", st) if n % 3 == 0 else None
    )
    if got is None:
        return
    m, _, _, pack = got
    if p.stage.now < p.cast.anchor - 8 * DAY and p.rng.random() < 0.7:
        yield from p.series(
            st, m, pack, ["completed"], p.stage.now + 2 * DAY, p.cast.anchor - 2 * HOUR
        )
    if n % 4 == 1:  # a session the student canceled in time: the credit came back
        yield max(p.stage.now, p.cast.anchor - p.hours(30, 60))
        s = p.book(st, m, pack, p.cast.anchor + 2 * DAY, p.cast.anchor + 16 * DAY)
        if s:
            yield p.stage.now + p.hours(1, 20)
            p.stage.rpc(
                st.id,
                "cancel_session",
                session_id=s["id"],
                reason=p.rng.choice(p.cast.words["student_cancel_reasons"]),
            )
    yield from p.upcoming(st, m, pack, p.rng.randint(1, 2))
    p.expect(label, "session_packs", pack, "active")


def active_mid(p: Play, st: Person, label: str) -> Steps[None]:
    n, rng = p.nth("active_mid"), p.rng
    yield p.cast.days_ago(30, 55)
    mentors = [p.cast.mentors[0]] if st.index == 1 else p.live_mentors(st)
    got = yield from p.buy(
        st, mentors, p.product(), p.promo("DEMO-INKLAB25", st) if n == 0 else None
    )
    if got is None:
        return
    m, product, order, pack = got
    total = product.sessions
    weeks = int((p.cast.anchor - p.stage.now) / (7 * DAY))
    most = max(1, min(total - 1, weeks))
    outcomes = rng.choices(
        CONSUMING, weights=(16, 1, 1), k=rng.randint(min(most, max(1, total // 2)), most)
    )
    if n == 0 and "late_canceled" not in outcomes:
        outcomes[-1] = "late_canceled"
    if rng.random() < 0.3 or n == 0:
        outcomes.insert(rng.randrange(len(outcomes) + 1), "canceled")
    if n == 1:
        outcomes[0] = "student_no_show"
        outcomes.insert(1, "mentor_no_show")
    yield from p.series(st, m, pack, outcomes, p.stage.now + 5 * DAY, p.cast.anchor - 2 * HOUR)
    if n == 0:  # an admin gave a make-up session; the student started a renewal and left it
        yield p.stage.now + 30 * MINUTE
        p.stage.rpc(
            p.cast.admin.id,
            "adjust_pack_sessions",
            pack_id=pack,
            delta=1,
            reason=p.cast.words["make_up_reason"],
        )
        yield max(p.stage.now, p.cast.days_ago(1, 5))
        first = p.provider()
        if len(p.providers) > 1:  # switched provider: create_order cancels the first checkout
            p.expect(
                label,
                "orders",
                p.stage.create_order(st.id, st.email, product.id, first, None)["id"],
                "canceled",
            )
            yield p.stage.now + p.minutes(2, 6)
            first = "paypal" if first == "stripe" else "stripe"
        renewal = p.stage.create_order(st.id, st.email, product.id, first, None)
        p.expect(label, "orders", renewal["id"], "expired")
        if first == "stripe":
            yield dt.datetime.fromisoformat(renewal["expires_at"])
            p.stage.checkout_expired(renewal)
    if n == 1:  # one session's worth refunded: recorded, the admins told
        yield max(p.stage.now, p.cast.days_ago(1, 6))
        part = int(order["amount_cents"]) // total
        p.stage.refunded(order, part, part, "partially_refunded")
    yield from p.upcoming(st, m, pack, rng.randint(1, 2))
    p.expect(label, "session_packs", pack, "active")


def renewed(p: Play, st: Person, label: str) -> Steps[None]:
    """Used up a pack, renewed it in grace at the price of before the rise."""
    yield p.cast.days_ago(60, 80)
    got = yield from p.buy(st, p.live_mentors(st), p.product(sessions=4))
    if got is None:
        return
    m, product, _, pack = got
    p.spawn(f"{label} (price)", p.raise_price(m, product))
    last = p.cast.anchor - 24 * DAY
    yield from p.used_up(st, m, pack, p.stage.now + 4 * DAY, last, last + 7 * DAY)
    yield p.stage.now + p.hours(6, 60)
    again = yield from p.buy(st, [m], lambda _: product)
    if again is None:
        return
    pack2 = again[3]
    yield from p.series(
        st,
        m,
        pack2,
        ["completed"] * p.rng.randint(0, 2),
        p.stage.now + 2 * DAY,
        p.cast.anchor - 2 * HOUR,
    )
    yield from p.upcoming(st, m, pack2, p.rng.randint(1, 2))
    p.expect(label, "session_packs", pack, "depleted")
    p.expect(label, "session_packs", pack2, "active")


def grace_depleted(p: Play, st: Person, label: str) -> Steps[None]:
    yield p.cast.days_ago(40, 70)
    got = yield from p.buy(st, p.live_mentors(st), p.product(sessions=4))
    if got is None:
        return
    m, _, _, pack = got
    yield from p.used_up(
        st, m, pack, p.stage.now + 4 * DAY, p.cast.anchor - 66 * HOUR, p.cast.anchor - 2 * HOUR
    )
    p.expect(label, "session_packs", pack, "depleted")
    p.expect(
        label,
        "seat_reservations",
        p.stage.one("select seat_reservation_id from public.session_packs where id = %s", (pack,)),
        "grace",
    )


def expired(
    p: Play,
    st: Person,
    label: str,
    mentors: list[Mentor],
    pick: Callable[[Mentor], Product | None],
    grace: str,
) -> Steps[None]:
    got = yield from p.buy(st, mentors, pick)
    if got is None:
        return
    m, bought, _, pack = got
    expires = p.stage.now + bought.validity_days * DAY
    used = p.rng.randint(1, max(1, bought.sessions // 2))
    yield from p.series(
        st,
        m,
        pack,
        ["completed"] * used,
        p.stage.now + 4 * DAY,
        min(expires - 5 * DAY, p.cast.anchor - 2 * HOUR),
    )
    p.expect(label, "session_packs", pack, "expired")
    p.expect(
        label,
        "seat_reservations",
        p.stage.one("select seat_reservation_id from public.session_packs where id = %s", (pack,)),
        grace,
    )


def grace_expired(p: Play, st: Person, label: str) -> Steps[None]:
    """The pack ran out of time two days ago; the seat is in grace."""
    mentors = p.live_mentors(st)
    days = p.rng.choice(mentors[0].on_sale()).validity_days
    yield p.cast.anchor - days * DAY - p.hours(8, 60)
    yield from expired(p, st, label, mentors, p.product(validity=days), "grace")


def released(p: Play, st: Person, label: str) -> Steps[None]:
    """An earlier student: pack used up (or expired) months ago, seat released after grace.
    Each block's leaving mentor and retired product had such students."""
    target = next((t for t in p.cast.targets if t not in p.taken), None) if st.index != 1 else None
    mentors = [m for m in p.cast.mentors if not m.leaves] if st.index == 1 else list(p.cast.mentors)
    p.rng.shuffle(mentors)
    product: Product | None = None
    if target:
        p.taken.add(target)
        m = next(m for m in p.cast.mentors if m.person.email == target)
        mentors = [m, *(x for x in mentors if x is not m)]
        product = next((x for x in m.products if x.retired), None)

    if p.rng.random() < 0.25:
        days = (product or p.rng.choice(mentors[0].products)).validity_days
        yield p.cast.days_ago(days + 20, days + 90)
        pick = p.product(validity=days)
        yield from expired(
            p,
            st,
            label,
            mentors,
            lambda m: product if product in m.products else pick(m),
            "released",
        )
        return

    def pick_any(m: Mentor) -> Product | None:
        return product if product in m.products else p.product()(m)

    yield p.cast.days_ago(110, 220)
    got = yield from p.buy(st, mentors, pick_any, p.promo("DEMO-SPRING20", st))
    if got is None:
        return
    m, bought, _, pack = got
    last = p.stage.now + (7 * bought.sessions + 5) * DAY
    yield from p.used_up(st, m, pack, p.stage.now + 4 * DAY, last, last + 10 * DAY)
    p.expect(
        label,
        "seat_reservations",
        p.stage.one("select seat_reservation_id from public.session_packs where id = %s", (pack,)),
        "released",
    )


def refunded(p: Play, st: Person, label: str) -> Steps[None]:
    """Refunded in full: the upcoming session canceled, the seat freed."""
    yield p.cast.days_ago(12, 25)
    got = yield from p.buy(st, p.live_mentors(st), p.product())
    if got is None:
        return
    m, _, order, pack = got
    refund_at = p.cast.days_ago(1, 4)
    yield from p.series(st, m, pack, ["completed"], p.stage.now + 3 * DAY, refund_at - 12 * HOUR)
    yield max(p.stage.now, refund_at - p.hours(24, 48))
    p.book(st, m, pack, p.cast.anchor + 2 * DAY, p.cast.anchor + 14 * DAY)
    yield refund_at
    p.stage.refunded(order, int(order["amount_cents"]), int(order["amount_cents"]), "refunded")
    p.expect(label, "orders", order["id"], "refunded")
    p.expect(label, "session_packs", pack, "refunded")


def hold(p: Play, st: Person, label: str) -> Steps[None]:
    """At checkout right now: the seat is held for them."""
    yield p.now - p.minutes(2, 15)
    got = p.order(
        st,
        p.live_mentors(st),
        p.product(),
        p.promo("DEMO-WELCOME10", st) if p.nth("hold") == 0 else None,
    )
    if got:
        p.expect(label, "orders", got[2]["id"], "pending")
        p.expect(label, "seat_reservations", got[2]["seat_reservation_id"], "hold")


def hold_expired(p: Play, st: Person, label: str) -> Steps[None]:
    """Left a checkout: Stripe says it expired; a PayPal one the hold job ends."""
    yield p.cast.days_ago(1, 12)
    got = p.order(st, p.live_mentors(st), p.product())
    if got is None:
        return
    order = got[2]
    if order["provider"] == "stripe":
        yield dt.datetime.fromisoformat(order["expires_at"])
        p.stage.checkout_expired(order)
    p.expect(label, "orders", order["id"], "expired")
    p.expect(label, "seat_reservations", order["seat_reservation_id"], "released")


def flagged(p: Play, st: Person, label: str) -> Steps[None]:
    """Paid less than the order says: recorded and flagged, nothing granted; the hold ran out."""
    yield p.cast.days_ago(2, 8)
    got = p.order(st, p.live_mentors(st), p.product())
    if got is None:
        return
    order = got[2]
    yield p.stage.now + p.minutes(3, 20)
    amount = int(order["amount_cents"])
    p.stage.paid(order, amount - 5000 if amount > 5000 else amount // 2, expect="flagged")
    p.expect(label, "orders", order["id"], "flagged")
    p.expect(label, "seat_reservations", order["seat_reservation_id"], "released")


def browsing(p: Play, st: Person, label: str) -> Steps[None]:
    yield p.cast.days_ago(1, 30)


STORIES: dict[str, Callable[[Play, Person, str], Steps[None]]] = {
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
