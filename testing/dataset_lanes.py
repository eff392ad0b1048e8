"""The benchmark data set's history, played lane by lane in Python (testing/dataset.py writes it).

Times are whole seconds since 1970 (UTC); each table is a list of COPY lines (tab-separated,
\\N for null) in the column order of its staging table."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from testing.dataset_shapes import (
    DAY,
    EMAIL_DOMAIN,
    GRACE,
    HISTORY_DAYS,
    HOLD,
    HORIZON_DAYS,
    HOUR,
    NOW,
    T_NOW,
    ZONES,
    Mentor,
    Product,
    Promo,
    line,
)

__all__ = ["NOW", "Plan", "Tables", "play"]


@dataclass(frozen=True)
class Plan:
    """The data set's shape for a number of sessions: ~300 mentors and ~40,000 students at 1M."""

    sessions: int
    mentors: int
    session_gap_s: float  # mean time between a lane's sessions while a pack is live

    @classmethod
    def for_sessions(cls, sessions: int, seed: int = 1) -> Plan:
        """The plan for about `sessions` sessions: the gap between a lane's sessions is
        calibrated on the first 60 mentors (the same seed plays them the same way)."""
        if sessions < 100:
            raise ValueError("--sessions takes 100 or more")
        mentors = max(3, round(sessions * 300 / 1_000_000))
        sample = min(mentors, 60)
        want = sessions * sample / mentors
        gap = 700 * DAY * 0.5 / (sessions / (mentors * 16))
        for _ in range(8):
            got = len(play(cls(sessions, sample, gap), random.Random(seed)).sessions)
            if abs(got / want - 1) < 0.02:
                break
            gap *= (got / want) ** 1.5
        return cls(sessions, mentors, gap)


@dataclass
class Tables:
    users: list[str] = field(default_factory=list)
    mentors: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    promos: list[str] = field(default_factory=list)
    seats: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    packs: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)


