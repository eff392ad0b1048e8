"""The benchmark data set's vocabulary (testing/dataset_lanes.py plays the history with it): its
clock and calendar constants, the COPY line format, and the catalog's entities with the rules they
keep (a product's price rise, a promotion code's fit and discount, a mentor's slots and holds that
never overlap)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
T_NOW = int(NOW.timestamp())
DAY = 86400
HOUR = 3600
HISTORY_DAYS = 730
HORIZON_DAYS = 28  # sessions are booked up to four weeks ahead
SLOT_STEP = 75 * 60  # a 60-minute session and the mentor's 15-minute buffer
SLOTS_PER_DAY = 12  # from 08:00 in the mentor's zone; the last ends 22:45
GRACE = 72 * HOUR
HOLD = 30 * 60
EMAIL_DOMAIN = "bench.mentorships.test"
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
]
N = "\\N"


def _v(x: object) -> str:
    return N if x is None else str(x)


def line(*values: object) -> str:
    return "\t".join(_v(x) for x in values) + "\n"


@dataclass
class Product:
    id: str
    sessions: int
    validity_days: int
    old_price: int
    price: int
    raised_at: int  # the price went from old_price to price then
    currency: str

    def price_at(self, t: int) -> int:
        return self.price if t >= self.raised_at else self.old_price


@dataclass
class Promo:
    id: str
    percent_off: int | None
    amount_off: int | None
    currency: str | None
    valid_from: int
    valid_until: int | None
    max_redemptions: int | None
    mentor_id: str | None
    used: int = 0

    def fits(self, t: int, mentor_id: str, currency: str) -> bool:
        return (
            self.valid_from <= t
            and (self.valid_until is None or t < self.valid_until)
            and (self.max_redemptions is None or self.used < self.max_redemptions)
            and (self.mentor_id is None or self.mentor_id == mentor_id)
            and (self.currency is None or self.currency == currency)
        )

    def discount(self, base: int) -> int:
        if self.percent_off is not None:
            return (base * self.percent_off + 50) // 100
        assert self.amount_off is not None
        return min(self.amount_off, base)


@dataclass
class Mentor:
    id: str
    joined: int
    zone: ZoneInfo
    products: list[Product]
    taken: set[int] = field(default_factory=set)  # slot numbers in use
    holds: set[int] = field(default_factory=set)  # 30-minute buckets with a hold
    day_starts: dict[int, int] = field(default_factory=dict)
    lanes: int = 0

    def day_start(self, day: int) -> int:
        """08:00 in the mentor's zone on day `day` (days since 1970), as seconds since 1970."""
        if day not in self.day_starts:
            d = dt.date(1970, 1, 1) + dt.timedelta(days=day)
            local = dt.datetime(d.year, d.month, d.day, 8, tzinfo=self.zone)
            self.day_starts[day] = int(local.timestamp())
        return self.day_starts[day]

    def take_slot(self, at: int) -> int:
        """The first free slot starting at or after `at`, taken."""
        day = at // DAY
        k = max(0, math.ceil((at - self.day_start(day)) / SLOT_STEP))
        while True:
            if k >= SLOTS_PER_DAY:
                day, k = day + 1, 0
                continue
            number = day * SLOTS_PER_DAY + k
            if number not in self.taken:
                self.taken.add(number)
                return self.day_start(day) + k * SLOT_STEP
            k += 1

    def take_hold(self, at: int) -> int:
        """A 30-minute hold starting at or after `at` that overlaps no other hold."""
        bucket = -(-at // HOLD)
        while bucket in self.holds:
            bucket += 1
        self.holds.add(bucket)
        return bucket * HOLD