class History:
    """Plays every lane of every mentor into Tables."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.t = Tables()
        self.students = 0
        self.first_order: dict[str, int] = {}  # student -> their first order's time
        self.last_paid: dict[tuple[str, str], int] = {}  # (student, product) -> price paid
        self.promos: list[Promo] = []
        self.promo_users: set[str] = set()
        self.admins: list[str] = []
        self.ids = 0

    def uuid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def ref(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}_bench{self.ids:010d}"

    # --- people, catalog ---------------------------------------------------------------------
    def person(self, role: str, created: int, name: str, zone: str) -> str:
        pid = self.uuid()
        n = len(self.t.users)
        discord = str(10**17 + n) if role != "admin" and self.rng.random() < 0.3 else None
        email = f"{role}{n}@{EMAIL_DOMAIN}"
        self.t.users.append(line(pid, role, email, name, zone, discord, created))
        return pid

    def catalog(self) -> list[Mentor]:
        start = T_NOW - HISTORY_DAYS * DAY
        for i in range(3):
            self.admins.append(self.person("admin", start - 90 * DAY, f"Admin {i}", "UTC"))
        mentors = []
        for i in range(self.plan.mentors):
            rng = self.rng
            joined = (
                start - rng.randrange(30 * DAY)
                if rng.random() < 0.7
                else (start + rng.randrange(540 * DAY))
            )
            zone = ZONES[i % len(ZONES)]
            mid = self.person("mentor", joined, f"Mentor {i}", zone)
            currency = "eur" if i % 7 == 1 else "usd"  # one mentor in seven sells in eur
            price = rng.randrange(160, 481, 5) * 100
            raised = rng.randrange(joined + 60 * DAY, T_NOW + 200 * DAY)
            products = [Product(self.uuid(), 4, 90, price * 4 // 5, price, raised, currency)]
            if rng.random() < 0.5:
                p8 = price * 19 // 10
                products.append(Product(self.uuid(), 8, 120, p8 * 4 // 5, p8, raised, currency))
            lanes = rng.randrange(9, 24)
            capacity = lanes + 1 + rng.randrange(0, 3)  # + the holds' seat + some free ones
            self.t.mentors.append(
                line(mid, f"bench-mentor-{i}", f"Mentor {i}", zone, capacity, joined)
            )
            for p in products:
                self.t.products.append(
                    line(
                        p.id,
                        mid,
                        f"{p.sessions} sessions",
                        p.sessions,
                        p.validity_days,
                        p.price,
                        currency,
                        joined,
                    )
                )
            m = Mentor(mid, joined, ZoneInfo(zone), products, lanes=lanes)
            mentors.append(m)
            if rng.random() < 0.2:
                self.promo(25, None, None, joined, None, None, mid)
        for k in range(12):
            lo = start + k * 60 * DAY
            self.promo(10 + 5 * (k % 4), None, None, lo, lo + 45 * DAY, None, None)
        self.promo(15, None, None, start, None, None, None)
        self.promo(None, 5000, "usd", start, None, max(5, self.plan.sessions // 4000), None)
        self.promo(None, 4000, "eur", start, None, None, None)
        return mentors

    def promo(
        self,
        percent: int | None,
        amount: int | None,
        currency: str | None,
        valid_from: int,
        valid_until: int | None,
        max_redemptions: int | None,
        mentor_id: str | None,
    ) -> None:
        p = Promo(
            self.uuid(),
            percent,
            amount,
            currency,
            valid_from,
            valid_until,
            max_redemptions,
            mentor_id,
        )
        self.promos.append(p)
        code = f"BENCH{len(self.promos):03d}"
        self.t.promos.append(
            line(
                p.id,
                code,
                percent,
                amount,
                currency,
                valid_from,
                valid_until,
                max_redemptions,
                mentor_id,
                self.admins[0],
            )
        )

    # --- orders ------------------------------------------------------------------------------
    def order(
        self,
        m: Mentor,
        product: Product,
        student: str,
        seat: str,
        at: int,
        status: str,
        updated: int,
    ) -> tuple[str, int]:
        """An order created at `at`; returns its id and amount."""
        rng = self.rng
        self.first_order.setdefault(student, at)
        listed = product.price_at(at)
        last = self.last_paid.get((student, product.id))
        grandfathered = last if last is not None and last < listed else None
        base = grandfathered if grandfathered is not None else listed
        promo = None
        if student not in self.promo_users and rng.random() < 0.15:
            fitting = [p for p in self.promos if p.fits(at, m.id, product.currency)]
            if fitting:
                promo = rng.choice(fitting)
                if status not in ("expired", "canceled"):
                    promo.used += 1
                    self.promo_users.add(student)
        discount = promo.discount(base) if promo else 0
        provider = "stripe" if rng.random() < 0.75 else "paypal"
        oid = self.uuid()
        paid = at + 120 if status in ("paid", "refunded", "flagged") else None
        flagged = (
            "paid after the seat hold ran out, and the mentor has no free seat now"
            if status == "flagged"
            else None
        )
        self.t.orders.append(
            line(
                oid,
                student,
                m.id,
                product.id,
                seat,
                promo.id if promo else None,
                provider,
                status,
                listed,
                grandfathered,
                discount,
                base - discount,
                product.currency,
                self.ref("cs" if provider == "stripe" else "PAYID"),
                at + HOLD,
                paid if status != "flagged" else None,
                flagged,
                product.sessions,
                product.validity_days,
                at,
                updated,
            )
        )
        if paid is not None:
            refunded = 0
            pay_status = "succeeded"
            if status == "refunded":
                refunded, pay_status = base - discount, "refunded"
            elif status == "paid" and base - discount > 1 and rng.random() < 0.03:
                refunded = rng.randrange(1, (base - discount) // 2 + 1)
                pay_status = "partially_refunded"
            self.t.payments.append(
                line(
                    self.uuid(),
                    oid,
                    student,
                    provider,
                    self.ref("pi" if provider == "stripe" else "CAP"),
                    pay_status,
                    base - discount,
                    refunded,
                    product.currency,
                    paid,
                    max(updated, paid),
                )
            )
        if status == "paid":
            self.last_paid[(student, product.id)] = base
        return oid, base - discount

    def abandoned(self, m: Mentor, product: Product, student: str, before: int) -> None:
        """A checkout that never got paid (or got paid too late: flagged), with its hold."""
        rng = self.rng
        at = m.take_hold(before - rng.randrange(2 * HOUR, 3 * DAY))
        r = rng.random()
        status = "expired" if r < 0.75 else "canceled" if r < 0.95 else "flagged"
        seat = self.uuid()
        self.t.seats.append(
            line(
                seat,
                m.id,
                student,
                "released",
                at + HOLD,
                None,
                None,
                None,
                at + HOLD,
                "hold_expired",
                at,
                at + HOLD,
            )
        )
        self.order(m, product, student, seat, at, status, at + HOLD)

    # --- lanes -------------------------------------------------------------------------------
    def lane(self, m: Mentor, lane: int) -> None:
        rng = self.rng
        t = max(m.joined, T_NOW - HISTORY_DAYS * DAY) + rng.randrange(40 * DAY)
        previous: str | None = None
        while t < T_NOW:
            if previous is not None and rng.random() < 0.15:
                student = previous  # back after their seat was released
            else:
                self.students += 1
                student = self.person(
                    "student",
                    t - rng.randrange(4 * DAY, 30 * DAY),
                    f"Student {self.students}",
                    rng.choice(ZONES),
                )
            product = (
                m.products[0] if len(m.products) == 1 or rng.random() < 0.7 else (m.products[1])
            )
            if rng.random() < 0.1:
                self.abandoned(m, product, student, t)
            end = self.tenure(m, product, student, t)
            if end is None:
                return  # the seat is live at NOW
            previous = student
            t = end + rng.randrange(DAY // 2, 6 * DAY)

    def tenure(self, m: Mentor, product: Product, student: str, t: int) -> int | None:
        """One student's seat: packs bought one after another from `t`. Returns when the seat
        was released, or None when it is still active or in grace at NOW."""
        rng = self.rng
        seat = self.uuid()
        created = t - 600
        while True:
            outcome = self.pack(m, product, student, seat, t)
            kind, at = outcome
            if kind == "active":
                self.seat(seat, m, student, "active", created, t, None, None, t)
                return None
            if kind == "refunded":
                self.seat(seat, m, student, "released", created, t, None, at, at, "refunded")
                return at
            # depleted or expired at `at`: grace, then renewal or release
            if rng.random() < 0.82:
                renew = at + rng.randrange(HOUR, GRACE - HOUR)
                if renew < T_NOW:
                    t = renew
                    continue
            if at + GRACE > T_NOW:
                self.seat(seat, m, student, "grace", created, t, at, None, at)
                return None
            self.seat(
                seat, m, student, "released", created, t, at, at + GRACE, at + GRACE, "grace_ended"
            )
            return at + GRACE

    def seat(
        self,
        seat: str,
        m: Mentor,
        student: str,
        status: str,
        created: int,
        activated: int,
        grace_started: int | None,
        released: int | None,
        updated: int,
        reason: str | None = None,
    ) -> None:
        grace_ends = grace_started + GRACE if grace_started is not None else None
        self.t.seats.append(
            line(
                seat,
                m.id,
                student,
                status,
                created + HOLD,
                activated,
                grace_started,
                grace_ends,
                released,
                reason,
                created,
                updated,
            )
        )

    def pack(self, m: Mentor, product: Product, student: str, seat: str, t: int) -> tuple[str, int]:
        """A pack bought at `t` and its sessions. Returns (state, when): ("active", t) for a pack
        live at NOW, else ("depleted" | "expired" | "refunded", when it ended)."""
        rng = self.rng
        r = rng.random()
        total = product.sessions
        target = rng.randrange(0, 3) if r < 0.03 else rng.randrange(0, total) if r < 0.07 else total
        expires = t + product.validity_days * DAY
        pack_id = self.uuid()
        sessions: list[tuple[str, int, int]] = []  # status, start, closed
        consumed = 0
        cursor = t + rng.randrange(HOUR * 12, 2 * DAY)
        live = False  # a session still scheduled, or one not booked yet
        gap = self.plan.session_gap_s
        while consumed < target:
            start = m.take_slot(cursor)
            booked = max(t + 300, start - rng.randrange(HOUR * 13, 10 * DAY))
            if start + HOUR > expires or booked > T_NOW or start > T_NOW + HORIZON_DAYS * DAY:
                m.taken.discard(start)  # not booked after all
                live = booked > T_NOW and start + HOUR <= expires
                break
            status, canceled, by, closed = self.outcome(m.id, student, start, booked)
            if status == "scheduled":
                live = True
            self.t.sessions.append(
                line(
                    self.uuid(), pack_id, m.id, student, status, start, canceled, by, closed, booked
                )
            )
            sessions.append((status, start, closed or canceled or booked))
            if status not in ("canceled", "mentor_no_show"):
                consumed += 1
            cursor = start + int(gap * (0.5 + rng.random()))
        last = max((c for _, _, c in sessions), default=t + HOUR)
        state, ended = "depleted", last
        if r < 0.03 and not live and last + DAY < T_NOW:
            state, ended = "refunded", last + DAY
        elif (
            live
            or (consumed < total and expires > T_NOW)
            or (consumed == total and any(s == "scheduled" for s, _, _ in sessions))
        ):
            state, ended = "active", t
        elif consumed < total:
            state, ended = "expired", expires
        remaining = total - consumed if state == "active" else 0
        forfeited = total - consumed if state in ("expired", "refunded") else 0
        adjusted_by = adjusted = None
        if state == "active" and rng.random() < 0.01:
            adjusted_by, adjusted = self.admins[1], T_NOW - rng.randrange(HOUR, DAY)
            remaining += 1
        order_status = "refunded" if state == "refunded" else "paid"
        order_id, amount = self.order(
            m, product, student, seat, t - 120, order_status, ended if state == "refunded" else t
        )
        depleted_at = ended if state == "depleted" else None
        if state == "depleted" and expires <= T_NOW:
            state = "expired"  # private.expire_packs expires used-up packs too, at expires_at
        self.t.packs.append(
            line(
                pack_id,
                student,
                m.id,
                product.id,
                order_id,
                seat,
                state,
                total,
                remaining,
                amount,
                product.currency,
                t,
                expires,
                depleted_at,
                expires if state == "expired" else None,
                ended if state == "refunded" else None,
                forfeited,
                adjusted_by,
                adjusted,
                ended,
            )
        )
        return state, ended

    def outcome(
        self, mentor: str, student: str, start: int, booked: int
    ) -> tuple[str, int | None, str | None, int | None]:
        """A session's status at NOW: (status, canceled_at, canceled_by, closed_at)."""
        rng = self.rng
        r = rng.random()
        if r < 0.07:  # canceled in time (or by the mentor): credit back
            latest = min(start - 24 * HOUR, T_NOW)
            if latest > booked:
                return "canceled", rng.randrange(booked, latest + 1), student, None
            if start > T_NOW:
                return "scheduled", None, None, None
            return "canceled", rng.randrange(booked, min(start, T_NOW) + 1), mentor, None
        if start + HOUR > T_NOW:
            return "scheduled", None, None, None
        closed = min(start + HOUR + rng.randrange(60, 6 * HOUR), T_NOW)
        if r < 0.10:
            return (
                "late_canceled",
                max(booked, start - rng.randrange(HOUR, 23 * HOUR)),
                student,
                None,
            )
        if r < 0.13:
            return "student_no_show", None, None, closed
        if r < 0.15:
            return "mentor_no_show", None, None, closed
        return "completed", None, None, closed


def play(plan: Plan, rng: random.Random) -> Tables:
    h = History(plan, rng)
    for m in h.catalog():
        for lane in range(m.lanes):
            h.lane(m, lane)
    return h.t
