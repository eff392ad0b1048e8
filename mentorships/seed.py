"""Demo data: mentors, students and their whole history, in every state the product knows.

`run` replaces the earlier demo data (everything belonging to users whose email ends with
@demo.mentorships.test; other users and their rows are kept). The plan is deterministic for a
random seed: ids the seed chooses are uuid5 over a fixed namespace and every instant is relative
to an anchor, the database clock (private.clock_now()) truncated to the hour, so the demo is
"current" whenever it runs. Only live checkout holds use the exact clock: a hold lasts
platform_settings.seat_hold_minutes, so it is only live relative to the instant of seeding.

Three steps, each on the rows of the one before:
1. people and catalog, in one transaction that first removes the earlier demo data: users into
   auth.users (the trigger creates the profiles), roles set on the profiles before the mentors
   rows, products at the prices of the time, promotion codes;
2. every purchase the real way, in order of time with the database clock frozen at each instant
   (mentorships.purchases): create_order through the gateway as the student, then the
   provider's signed webhook to the running services (payment, refund, expired checkout, a
   payment of the wrong amount); between them what the storylines do to the catalog and to
   seats (a price raised, a product retired, a mentor leaving, a seat into grace and released);
   the database chooses the ids of the orders, seats, payments and packs;
3. what happened after the purchases, in one transaction, on the packs and seats the database
   made: sessions, the credit ledger (remaining_sessions moves only through it), packs used up
   or expired, the outbox and the admins' actions; rows the database stamped with the wall
   clock during the replay (created_at, ...) get the instant of their step; then a check that
   every order, seat and pack ended where its storyline says.

`info_text` is what `mentorships info` (and `make demo`) prints: URLs, keys, demo accounts
and curl lines that work against the running stack.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from mentorships import db, purchases
from mentorships import jwt as jwt_
from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack import PayPalCert

DEMO_DOMAIN = "demo.mentorships.test"
DEMO_EMAIL_SUFFIX = "@" + DEMO_DOMAIN
ADMIN_EMAIL = "admin" + DEMO_EMAIL_SUFFIX
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, DEMO_DOMAIN)
MENTORS_PER_SCALE = 6
STUDENTS_PER_SCALE = 24

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

Row = tuple[Any, ...]
Interval = tuple[dt.datetime, dt.datetime]

# --------------------------------------------------------------------------------------------
# Names, places and words
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Region:
    zones: tuple[str, ...]
    first: tuple[str, ...]
    last: tuple[str, ...]
    weight: float


def _region(zones: str, first: str, last: str, weight: float) -> _Region:
    return _Region(tuple(zones.split()), tuple(first.split()), tuple(last.split()), weight)


REGIONS: dict[str, _Region] = {
    "north_america": _region(
        "America/New_York America/Chicago America/Denver America/Los_Angeles America/Toronto "
        "America/Vancouver",
        "Emily Jordan Marcus Sophia Tyler Hannah Caleb Olivia Isaiah Madison Ethan Ava Noah Grace",
        "Johnson Carter Nguyen Brooks Patel Rivera Thompson Kim Bennett Foster Hayes Morgan "
        "Sullivan Reed",
        0.28,
    ),
    "latin_america": _region(
        "America/Mexico_City America/Sao_Paulo America/Bogota America/Argentina/Buenos_Aires "
        "America/Lima America/Santiago",
        "Camila Mateo Valentina Santiago Lucía Thiago Isabela Joaquín Mariana Gabriel Renata "
        "Emiliano",
        "Fernández Souza Rodríguez Oliveira Castillo Gómez Herrera Silva Morales Vargas Pereira "
        "Rojas",
        0.12,
    ),
    "europe": _region(
        "Europe/London Europe/Dublin Europe/Paris Europe/Berlin Europe/Madrid Europe/Rome "
        "Europe/Warsaw Europe/Stockholm Europe/Amsterdam Europe/Lisbon",
        "Chloé Luca Freya Mateusz Elena Oskar Amélie Niamh Jakub Ingrid Tomás Giulia Finn Clara",
        "Dubois Rossi Kowalski Lindqvist Murphy Novak Schneider García Jansen Costa Bernard "
        "Fischer Moretti Byrne",
        0.25,
    ),
    "africa": _region(
        "Africa/Lagos Africa/Nairobi Africa/Johannesburg Africa/Cairo Africa/Accra",
        "Amara Kwame Zanele Tunde Wanjiru Kofi Nadia Sipho Chiamaka Youssef",
        "Adeyemi Mensah Okonkwo Dlamini Kamau Haddad Osei Nkosi Eze Mwangi",
        0.08,
    ),
    "asia": _region(
        "Asia/Tokyo Asia/Seoul Asia/Shanghai Asia/Singapore Asia/Kolkata Asia/Manila "
        "Asia/Jakarta Asia/Ho_Chi_Minh",
        "Yuki Min-jun Haruto Ji-woo Priya Arjun Mei Rizal Linh Sakura Wei Ananya Kenji Hana",
        "Sato Park Chen Tan Sharma Reyes Santoso Tran Nakamura Lee Wong Iyer Mori Choi",
        0.19,
    ),
    "oceania": _region(
        "Australia/Sydney Australia/Melbourne Australia/Perth Australia/Brisbane Pacific/Auckland",
        "Isla Jack Matilda Cooper Ruby Lachlan Aroha Mitchell Zoe Tane",
        "Walker Campbell Ngata Robinson Kelly Harris Wilson Parata Fraser Doyle",
        0.08,
    ),
}

# Weekly windows in the mentor's own zone (ISO weekday, "HH:MM", "HH:MM").
WORKING_HOURS: tuple[tuple[tuple[int, str, str], ...], ...] = (
    tuple((d, "09:00", "17:00") for d in range(1, 6)),
    tuple(w for d in range(1, 5) for w in ((d, "10:00", "13:00"), (d, "14:00", "19:00"))),
    tuple((d, "12:00", "20:00") for d in range(2, 7)),
    (
        *(w for d in (1, 3, 5) for w in ((d, "08:00", "12:00"), (d, "13:00", "16:00"))),
        (6, "09:00", "13:00"),
    ),
    (*((d, "18:00", "22:00") for d in range(1, 6)), (6, "10:00", "16:00"), (7, "10:00", "14:00")),
    tuple(w for d in range(1, 6) for w in ((d, "07:30", "11:30"), (d, "15:00", "18:30"))),
)


@dataclass(frozen=True)
class _ProductTemplate:
    title: str
    description: str
    sessions: int
    validity_days: int
    price_factor: float


@dataclass(frozen=True)
class _Specialty:
    headline: str
    bio: str
    products: tuple[_ProductTemplate, ...]


def _standard_products(topic: str, deep_dive: str) -> tuple[_ProductTemplate, ...]:
    return (
        _ProductTemplate(
            f"{topic}: 4-session mentorship",
            f"Four one-on-one video sessions on {deep_dive}, with written feedback on your "
            "homework between sessions.",
            4,
            90,
            1.0,
        ),
        _ProductTemplate(
            f"{topic}: 8-session deep dive",
            f"Eight sessions over four months: a structured program on {deep_dive}, ending with "
            "a portfolio-ready piece.",
            8,
            180,
            1.85,
        ),
        _ProductTemplate(
            f"{topic}: 6-session portfolio sprint",
            "Six sessions to audit, cut and rebuild your portfolio for studio applications.",
            6,
            120,
            1.4,
        ),
    )


SPECIALTIES: tuple[_Specialty, ...] = (
    _Specialty(
        "Character designer for games and animation: shape language, costume, turnarounds",
        "{name} has designed characters for console games and animated series for {years} years. "
        "Sessions focus on silhouette and shape language, costume storytelling and clean "
        "turnarounds that a 3D team can build from.",
        _standard_products("Character design", "silhouettes, costume design and turnarounds"),
    ),
    _Specialty(
        "Environment painter: light, atmosphere and believable worlds",
        "{name} paints environments and key art ({years} years in games and film). Expect value "
        "thumbnails, color scripts and a lot of talk about light, with paint-overs of your work "
        "in every session.",
        _standard_products("Environment painting", "composition, value and light"),
    ),
    _Specialty(
        "Comic artist and storyteller: layouts, pacing, inks",
        "{name} draws comics and graphic novels and has taught sequential art for {years} years. "
        "We work on page layouts, panel flow, acting and inking, on your own script or one of "
        "mine.",
        _standard_products("Comics & sequential art", "page layout, pacing and inking"),
    ),
    _Specialty(
        "Concept artist: ideation, design process and production-ready sheets",
        "{name} is a concept artist with {years} years of production experience. We go from "
        "research and thumbnails to orthographic sheets, and talk about how studios actually "
        "use concept art.",
        _standard_products("Concept art", "ideation, iteration and presentation"),
    ),
    _Specialty(
        "Illustrator: color and light, composition, finishing",
        "{name} illustrates book covers, editorial pieces and card art ({years} years). Sessions "
        "cover composition, color harmony and how to finish a piece without overworking it.",
        _standard_products("Illustration", "composition, color and finishing"),
    ),
    _Specialty(
        "3D character sculptor: anatomy, form and ZBrush workflow",
        "{name} sculpts characters and creatures for games and collectibles ({years} years). "
        "We review primary, secondary and tertiary forms, anatomy and an efficient ZBrush and "
        "Blender workflow.",
        _standard_products("3D sculpting", "anatomy, form and sculpting workflow"),
    ),
    _Specialty(
        "Storyboard artist: staging, continuity and camera",
        "{name} boards for animation and live action ({years} years). We work on staging, "
        "screen direction, continuity and clear, fast drawing for boards and animatics.",
        _standard_products("Storyboarding", "staging, camera and continuity"),
    ),
    _Specialty(
        "Creature designer: anatomy, biology and believable monsters",
        "{name} designs creatures for games and film ({years} years). We start from real "
        "anatomy and biology and end with creatures that move, eat and scare convincingly.",
        _standard_products("Creature design", "comparative anatomy and creature ideation"),
    ),
)


@dataclass(frozen=True)
class _MentorTemplate:
    name: str
    zone: str
    specialty: int
    capacity: int
    hours: int
    slot: int
    grid: int
    buffer: int
    notice: int
    base_price: int
    currency: str
    products: tuple[int, ...]
    headline: str | None = None
    bio: str | None = None


# mentor1 .. mentor6; the sixth is inactive, the second has an extra, retired product.
MENTOR_TEMPLATES: tuple[_MentorTemplate, ...] = (
    _MentorTemplate(
        name="Maya Okafor",
        zone="America/New_York",
        specialty=0,
        capacity=6,
        hours=0,
        slot=60,
        grid=30,
        buffer=15,
        notice=720,
        base_price=24000,
        currency="usd",
        products=(0, 1),
        headline="Character designer (games, animation) - shape language, costume, turnarounds",
        bio="Maya spent nine years designing characters for console games and two animated "
        "series. She now freelances and mentors artists who want to move into character design. "
        "Bring sketches: every session starts with your work, paint-overs included.",
    ),
    _MentorTemplate(
        name="Diego Ramírez",
        zone="America/Los_Angeles",
        specialty=1,
        capacity=5,
        hours=1,
        slot=60,
        grid=30,
        buffer=15,
        notice=720,
        base_price=26000,
        currency="usd",
        products=(0, 2),
        headline="Environment concept artist - light, atmosphere, worldbuilding",
        bio="Diego paints environments and key art for AAA games and feature animation in Los "
        "Angeles. His sessions are about value structure, light and atmosphere, and making "
        "worlds feel lived in.",
    ),
    _MentorTemplate(
        name="Harriet Cole",
        zone="Europe/London",
        specialty=2,
        capacity=4,
        hours=2,
        slot=60,
        grid=30,
        buffer=10,
        notice=1440,
        base_price=21000,
        currency="usd",
        products=(0, 1, 2),
        headline="Comic artist and storyteller - layouts, pacing, inks",
        bio="Harriet draws creator-owned comics and has taught sequential art for over a decade. "
        "Expect thumbnails, page turns, acting and clean inks; bring a script or borrow one.",
    ),
    _MentorTemplate(
        name="Jonas Weber",
        zone="Europe/Berlin",
        specialty=5,
        capacity=8,
        hours=5,
        slot=90,
        grid=30,
        buffer=15,
        notice=720,
        base_price=30000,
        currency="eur",
        products=(0, 1),
        headline="3D character sculptor - anatomy, form, ZBrush and Blender",
        bio="Jonas sculpts characters and creatures for games and collectibles from his studio "
        "in Berlin. Sessions review your sculpts live: primary forms first, then anatomy, then "
        "details and presentation renders.",
    ),
    _MentorTemplate(
        name="Aiko Tanaka",
        zone="Asia/Tokyo",
        specialty=4,
        capacity=3,
        hours=3,
        slot=60,
        grid=60,
        buffer=30,
        notice=720,
        base_price=22000,
        currency="usd",
        products=(0,),
        headline="Illustrator - color and light, composition, finishing",
        bio="Aiko illustrates book covers and trading-card art in Tokyo. She teaches color and "
        "light, composition and finishing, with step-by-step paint-overs of your pieces.",
    ),
    _MentorTemplate(
        name="Liam O'Connor",
        zone="Australia/Sydney",
        specialty=6,
        capacity=4,
        hours=4,
        slot=45,
        grid=15,
        buffer=15,
        notice=720,
        base_price=20000,
        currency="usd",
        products=(0, 2),
        headline="Storyboard artist - staging, continuity, camera",
        bio="Liam boards for animated series and commercials in Sydney. Sessions cover staging, "
        "screen direction and drawing fast enough to keep up with a director.",
    ),
)

# Zones of generated mentors (scale > 1).
MENTOR_ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Toronto",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Australia/Sydney",
    "Australia/Melbourne",
)
EURO_ZONES = frozenset({"Europe/Berlin", "Europe/Paris", "Europe/Madrid"})

SESSION_NOTES = (
    "Reviewed the gesture studies: push the line of action, fewer and longer strokes. "
    "Homework: 30 two-minute poses.",
    "Value thumbnails for the forest scene: group the mid-tones, keep one focal light. Next: "
    "color comp over the chosen thumbnail.",
    "Page 3 layout: the panel flow reads left to right now. Tighten the gutters and letter the "
    "balloons before inking.",
    "Sculpt review: primary forms read well, secondary forms on the forearm are too busy. "
    "Homework: planar head study.",
    "Portfolio review: cut the three weakest pieces, lead with the creature sheet. Next session: "
    "presentation layout.",
    "Color and light: cool ambient, warm key. Repainted the bounce light on the jaw together.",
    "Storyboard pass on the chase: clearer screen direction, add an establishing shot before "
    "panel 4.",
    "Anatomy: torso landmarks and the rib cage as a box. Homework: ten torso studies from "
    "reference.",
    "Turnaround: front and side proportions line up now. Silhouette test for the three costume "
    "options.",
    "Perspective: two-point grid for the interior; fixed the horizon mismatch between figure and "
    "room.",
    "Went through the studio application test brief and planned the three pieces and deadlines.",
    "Edge control: lost and found edges on the portrait, soften the far cheek, sharpen the eyes.",
)
STUDENT_CANCEL_REASONS = (
    "Crunch week at work, I need to move this one.",
    "Travelling that week, sorry!",
    "Exam at university that morning.",
    "Feeling sick, can we skip this week?",
)
MENTOR_CANCEL_REASONS = (
    "Client deadline moved up; let's book the next free slot.",
    "I'm at a conference that week, sorry about that.",
)
LATE_CANCEL_REASONS = (
    "Something came up at work last minute.",
    "Internet outage at home.",
)
NO_SHOW_NOTES = "Student did not join within 15 minutes; credit used."
MENTOR_NO_SHOW_NOTES = "Mentor could not join (emergency); credit restored by an admin."


def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _minute(t: dt.datetime) -> dt.datetime:
    return t.replace(second=0, microsecond=0)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).isoformat()


# --------------------------------------------------------------------------------------------
# The model the generator fills in
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Person:
    id: uuid.UUID
    index: int
    email: str
    name: str
    zone: str
    role: str
    discord: str | None = None
    created_at: dt.datetime | None = None
    busy: list[Interval] = field(default_factory=list)
    mentor_ids: set[uuid.UUID] = field(default_factory=set)
    first_event: dt.datetime | None = None

    def saw(self, t: dt.datetime) -> None:
        if self.first_event is None or t < self.first_event:
            self.first_event = t


@dataclass(eq=False)
class _Product:
    id: uuid.UUID
    title: str
    description: str
    sessions: int
    validity_days: int
    price_cents: int
    currency: str
    is_active: bool
    created_at: dt.datetime
    old_price_cents: int | None = None  # sold at this price until PRICE_RAISE_DAYS ago


@dataclass(eq=False)
class _Mentor:
    person: _Person
    slug: str
    public_name: str
    headline: str
    bio: str
    zone: ZoneInfo
    hours: list[dict[str, Any]]
    capacity: int
    slot: int
    grid: int
    buffer: int
    notice: int
    horizon: int
    is_active: bool
    products: list[_Product] = field(default_factory=list)
    busy: list[Interval] = field(default_factory=list)
    windows: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    live: int = 0  # seats of storylines still holding one today
    past: list[Interval] = field(default_factory=list)  # seats of the others, while held

    @property
    def id(self) -> uuid.UUID:
        return self.person.id

    def active_products(self) -> list[_Product]:
        return [p for p in self.products if p.is_active]


@dataclass(eq=False)
class _Seat:
    """A seat as the storyline expects the database to hold it. `id` is the database's, once
    the replay created the seat (create_order's hold)."""

    id: uuid.UUID
    mentor: _Mentor
    student: _Person
    status: str
    created_at: dt.datetime
    provider: str
    hold_expires_at: dt.datetime | None = None
    activated_at: dt.datetime | None = None
    grace_started_at: dt.datetime | None = None
    grace_ends_at: dt.datetime | None = None
    released_at: dt.datetime | None = None
    release_reason: str | None = None
    story: str = ""
    created: bool = False  # by the replay


@dataclass(eq=False)
class _Session:
    id: uuid.UUID
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    blocked_until: dt.datetime
    created_at: dt.datetime | None = None
    canceled_at: dt.datetime | None = None
    canceled_by: uuid.UUID | None = None
    cancel_reason: str | None = None
    completed_at: dt.datetime | None = None
    notes: str | None = None
    reschedule_count: int = 0
    by_refund: bool = False  # scheduled when its pack was refunded: the refund cancels it

    @property
    def closed_at(self) -> dt.datetime:
        """When the session stopped being open (completed or marked)."""
        if self.completed_at is not None:
            return self.completed_at
        if self.canceled_at is not None:
            return self.canceled_at
        return self.ends_at + 20 * MINUTE


@dataclass(eq=False)
class _Credit:
    at: dt.datetime
    kind: str
    delta: int
    session_id: uuid.UUID | None = None
    reason: str | None = None
    actor_id: uuid.UUID | None = None


@dataclass(eq=False)
class _Order:
    """One checkout of a storyline, as the replay plays it: created with create_order, then
    paid, refunded or left to run out through the provider's webhooks. `key` is the plan's own
    id (the provider ids and event ids derive from it); `id` is the database's."""

    key: uuid.UUID
    seat: _Seat
    product: _Product
    provider: str
    status: str  # what it ends as
    created_at: dt.datetime
    story: str
    promo: _Promo | None = None
    paid_at: dt.datetime | None = None
    underpaid: bool = False  # pays less than the order says: flagged
    ends_at: dt.datetime | None = None  # the unpaid checkout runs out
    refunds: list[tuple[dt.datetime, bool]] = field(default_factory=list)  # (at, in full)
    # the database's answers
    id: uuid.UUID | None = None
    amount_cents: int = 0
    refunded_cents: int = 0
    answer: dict[str, Any] = field(default_factory=dict)
    pack: _Pack | None = None  # the pack its payment creates (paid orders)


@dataclass(eq=False)
class _Pack:
    """A pack a paid order creates; `id` is the database's once the payment webhook made it."""

    id: uuid.UUID
    seat: _Seat
    product: _Product
    order: _Order
    sessions_total: int
    purchased_at: dt.datetime
    expires_at: dt.datetime
    status: str = "active"
    depleted_at: dt.datetime | None = None
    expired_at: dt.datetime | None = None
    refunded_at: dt.datetime | None = None
    sessions: list[_Session] = field(default_factory=list)
    credits: list[_Credit] = field(default_factory=list)
    remaining: int = 0
    written: bool = False  # sessions and ledger already written (before its refund)

    @property
    def mentor(self) -> _Mentor:
        return self.seat.mentor

    @property
    def student(self) -> _Person:
        return self.seat.student


@dataclass(frozen=True)
class _Promo:
    id: uuid.UUID
    code: str
    percent_off: int | None
    amount_off_cents: int | None
    currency: str | None
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    mentor: _Mentor | None


@dataclass(frozen=True)
class _Platform:
    hold_minutes: int
    grace_hours: int
    grace_warning_hours: int
    cancel_notice_hours: int


@dataclass(eq=False)
class _Note:
    """An outbox message of the storyline (the ones the database queues itself, for
    purchases and refunds, come from the replay)."""

    to: _Person
    kind: str
    channel: str
    at: dt.datetime
    payload: dict[str, Any]
    session: _Session | None
    pack: _Pack | None
    status: str
    sent_at: dt.datetime | None
    voided_at: dt.datetime | None
    created_at: dt.datetime
    attempts: int
    last_error: str | None = None

    def row(self) -> Row:
        about = self.session.id if self.session else self.pack.id if self.pack else None
        about = about or uuid.uuid5(NAMESPACE, self.kind)
        return (
            self.to.id,
            self.kind,
            self.channel,
            f"{self.kind}:{about}:{self.to.id}:{self.channel}",
            Jsonb(self.payload),
            self.session.id if self.session else None,
            self.pack.id if self.pack else None,
            self.status,
            self.at,
            self.attempts,
            self.last_error,
            self.sent_at,
            self.voided_at,
            self.created_at,
        )


@dataclass(eq=False)
class _Audit:
    actor: uuid.UUID | None
    action: str
    table: str
    row: uuid.UUID | _Pack
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    reason: str | None
    at: dt.datetime

    def values(self) -> Row:
        return (
            self.actor,
            self.action,
            self.table,
            self.row.id if isinstance(self.row, _Pack) else self.row,
            Jsonb(self.old) if self.old is not None else None,
            Jsonb(self.new) if self.new is not None else None,
            self.reason,
            self.at,
        )


# The timeline the replay plays, in order of time (then of planning): what the storylines did
# to the catalog and to seats, beside their orders. Kinds: "price" (a product's price goes up to
# today's), "retire" (a product is no longer sold), "deactivate" (a mentor leaves the catalog),
# "grace" (a seat's last pack ended), "release" (its grace ran out), "hold_job" (the hold job
# runs: a flagged order's hold runs out).
@dataclass(eq=False)
class _Event:
    at: dt.datetime
    kind: str
    subject: _Seat | _Product | _Mentor
    until: dt.datetime | None = None  # grace: when it ends


# Products a storyline renews were cheaper until this many days ago (grandfathered prices).
PRICE_RAISE_DAYS = 40


CONSUMING = ("completed", "student_no_show", "late_canceled")
RESTORED = ("canceled", "mentor_no_show")

# One block of 24 students: their main story (see _Builder.tell). Scale N uses N blocks.
STORY_DECK: tuple[str, ...] = (
    ("active_new",) * 6
    + ("active_mid",) * 4
    + ("renewed",) * 2
    + ("grace_depleted",) * 2
    + ("grace_expired", "refunded", "hold", "hold", "hold_expired", "flagged")
    + ("released",) * 2
    + ("browsing",) * 2
)
LIVE_STORIES = frozenset(
    {"active_new", "active_mid", "renewed", "grace_depleted", "grace_expired", "hold"}
)
assert len(STORY_DECK) == STUDENTS_PER_SCALE


# --------------------------------------------------------------------------------------------
# The generator (pure Python; no database access)
# --------------------------------------------------------------------------------------------


class _Builder:
    def __init__(
        self,
        *,
        scale: int,
        random_seed: int,
        anchor: dt.datetime,
        now: dt.datetime,
        platform: _Platform,
        providers: Sequence[str] = ("stripe", "paypal"),
    ) -> None:
        self.rng = random.Random(random_seed)
        self.seed = random_seed
        self.scale = scale
        self.anchor = anchor
        self.now = now
        self.platform = platform
        self.providers = tuple(providers)
        if not self.providers:
            raise StackError("seed: no payment provider to buy with")
        self.admin: _Person | None = None
        self.mentors: list[_Mentor] = []
        self.students: list[_Person] = []
        self.promos: list[_Promo] = []
        self.seats: list[_Seat] = []
        self.orders: list[_Order] = []
        self.packs: list[_Pack] = []
        self.events: list[_Event] = []
        self.notifications: list[_Note] = []
        self.audit: list[_Audit] = []
        self._story = ""
        self._promos_used: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self._discord_ids: set[str] = set()
        self._rr = 0
        self._count: dict[str, int] = {}
        self._released_targets: list[tuple[_Mentor, _Product | None]] = []

    # ids and small helpers ------------------------------------------------------------------

    def uid(self, *parts: object) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in (self.seed, *parts)))

    @staticmethod
    def user_id(email: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, "user:" + email)

    def nth(self, story: str) -> int:
        n = self._count.get(story, 0)
        self._count[story] = n + 1
        return n

    def between(self, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
        if hi <= lo:
            return lo
        return _minute(lo + (hi - lo) * self.rng.random())

    def ago(self, lo_days: float, hi_days: float) -> dt.datetime:
        return _minute(self.anchor - dt.timedelta(days=self.rng.uniform(lo_days, hi_days)))

    def discord_id(self) -> str:
        while True:
            value = str(self.rng.randrange(10**17, 10**19))
            if value not in self._discord_ids:
                self._discord_ids.add(value)
                return value

    @property
    def admin_id(self) -> uuid.UUID:
        assert self.admin is not None
        return self.admin.id

    # people and catalog -----------------------------------------------------------------------

    def people(self) -> None:
        a = self.anchor
        self.admin = _Person(
            self.user_id(ADMIN_EMAIL),
            0,
            ADMIN_EMAIL,
            "Rosa Lindgren",
            "Europe/Stockholm",
            "admin",
            discord=self.discord_id(),
            created_at=_minute(a - 700 * DAY),
        )
        used_names: set[str] = set()
        slugs: set[str] = set()
        for i in range(1, MENTORS_PER_SCALE * self.scale + 1):
            self.mentors.append(self._mentor(i, used_names, slugs))
        region_names = list(REGIONS)
        weights = [REGIONS[r].weight for r in region_names]
        for i in range(1, STUDENTS_PER_SCALE * self.scale + 1):
            region = (
                region_names[i - 1]
                if i <= len(region_names)
                else self.rng.choices(region_names, weights)[0]
            )
            r = REGIONS[region]
            name = self._unique_name(r, used_names)
            email = f"student{i}{DEMO_EMAIL_SUFFIX}"
            self.students.append(
                _Person(
                    self.user_id(email),
                    i,
                    email,
                    name,
                    self.rng.choice(r.zones),
                    "student",
                    discord=self.discord_id() if self.rng.random() < 0.45 else None,
                )
            )

    def _unique_name(self, region: _Region, used: set[str]) -> str:
        for _ in range(50):
            name = f"{self.rng.choice(region.first)} {self.rng.choice(region.last)}"
            if name not in used:
                used.add(name)
                return name
        n = 2
        while f"{name} {n}" in used:
            n += 1
        used.add(f"{name} {n}")
        return f"{name} {n}"

    def _mentor(self, i: int, used_names: set[str], slugs: set[str]) -> _Mentor:
        rng = self.rng
        position = (i - 1) % MENTORS_PER_SCALE  # 1: has a retired product; 5: inactive
        email = f"mentor{i}{DEMO_EMAIL_SUFFIX}"
        if i <= len(MENTOR_TEMPLATES):
            t = MENTOR_TEMPLATES[i - 1]
            used_names.add(t.name)
        else:
            zone = rng.choice(MENTOR_ZONES)
            region = next(r for r in REGIONS.values() if zone in r.zones)
            eur = zone in EURO_ZONES and rng.random() < 0.5
            slot = rng.choice((60, 60, 60, 45, 90))
            t = _MentorTemplate(
                self._unique_name(region, used_names),
                zone,
                rng.randrange(len(SPECIALTIES)),
                rng.randint(3, 8),
                rng.randrange(len(WORKING_HOURS)),
                slot,
                rng.choice((15, 30, 30, 60)) if slot != 45 else 15,
                rng.choice((0, 10, 15, 15, 30)),
                rng.choice((360, 720, 720, 1440)),
                rng.randrange(18, 33) * 1000,
                "eur" if eur else "usd",
                tuple(sorted(rng.sample(range(3), rng.randint(1, 3)))),
            )
        spec = SPECIALTIES[t.specialty]
        slug = _slugify(t.name)
        if slug in slugs:
            slug = f"{slug}-{i}"
        slugs.add(slug)
        created = _minute(self.anchor - dt.timedelta(days=rng.uniform(400, 700)))
        years = rng.randint(6, 18)
        person = _Person(
            self.user_id(email),
            i,
            email,
            t.name,
            t.zone,
            "mentor",
            discord=self.discord_id() if rng.random() < 0.8 else None,
            created_at=created,
        )
        hours: list[dict[str, Any]] = [
            {"weekday": d, "start": s, "end": e} for d, s, e in WORKING_HOURS[t.hours]
        ]
        m = _Mentor(
            person,
            slug,
            t.name,
            t.headline or spec.headline,
            t.bio or spec.bio.format(name=t.name.split()[0], years=years),
            ZoneInfo(t.zone),
            hours,
            t.capacity,
            t.slot,
            t.grid,
            t.buffer,
            t.notice,
            rng.choice((60, 60, 90, 45)),
            is_active=position != 5,
        )
        for w in hours:
            start = _hhmm(w["start"])
            m.windows.setdefault(w["weekday"], []).append((start, _hhmm(w["end"])))
        for k in t.products:
            pt = spec.products[k]
            price = round(t.base_price * pt.price_factor / 500) * 500
            m.products.append(
                _Product(
                    self.uid("product", i, k),
                    pt.title,
                    pt.description,
                    pt.sessions,
                    pt.validity_days,
                    price,
                    t.currency,
                    True,
                    _minute(created + dt.timedelta(days=rng.uniform(1, 30))),
                )
            )
        if position == 1:
            m.products.append(
                _Product(
                    self.uid("product", i, "retired"),
                    "Legacy 3-session critique pack",
                    "Three critique sessions. No longer sold: replaced by the 4-session mentorship.",
                    3,
                    90,
                    round(t.base_price * 0.7 / 500) * 500,
                    t.currency,
                    False,
                    _minute(created + DAY),
                )
            )
        return m

    def catalog(self) -> None:
        a = self.anchor
        mentor1 = self.mentors[0]
        self.promos = [
            _Promo(
                self.uid("promo", "welcome"),
                "DEMO-WELCOME10",
                10,
                None,
                None,
                _minute(a - 400 * DAY),
                _minute(a + 180 * DAY),
                None,
            ),
            _Promo(
                self.uid("promo", "scoped"),
                "DEMO-INKLAB25",
                None,
                2500,
                mentor1.products[0].currency,
                _minute(a - 120 * DAY),
                _minute(a + 45 * DAY),
                mentor1,
            ),
            _Promo(
                self.uid("promo", "spring"),
                "DEMO-SPRING20",
                20,
                None,
                None,
                _minute(a - 260 * DAY),
                _minute(a - 170 * DAY),
                None,
            ),
        ]
        for block in range(self.scale):
            base = block * MENTORS_PER_SCALE
            inactive = self.mentors[base + 5]
            retired = self.mentors[base + 1]
            self._released_targets += [
                (inactive, None),
                (retired, next(p for p in retired.products if not p.is_active)),
            ]

    # scheduling -----------------------------------------------------------------------------

    def find_slot(
        self, m: _Mentor, st: _Person, lo: dt.datetime, hi: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime, dt.datetime] | None:
        """A free start on the mentor's grid, inside working hours in the mentor's zone
        (DST-correct), with the session (and buffer) clear of the mentor's and the student's
        other sessions; preferring hours the student is awake."""
        length = dt.timedelta(minutes=m.slot)
        buffer = dt.timedelta(minutes=m.buffer)
        student_zone = ZoneInfo(st.zone)
        day = lo.astimezone(m.zone).date()
        last = hi.astimezone(m.zone).date()
        fallback: dt.datetime | None = None
        while day <= last:
            found: list[dt.datetime] = []
            midnight = dt.datetime.combine(day, dt.time())
            for start_min, end_min in m.windows.get(day.isoweekday(), []):
                t = -(-start_min // m.grid) * m.grid
                while t + m.slot <= end_min:
                    wall = midnight + dt.timedelta(minutes=t)
                    t += m.grid
                    start = wall.replace(tzinfo=m.zone).astimezone(UTC)
                    if start.astimezone(m.zone).replace(tzinfo=None) != wall:
                        continue  # the wall time does not exist (DST gap)
                    end = start + length
                    if start < lo or end > hi:
                        continue
                    blocked = end + buffer
                    if any(s < blocked and start < b for s, b in m.busy):
                        continue
                    if any(s < end and start < e for s, e in st.busy):
                        continue
                    found.append(start)
            if found:
                awake = [s for s in found if 8 <= s.astimezone(student_zone).hour <= 21]
                if awake:
                    return self._take(m, st, self.rng.choice(awake))
                if fallback is None:
                    fallback = self.rng.choice(found)
            day += DAY
        return None if fallback is None else self._take(m, st, fallback)

    def _take(
        self, m: _Mentor, st: _Person, start: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
        end = start + dt.timedelta(minutes=m.slot)
        blocked = end + dt.timedelta(minutes=m.buffer)
        m.busy.append((start, blocked))
        st.busy.append((start, end))
        return start, end, blocked

    def session(
        self,
        pack: _Pack,
        status: str,
        lo: dt.datetime,
        hi: dt.datetime,
        *,
        canceled_at: dt.datetime | None = None,
        canceled_by: uuid.UUID | None = None,
        cancel_reason: str | None = None,
    ) -> _Session | None:
        m, st = pack.mentor, pack.student
        slot = self.find_slot(m, st, lo, hi)
        if slot is None:
            return None
        start, end, blocked = slot
        s = _Session(self.uid("session", pack.id, len(pack.sessions)), status, start, end, blocked)
        rng = self.rng
        if status == "completed":
            s.completed_at = _minute(end + dt.timedelta(minutes=rng.randint(5, 90)))
            s.notes = rng.choice(SESSION_NOTES)
        elif status == "student_no_show":
            s.notes = NO_SHOW_NOTES
        elif status == "mentor_no_show":
            s.notes = MENTOR_NO_SHOW_NOTES
        elif status == "late_canceled":
            s.canceled_at = _minute(start - dt.timedelta(hours=rng.uniform(2, 20)))
            s.canceled_by = st.id
            s.cancel_reason = rng.choice(LATE_CANCEL_REASONS)
        elif status == "canceled":
            if canceled_at is None:
                notice = self.platform.cancel_notice_hours
                canceled_at = _minute(start - dt.timedelta(hours=rng.uniform(notice + 2, 96)))
                canceled_at = min(canceled_at, self.anchor - HOUR)
                canceled_at = max(canceled_at, pack.purchased_at + 2 * HOUR)
                if canceled_by is None:
                    by_mentor = rng.random() < 0.3
                    canceled_by = m.id if by_mentor else st.id
                    cancel_reason = rng.choice(
                        MENTOR_CANCEL_REASONS if by_mentor else STUDENT_CANCEL_REASONS
                    )
            s.canceled_at = canceled_at
            s.canceled_by = canceled_by
            s.cancel_reason = cancel_reason
        elif status == "scheduled" and rng.random() < 0.15:
            s.reschedule_count = 1
        pack.sessions.append(s)
        return s

    def series(
        self,
        pack: _Pack,
        statuses: Sequence[str],
        lo: dt.datetime,
        hi: dt.datetime,
        *,
        required: bool = False,
    ) -> list[_Session]:
        """Sessions spread evenly over [lo, hi], one per status, in order."""
        placed: list[_Session] = []
        if not statuses or hi - lo < DAY:
            if required and statuses:
                raise StackError(f"seed: no room for {len(statuses)} sessions of pack {pack.id}")
            return placed
        part = (hi - lo) / len(statuses)
        for i, status in enumerate(statuses):
            s = (
                self.session(pack, status, lo + part * i, lo + part * (i + 1))
                or self.session(pack, status, lo + part * i, hi)
                or self.session(pack, status, lo, hi)
            )
            if s is None:
                if required:
                    raise StackError(f"seed: no free slot for a session of pack {pack.id}")
                continue
            placed.append(s)
        return placed

    def scheduled(self, pack: _Pack, count: int) -> None:
        """Upcoming sessions, about a week apart."""
        lo = self.anchor + DAY + dt.timedelta(minutes=pack.mentor.notice)
        hi = min(pack.expires_at, self.anchor + 24 * DAY)
        for i in range(count):
            start = lo + 7 * DAY * i
            self.session(pack, "scheduled", start, min(hi, start + 7 * DAY)) or self.session(
                pack, "scheduled", lo, hi
            )

    # purchases ------------------------------------------------------------------------------

    def provider(self) -> str:
        if len(self.providers) == 1:
            return self.providers[0]
        return "stripe" if self.rng.random() < 0.7 else "paypal"

    def hold_until(self, created_at: dt.datetime, provider: str) -> dt.datetime:
        """When create_order's seat hold (and the checkout) runs out, as the database sets it."""
        minutes = self.platform.hold_minutes
        if provider == "stripe":
            minutes = max(minutes, purchases.STRIPE_MIN_CHECKOUT_MINUTES)
        return created_at + dt.timedelta(minutes=minutes)

    def checkout_end(self, created_at: dt.datetime, provider: str) -> dt.datetime:
        """When an unpaid checkout is over: Stripe's checkout.session.expired arrives as it
        runs out; a PayPal hold waits for the next run of the hold job."""
        end = self.hold_until(created_at, provider)
        if provider != "stripe":
            end += dt.timedelta(minutes=self.rng.randint(1, 4))
        return end

    def seat(
        self, m: _Mentor, st: _Person, status: str, created_at: dt.datetime, provider: str
    ) -> _Seat:
        seat = _Seat(
            self.uid("seat", m.id, st.id, len(self.seats)),
            m,
            st,
            status,
            created_at,
            provider,
            hold_expires_at=self.hold_until(created_at, provider),
            story=self._story,
        )
        self.seats.append(seat)
        st.mentor_ids.add(m.id)
        st.saw(min(created_at, self.anchor))  # live holds use the exact clock
        return seat

    def order(
        self,
        seat: _Seat,
        product: _Product,
        status: str,
        created_at: dt.datetime,
        *,
        what: str,
        provider: str | None = None,
        paid_at: dt.datetime | None = None,
        promo: _Promo | None = None,
        ends_at: dt.datetime | None = None,
    ) -> _Order:
        if promo is not None:  # a code once per student (create_order refuses a second use)
            if (promo.id, seat.student.id) in self._promos_used:
                promo = None
            else:
                self._promos_used.add((promo.id, seat.student.id))
        o = _Order(
            self.uid("order", seat.id, len(self.orders)),
            seat,
            product,
            provider or seat.provider,
            status,
            created_at,
            f"{self._story}: {what}",
            promo=promo,
            paid_at=paid_at,
            ends_at=ends_at,
        )
        self.orders.append(o)
        seat.student.saw(min(created_at, self.anchor))
        return o

    def buy(
        self,
        seat: _Seat,
        product: _Product,
        paid_at: dt.datetime,
        *,
        promo: _Promo | None = None,
        renewal: bool = False,
    ) -> _Pack:
        """A paid order and the pack its payment creates."""
        if renewal:
            created = paid_at - dt.timedelta(minutes=self.rng.randint(2, 20))
            o = self.order(
                seat,
                product,
                "paid",
                created,
                what="renewal",
                provider=self.provider(),
                paid_at=paid_at,
                promo=promo,
            )
        else:
            o = self.order(
                seat, product, "paid", seat.created_at, what="order", paid_at=paid_at, promo=promo
            )
        pack = _Pack(
            self.uid("pack", o.key),
            seat,
            product,
            o,
            product.sessions,
            paid_at,
            paid_at + dt.timedelta(days=product.validity_days),
        )
        o.pack = pack
        self.packs.append(pack)
        return pack

    def paid_seat(self, m: _Mentor, st: _Person, paid_at: dt.datetime) -> _Seat:
        created = paid_at - dt.timedelta(minutes=self.rng.randint(3, 25))
        seat = self.seat(m, st, "active", created, self.provider())
        seat.activated_at = paid_at
        return seat

    def product_for(self, m: _Mentor, *, sessions: int | None = None) -> _Product:
        products = m.active_products()
        preferred = [p for p in products if p.sessions == sessions]
        return self.rng.choice(preferred or products)

    def event(
        self,
        at: dt.datetime,
        kind: str,
        subject: _Seat | _Product | _Mentor,
        until: dt.datetime | None = None,
    ) -> None:
        self.events.append(_Event(at, kind, subject, until))

    # stories --------------------------------------------------------------------------------

    def pick_live_mentor(self, st: _Person) -> _Mentor | None:
        n = len(self.mentors)
        for k in range(n):
            m = self.mentors[(self._rr + k) % n]
            if m.is_active and m.live < m.capacity and m.id not in st.mentor_ids:
                self._rr = (self._rr + k + 1) % n
                return m
        return None

    def room(self, m: _Mentor, lo: dt.datetime, hi: dt.datetime) -> bool:
        """A seat free all through [lo, hi]: today's seats (held since before, at the latest)
        plus the past seats held during that time leave one."""
        overlapping = sum(1 for s, e in m.past if s < hi and lo < e)
        return m.live + overlapping < m.capacity

    def pick_past_mentor(
        self, st: _Person, lo: dt.datetime, hi: dt.datetime, *, active: bool = True
    ) -> _Mentor | None:
        """A mentor who had a seat free for a storyline that held one within [lo, hi]."""
        choices = [
            m
            for m in self.mentors
            if m.id not in st.mentor_ids and (m.is_active or not active) and self.room(m, lo, hi)
        ]
        return self.rng.choice(choices) if choices else None

    def held(self, m: _Mentor, seat: _Seat) -> None:
        assert seat.released_at is not None
        m.past.append((seat.created_at, seat.released_at))

    def label(self, st: _Person, story: str, m: _Mentor) -> None:
        self._story = f"{st.email.split('@')[0]} ({story}, {m.person.email.split('@')[0]})"

    def stories(self) -> None:
        """Who buys from whom. The storylines that hold a seat today are told first; then the
        others, each with a mentor who had a seat free all the time theirs was held, so no
        mentor ever goes past capacity (the database refuses that, at every instant)."""
        later: list[tuple[_Person, str]] = []
        for block in range(self.scale):
            deck = list(STORY_DECK)
            self.rng.shuffle(deck)
            if block == 0:  # student1 is in the README: an active pack with some history
                deck.remove("active_mid")
                deck.insert(0, "active_mid")
            for j, story in enumerate(deck):
                st = self.students[block * STUDENTS_PER_SCALE + j]
                plan = [story]
                if st.index == 1:
                    plan.append("released")
                elif story in ("active_new", "active_mid", "renewed", "browsing") and (
                    self.rng.random() < 0.35
                ):
                    plan.append(self.rng.choice(("released", "hold_expired", "active_new")))
                for s in plan:
                    if s not in LIVE_STORIES:
                        later.append((st, s))
                        continue
                    m = self.mentors[0] if st.index == 1 else self.pick_live_mentor(st)
                    if m is None:  # every seat taken: this student only tried
                        later.append((st, "hold_expired"))
                        continue
                    m.live += 1
                    st.mentor_ids.add(m.id)
                    self.label(st, s, m)
                    getattr(self, s)(st, m)
        for st, s in later:
            if s == "released":
                self.released(st)
            elif s != "browsing":
                getattr(self, s)(st)

    def active_new(self, st: _Person, m: _Mentor) -> None:
        n = self.nth("active_new")
        paid = self.ago(2, 20)
        seat = self.paid_seat(m, st, paid)
        promo = self.promos[0] if n % 3 == 0 else None
        pack = self.buy(seat, self.product_for(m), paid, promo=promo)
        past = ["completed"] if paid < self.anchor - 8 * DAY and self.rng.random() < 0.7 else []
        self.series(pack, past, paid + 2 * DAY, self.anchor - 2 * HOUR)
        if n % 4 == 1:  # a future session the student canceled in time: credit restored
            lo = self.anchor + 2 * DAY
            self.session(pack, "canceled", lo, min(pack.expires_at, lo + 14 * DAY))
        self.scheduled(pack, min(pack.sessions_total - len(past), self.rng.randint(1, 2)))

    def active_mid(self, st: _Person, m: _Mentor) -> None:
        rng = self.rng
        n = self.nth("active_mid")
        paid = self.ago(30, 55)
        seat = self.paid_seat(m, st, paid)
        product = self.product_for(m)
        scoped = self.promos[1]
        promo = scoped if n == 0 and scoped.mentor is m else None
        pack = self.buy(seat, product, paid, promo=promo)
        total = pack.sessions_total
        weeks = int((self.anchor - paid) / (7 * DAY))
        most = max(1, min(total - 1, weeks))
        consume = rng.randint(min(most, max(1, total // 2)), most)
        statuses = rng.choices(CONSUMING, weights=(16, 1, 1), k=consume)
        if n == 0 and "late_canceled" not in statuses:
            statuses[-1] = "late_canceled"
        if rng.random() < 0.3 or n == 0:
            statuses.insert(rng.randrange(len(statuses) + 1), "canceled")
        if n == 1:
            if "student_no_show" not in statuses:
                statuses[0] = "student_no_show"
            statuses.insert(1, "mentor_no_show")
        self.series(pack, statuses, paid + 5 * DAY, self.anchor - 2 * HOUR, required=n < 2)
        consumed = sum(1 for s in pack.sessions if s.status in CONSUMING)
        remaining = total - consumed
        if n == 0:  # an admin gave a make-up session, right after the last past one
            at = max((s.closed_at for s in pack.sessions), default=paid + DAY) + 30 * MINUTE
            reason = "Make-up session: two calls dropped during the video provider outage."
            pack.credits.append(
                _Credit(at, "admin_adjustment", 1, reason=reason, actor_id=self.admin_id)
            )
            self.audit_row(
                self.admin_id,
                "pack.credits_adjusted",
                "session_packs",
                pack,
                {"remaining_sessions": remaining},
                {"remaining_sessions": remaining + 1},
                reason,
                at,
            )
            remaining += 1
            # ...and a renewal the student started, switched to the other provider (which
            # cancels the first checkout) and abandoned (no hold: the seat is theirs)
            created = self.ago(1, 5)
            provider = self.provider()
            if len(self.providers) > 1:
                self.order(
                    seat, product, "canceled", created, what="renewal checkout", provider=provider
                )
                created += dt.timedelta(minutes=rng.randint(2, 6))
                provider = "paypal" if provider == "stripe" else "stripe"
            self.order(
                seat,
                product,
                "expired",
                created,
                what="renewal checkout, abandoned",
                provider=provider,
                ends_at=self.checkout_end(created, provider),
            )
        if n == 1:  # a refund of one session's worth (partial: recorded, admins told)
            pack.order.refunds.append((self.ago(1, 6), False))
        self.scheduled(pack, min(remaining, rng.randint(1, 2)))

    def consuming_statuses(self, total: int) -> list[str]:
        statuses = ["completed"] * total
        if self.rng.random() < 0.3:
            statuses[self.rng.randrange(total - 1)] = "student_no_show"
        if self.rng.random() < 0.3:
            statuses.insert(self.rng.randrange(total), self.rng.choice(RESTORED))
        return statuses

    def used_up(
        self, pack: _Pack, lo: dt.datetime, last_lo: dt.datetime, last_hi: dt.datetime
    ) -> None:
        """Every credit used: sessions over [lo, last_lo], the last one in [last_lo, last_hi];
        the pack is depleted when the last one closes."""
        statuses = self.consuming_statuses(pack.sessions_total)
        self.series(pack, statuses[:-1], lo, last_lo - DAY, required=True)
        last = self.session(pack, statuses[-1], last_lo, last_hi) or self.session(
            pack, statuses[-1], last_lo - 6 * DAY, last_hi
        )
        if last is None:
            raise StackError(f"seed: no free slot for the last session of pack {pack.id}")
        pack.status = "depleted"
        pack.depleted_at = last.closed_at
        consuming = [s for s in pack.sessions if s.status in CONSUMING]
        if len(consuming) >= 2:
            at = consuming[-2].closed_at + MINUTE
            self.notify(
                pack.student,
                "renewal_reminder",
                at,
                pack=pack,
                payload={"mentor": pack.mentor.public_name},
            )

    def grace(self, seat: _Seat, started: dt.datetime, pack: _Pack) -> None:
        """Grace from `started`; released at its end if that is past."""
        ends = started + dt.timedelta(hours=self.platform.grace_hours)
        warn = ends - dt.timedelta(hours=self.platform.grace_warning_hours)
        seat.grace_started_at, seat.grace_ends_at = started, ends
        self.event(started, "grace", seat, until=ends)
        st = seat.student
        payload = {"mentor": seat.mentor.public_name, "grace_ends_at": _iso(ends)}
        self.notify(st, "grace_started", started + MINUTE, pack=pack, payload=payload)
        self.notify(st, "grace_warning", warn, pack=pack, payload=payload)
        if ends <= self.anchor:
            seat.status = "released"
            seat.released_at = ends + dt.timedelta(minutes=self.rng.randint(1, 4))
            seat.release_reason = "grace_ended"
            self.event(seat.released_at, "release", seat)
            self.notify(
                st,
                "seat_released",
                seat.released_at + MINUTE,
                pack=pack,
                payload={"mentor": seat.mentor.public_name},
            )
        else:
            seat.status = "grace"

    def renewed(self, st: _Person, m: _Mentor) -> None:
        product = self.product_for(m, sessions=4)
        if product.old_price_cents is None:  # the student's first pack was cheaper
            product.old_price_cents = product.price_cents - self.rng.choice((2000, 3000, 4000))
            self.event(self.anchor - PRICE_RAISE_DAYS * DAY, "price", product)
        paid1 = self.ago(60, 80)
        seat = self.paid_seat(m, st, paid1)
        pack1 = self.buy(seat, product, paid1)
        last_lo = self.anchor - 24 * DAY
        self.used_up(pack1, paid1 + 4 * DAY, last_lo, last_lo + 7 * DAY)
        assert pack1.depleted_at is not None
        grace_ends = pack1.depleted_at + dt.timedelta(hours=self.platform.grace_hours)
        self.event(pack1.depleted_at, "grace", seat, until=grace_ends)
        self.notify(
            st,
            "grace_started",
            pack1.depleted_at + MINUTE,
            pack=pack1,
            payload={"mentor": m.public_name},
        )
        # renewed in grace at the grandfathered price: the payment brings the seat back
        paid2 = _minute(pack1.depleted_at + dt.timedelta(hours=self.rng.uniform(6, 60)))
        pack2 = self.buy(seat, product, paid2, renewal=True)
        seat.activated_at = paid2
        done = ["completed"] * self.rng.randint(0, 2)
        self.series(pack2, done, paid2 + 2 * DAY, self.anchor - 2 * HOUR)
        self.scheduled(pack2, self.rng.randint(1, 2))

    def grace_depleted(self, st: _Person, m: _Mentor) -> None:
        paid = self.ago(40, 70)
        seat = self.paid_seat(m, st, paid)
        pack = self.buy(seat, self.product_for(m, sessions=4), paid)
        self.used_up(pack, paid + 4 * DAY, self.anchor - 66 * HOUR, self.anchor - 2 * HOUR)
        assert pack.depleted_at is not None
        self.grace(seat, pack.depleted_at, pack)

    def grace_expired(self, st: _Person, m: _Mentor) -> None:
        product = self.product_for(m)
        paid = _minute(
            self.anchor
            - dt.timedelta(days=product.validity_days)
            - dt.timedelta(hours=self.rng.uniform(8, 60))
        )
        self.expired(st, m, product, paid)

    def expired(self, st: _Person, m: _Mentor, product: _Product, paid: dt.datetime) -> _Seat:
        seat = self.paid_seat(m, st, paid)
        pack = self.buy(seat, product, paid)
        used = self.rng.randint(1, max(1, product.sessions // 2))
        self.series(
            pack,
            ["completed"] * used,
            paid + 4 * DAY,
            min(pack.expires_at - 5 * DAY, self.anchor - 2 * HOUR),
            required=True,
        )
        pack.status = "expired"
        pack.expired_at = pack.expires_at + dt.timedelta(minutes=self.rng.randint(1, 5))
        self.grace(seat, pack.expired_at, pack)
        return seat

    def released(self, st: _Person) -> None:
        """An earlier student: pack used up (or expired) months ago, seat released."""
        products = [p for m in self.mentors for p in m.products]
        validity = dt.timedelta(days=max(p.validity_days for p in products))
        sessions = max(p.sessions for p in products)
        grace = dt.timedelta(hours=self.platform.grace_hours)
        # from the earliest hold to the latest release either way can take (see below)
        lo = self.anchor - validity - 90 * DAY - HOUR
        hi = self.anchor + grace + max(-19 * DAY, (7 * sessions + 16 - 110) * DAY)
        m: _Mentor | None = None
        product: _Product | None = None
        target = next((t for t in self._released_targets if t[0].id not in st.mentor_ids), None)
        if st.index == 1:  # the README's student: history with a mentor still listed
            target = None
        if target is not None and self.room(target[0], lo, hi):
            self._released_targets.remove(target)
            m, product = target
        else:
            m = self.pick_past_mentor(st, lo, hi, active=st.index == 1)
        if m is None:  # no seat was free all that time: this student never bought
            return
        self.label(st, "released", m)
        product = product or self.product_for(m)
        if self.rng.random() < 0.25:
            paid = self.ago(product.validity_days + 20, product.validity_days + 90)
            self.held(m, self.expired(st, m, product, paid))
            return
        paid = self.ago(110, 220)
        seat = self.paid_seat(m, st, paid)
        spring = self.promos[2]
        promo = (
            spring
            if spring.valid_from <= seat.created_at < (spring.valid_until or self.anchor)
            else None
        )
        pack = self.buy(seat, product, paid, promo=promo)
        last_lo = paid + dt.timedelta(days=7 * product.sessions + 5)
        self.used_up(pack, paid + 4 * DAY, last_lo, last_lo + 10 * DAY)
        assert pack.depleted_at is not None
        self.grace(seat, pack.depleted_at, pack)
        self.held(m, seat)

    def refunded(self, st: _Person) -> None:
        paid = self.ago(12, 25)
        refunded_at = self.ago(1, 4)
        m = self.pick_past_mentor(st, paid - HOUR, refunded_at)
        if m is None:
            return
        self.label(st, "refunded", m)
        seat = self.paid_seat(m, st, paid)
        pack = self.buy(seat, self.product_for(m), paid)
        self.series(pack, ["completed"], paid + 3 * DAY, refunded_at - 12 * HOUR)
        upcoming = self.session(pack, "scheduled", self.anchor + 2 * DAY, self.anchor + 14 * DAY)
        if upcoming is not None:  # the refund cancels it (credit not given back)
            upcoming.status, upcoming.by_refund = "canceled", True
            upcoming.canceled_at, upcoming.cancel_reason = refunded_at, "pack refunded"
            upcoming.reschedule_count = 0
        pack.status = "refunded"
        pack.refunded_at = refunded_at
        pack.order.status = "refunded"
        pack.order.refunds.append((refunded_at, True))
        seat.status, seat.released_at, seat.release_reason = "released", refunded_at, "refunded"
        self.held(m, seat)

    def hold(self, st: _Person, m: _Mentor) -> None:
        created = _minute(self.now) - dt.timedelta(minutes=self.rng.randint(2, 15))
        seat = self.seat(m, st, "hold", created, self.provider())
        promo = self.promos[0] if self.nth("hold") == 0 else None
        self.order(seat, self.product_for(m), "pending", created, what="checkout", promo=promo)

    def hold_expired(self, st: _Person) -> None:
        created = self.ago(1, 12)
        m = self.pick_past_mentor(st, created - HOUR, created + HOUR)
        if m is None:
            return
        self.label(st, "hold_expired", m)
        provider = self.provider()
        seat = self.seat(m, st, "released", created, provider)
        end = self.checkout_end(created, provider)
        seat.released_at, seat.release_reason = end, "hold_expired"
        self.order(
            seat, self.product_for(m), "expired", created, what="checkout, abandoned", ends_at=end
        )
        self.held(m, seat)

    def flagged(self, st: _Person) -> None:
        """Paid less than the order says: the payment is recorded, the order flagged, the
        admins told, nothing granted; the hold runs out."""
        created = self.ago(2, 8)
        m = self.pick_past_mentor(st, created - HOUR, created + HOUR)
        if m is None:
            return
        self.label(st, "flagged", m)
        seat = self.seat(m, st, "released", created, self.provider())
        captured = created + dt.timedelta(minutes=self.rng.randint(3, 20))
        o = self.order(
            seat, self.product_for(m), "flagged", created, what="order", paid_at=captured
        )
        o.underpaid = True
        assert seat.hold_expires_at is not None
        seat.released_at = seat.hold_expires_at + dt.timedelta(minutes=self.rng.randint(1, 4))
        seat.release_reason = "hold_expired"
        self.event(seat.released_at, "hold_job", seat)
        self.held(m, seat)

    # credits, notifications, audit ----------------------------------------------------------

    def settle(self) -> None:
        """Booking times, ledger entries and the final remaining credits of every pack."""
        for pack in self.packs:
            st, m = pack.student, pack.mentor
            notice = dt.timedelta(minutes=m.notice)
            prev_end: dt.datetime | None = None
            prev_booked = pack.purchased_at
            for s in sorted(pack.sessions, key=lambda x: x.starts_at):
                # booked in order: after the previous one is over, or (when that one is still
                # upcoming) after it was booked
                earliest = pack.purchased_at + 20 * MINUTE
                if prev_end is not None:
                    after = prev_end + HOUR
                    if after >= self.anchor:
                        after = prev_booked + 5 * MINUTE
                    earliest = max(earliest, after)
                latest = min(s.starts_at - notice, self.anchor - 15 * MINUTE)
                if s.canceled_at is not None:
                    latest = min(latest, s.canceled_at - HOUR)
                s.created_at = (
                    self.between(earliest, latest)
                    if latest > earliest
                    else max(pack.purchased_at + 20 * MINUTE, latest)
                )
                prev_end = s.canceled_at if s.status == "canceled" else s.ends_at
                prev_booked = s.created_at
                pack.credits.append(
                    _Credit(s.created_at, "session_booked", -1, s.id, actor_id=st.id)
                )
                if s.status == "canceled" and not s.by_refund:
                    assert s.canceled_at is not None
                    pack.credits.append(
                        _Credit(
                            s.canceled_at,
                            "session_canceled",
                            1,
                            s.id,
                            reason=s.cancel_reason,
                            actor_id=s.canceled_by,
                        )
                    )
                elif s.status == "mentor_no_show":
                    pack.credits.append(
                        _Credit(
                            s.ends_at + 45 * MINUTE,
                            "mentor_no_show",
                            1,
                            s.id,
                            actor_id=self.admin_id,
                        )
                    )
            pack.credits.sort(key=lambda c: c.at)
            remaining = pack.sessions_total
            for c in pack.credits:
                remaining += c.delta
                if remaining < 0:
                    raise StackError(f"seed: pack {pack.id} would go below zero credits")
            if pack.expired_at is not None and remaining > 0:  # as private.expire_packs()
                pack.credits.append(
                    _Credit(
                        pack.expired_at + dt.timedelta(seconds=1),
                        "pack_expired",
                        -remaining,
                        reason="pack expired",
                    )
                )
                remaining = 0
            if pack.refunded_at is not None:  # the refund webhook forfeits what is left
                remaining = 0
            scheduled = [s for s in pack.sessions if s.status == "scheduled"]
            if pack.status == "depleted" and (remaining != 0 or scheduled):
                raise StackError(f"seed: depleted pack {pack.id} has credits or sessions left")
            pack.remaining = remaining  # at 1, the ledger's trigger queues "one session left"
            for s in pack.sessions:
                self._session_messages(pack, s)
            for t in [pack.purchased_at, *(c.at for c in pack.credits)]:
                st.saw(t)

    def _session_messages(self, pack: _Pack, s: _Session) -> None:
        m, st = pack.mentor, pack.student
        payload = {
            "mentor": m.public_name,
            "student": st.name,
            "starts_at": _iso(s.starts_at),
            "mentor_time_zone": m.person.zone,
            "student_time_zone": st.zone,
        }
        if s.status == "scheduled":
            assert s.created_at is not None
            self.notify(
                m.person,
                "session_booked",
                s.created_at + MINUTE,
                session=s,
                pack=pack,
                payload=payload,
            )
            for kind, before in (("session_reminder_24h", DAY), ("session_reminder_1h", HOUR)):
                self.notify(st, kind, s.starts_at - before, session=s, pack=pack, payload=payload)
        elif s.status == "canceled" and s.starts_at > self.anchor:
            assert s.canceled_at is not None
            if not s.by_refund:  # the refund queued its own message
                self.notify(
                    m.person,
                    "session_canceled",
                    s.canceled_at + MINUTE,
                    session=s,
                    pack=pack,
                    payload={**payload, "reason": s.cancel_reason or ""},
                )
            self.notify(
                st,
                "session_reminder_24h",
                s.starts_at - DAY,
                session=s,
                pack=pack,
                payload=payload,
                voided_at=s.canceled_at,
            )

    def notify(
        self,
        to: _Person,
        kind: str,
        at: dt.datetime,
        *,
        session: _Session | None = None,
        pack: _Pack | None = None,
        payload: dict[str, Any] | None = None,
        voided_at: dt.datetime | None = None,
    ) -> None:
        channels = ["email"] + (["discord"] if to.discord else [])
        for channel in channels:
            if voided_at is not None:
                status, sent_at = "voided", None
            elif at <= self.anchor:
                status, sent_at = "sent", at + dt.timedelta(seconds=self.rng.randint(2, 40))
            else:
                status, sent_at = "pending", None
            created = min(at, self.anchor)
            if (
                session is not None
                and session.created_at is not None
                and kind.startswith("session_reminder")
            ):
                created = session.created_at
            self.notifications.append(
                _Note(
                    to,
                    kind,
                    channel,
                    at,
                    payload or {},
                    session,
                    pack,
                    status,
                    sent_at,
                    voided_at,
                    created,
                    1 if status == "sent" else 0,
                )
            )

    def fail_one_discord_message(self) -> None:
        """A delivery that failed for good (the person blocked the bot)."""
        for n in self.notifications:
            if n.channel == "discord" and n.status == "sent":
                n.status, n.sent_at, n.attempts = "failed", None, 5
                n.last_error = "Discord API 403 (50007): Cannot send messages to this user"
                return

    def audit_row(
        self,
        actor: uuid.UUID | None,
        action: str,
        table: str,
        row: uuid.UUID | _Pack,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        reason: str | None,
        at: dt.datetime,
    ) -> None:
        self.audit.append(_Audit(actor, action, table, row, old, new, reason, at))

    def admin_history(self) -> None:
        admin = self.admin_id
        for m in self.mentors:
            created = m.person.created_at
            assert created is not None
            self.audit_row(
                admin,
                "profile.role_changed",
                "profiles",
                m.id,
                {"role": "student"},
                {"role": "mentor"},
                "Approved mentor application",
                created + HOUR,
            )
            if not m.is_active:  # after the last purchase from them (released storylines)
                at = self.ago(15, 30)
                self.event(at, "deactivate", m)
                self.audit_row(
                    admin,
                    "mentor.deactivated",
                    "mentors",
                    m.id,
                    {"is_active": True},
                    {"is_active": False},
                    "Mentor on sabbatical; hidden from the catalog at their request.",
                    at,
                )
            for p in m.products:
                if not p.is_active:  # retired after the last order of it
                    at = self.ago(100, 140)
                    last = max((o.created_at for o in self.orders if o.product is p), default=at)
                    at = min(max(at, _minute(last + self.rng.uniform(1, 5) * DAY)), self.anchor)
                    self.event(at, "retire", p)
                    self.audit_row(
                        m.id,
                        "product.deactivated",
                        "mentorship_products",
                        p.id,
                        {"is_active": True},
                        {"is_active": False},
                        "Replaced by the 4-session mentorship.",
                        at,
                    )
        for promo in self.promos:
            self.audit_row(
                admin,
                "promotion_code.created",
                "promotion_codes",
                promo.id,
                None,
                {"code": promo.code},
                None,
                promo.valid_from - DAY,
            )

    def finish_people(self) -> None:
        for st in self.students:
            first = st.first_event or self.ago(5, 60)
            st.created_at = _minute(first - dt.timedelta(days=self.rng.uniform(1, 40)))

    def build(self) -> None:
        self.people()
        self.catalog()
        self.stories()
        self.settle()
        self.fail_one_discord_message()
        self.admin_history()
        self.finish_people()


def _hhmm(value: str) -> int:
    h, m = value.split(":")
    return int(h) * 60 + int(m)


# --------------------------------------------------------------------------------------------
# Writing it
# --------------------------------------------------------------------------------------------

# Tables and columns whose rows belong to a demo user (student or mentor), in delete order.
_CLEANUP: tuple[str, ...] = (
    # admins outside the demo were told about demo orders too (payment_flagged, refunds)
    """delete from public.notifications n
        where n.recipient_id in (select id from _demo_users)
           or n.pack_id in (select p.id from public.session_packs p
                            where p.student_id in (select id from _demo_users)
                               or p.mentor_id in (select id from _demo_users))
           or n.session_id in (select s.id from public.sessions s
                               where s.student_id in (select id from _demo_users)
                                  or s.mentor_id in (select id from _demo_users))
           or n.payload ->> 'order_id' in (select o.id::text from public.orders o
                                           where o.student_id in (select id from _demo_users)
                                              or o.mentor_id in (select id from _demo_users))""",
    """delete from private.webhook_events w
        where w.order_id in (select o.id from public.orders o
                             where o.student_id in (select id from _demo_users)
                                or o.mentor_id in (select id from _demo_users))
           or (w.provider, w.payment_ref) in (
                select p.provider, p.provider_payment_id from public.payments p
                 where p.student_id in (select id from _demo_users))""",
    """delete from private.calendar_jobs
        where mentor_id in (select id from _demo_users)
           or session_id in (select s.id from public.sessions s
                             where s.student_id in (select id from _demo_users))""",
    """delete from public.session_credit_ledger
        where student_id in (select id from _demo_users)
           or mentor_id in (select id from _demo_users)""",
    """with d as (delete from public.sessions
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    "update public.sessions set canceled_by = null where canceled_by in (select id from _demo_users)",
    """with d as (delete from public.payments
                   where student_id in (select id from _demo_users)
                      or order_id in (select o.id from public.orders o
                                      where o.student_id in (select id from _demo_users)
                                         or o.mentor_id in (select id from _demo_users))
                  returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.session_packs
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.orders
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.seat_reservations
                   where student_id in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    """with d as (delete from public.promotion_codes
                   where created_by in (select id from _demo_users)
                      or mentor_id in (select id from _demo_users)
                      or product_id in (select p.id from public.mentorship_products p
                                        where p.mentor_id in (select id from _demo_users))
                  returning id)
       insert into _demo_rows select id from d""",
    """update public.promotion_codes set created_by = null
        where created_by in (select id from _demo_users)""",
    """with d as (delete from public.mentorship_products
                   where mentor_id in (select id from _demo_users) returning id)
       insert into _demo_rows select id from d""",
    "delete from private.calendar_busy_intervals where mentor_id in (select id from _demo_users)",
    "delete from private.calendar_sync_state where mentor_id in (select id from _demo_users)",
    "delete from private.google_credentials where mentor_id in (select id from _demo_users)",
    "delete from public.mentors where id in (select id from _demo_users)",
    "delete from public.profiles where id in (select id from _demo_users)",
    "delete from auth.users where id in (select id from _demo_users)",
    """delete from public.audit_log
        where actor_id in (select id from _demo_users)
           or row_id in (select id from _demo_users)
           or row_id in (select id from _demo_rows)""",
)

# Single foreign-key columns that point at tables the cleanup deleted from: none may still
# point at a deleted row (the cleanup runs with triggers, so also foreign keys, switched off).
_FK_COLUMNS = """
select c.conrelid::regclass::text, n.nspname, r.relname, a.attname
from pg_catalog.pg_constraint c
join pg_catalog.pg_class r on r.oid = c.conrelid
join pg_catalog.pg_namespace n on n.oid = r.relnamespace
cross join lateral unnest(c.conkey, c.confkey) as k(col, ref)
join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.col
join pg_catalog.pg_attribute ra on ra.attrelid = c.confrelid and ra.attnum = k.ref
where c.contype = 'f' and ra.attname = 'id' and a.atttypid = 'uuid'::regtype
  and c.confrelid = any (%s::regclass[])
"""
_CLEANED_TABLES = [
    "auth.users",
    "public.profiles",
    "public.mentors",
    "public.mentorship_products",
    "public.promotion_codes",
    "public.seat_reservations",
    "public.orders",
    "public.payments",
    "public.session_packs",
    "public.sessions",
]


def _cleanup(cur: psycopg.Cursor[Any]) -> int:
    cur.execute("set local session_replication_role = replica")
    cur.execute(
        "create temp table _demo_users on commit drop as "
        "select id from auth.users where lower(email) like %s",
        ("%" + DEMO_EMAIL_SUFFIX,),
    )
    found = cur.rowcount
    cur.execute("create temp table _demo_rows (id uuid primary key) on commit drop")
    for statement in _CLEANUP:
        cur.execute(statement)  # fixed SQL, no values
    cur.execute(_FK_COLUMNS, (_CLEANED_TABLES,))
    dangling = []
    for table, schema, name, column in cur.fetchall():
        cur.execute(
            sql.SQL(
                "select exists (select from {t} where {c} in (select id from _demo_users) "
                "or {c} in (select id from _demo_rows))"
            ).format(t=sql.Identifier(schema, name), c=sql.Identifier(column))
        )
        row = cur.fetchone()
        if row is not None and row[0]:
            dangling.append(f"{table}.{column}")
    if dangling:
        raise StackError(
            "seed: rows of other users still point at demo data ("
            + ", ".join(sorted(dangling))
            + "); nothing was changed. Delete or detach those rows, or teach the cleanup in "
            "mentorships/seed.py about them"
        )
    cur.execute("set local session_replication_role = origin")
    return found


def _copy(cur: psycopg.Cursor[Any], table: str, columns: str, rows: Sequence[Row]) -> None:
    schema, name = table.split(".")
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, name),
        sql.SQL(", ").join(sql.Identifier(c.strip()) for c in columns.split(",")),
    )
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _write_catalog(cur: psycopg.Cursor[Any], b: _Builder, progress: Callable[[str], None]) -> None:
    """People, mentors, products and promotion codes, as they were before the storylines:
    every mentor listed and every product sold, at its price then (the replay retires, raises
    and deactivates them when the storylines say)."""
    assert b.admin is not None
    people = [b.admin, *(m.person for m in b.mentors), *b.students]
    app_meta = Jsonb({"provider": "email", "providers": ["email"]})
    users: list[Row] = []
    for person in people:
        created = person.created_at
        assert created is not None
        users.append(
            (
                uuid.UUID(int=0),
                person.id,
                "authenticated",
                "authenticated",
                person.email,
                app_meta,
                Jsonb({"display_name": person.name, "time_zone": person.zone}),
                created + 5 * MINUTE,
                b.between(max(created + HOUR, b.anchor - 20 * DAY), b.anchor),
                created,
                created,
            )
        )
    _copy(
        cur,
        "auth.users",
        "instance_id, id, aud, role, email, raw_app_meta_data, "
        "raw_user_meta_data, email_confirmed_at, last_sign_in_at, created_at, updated_at",
        users,
    )
    cur.execute(
        "update public.profiles p set role = v.role::public.user_role, "
        "discord_user_id = v.discord, created_at = v.created_at "
        "from unnest(%s::uuid[], %s::text[], %s::text[], %s::timestamptz[]) "
        "as v(id, role, discord, created_at) where p.id = v.id",
        (
            [p.id for p in people],
            [p.role for p in people],
            [p.discord for p in people],
            [p.created_at for p in people],
        ),
    )
    progress(
        f"  users: {len(users)} ({len(b.mentors)} mentors, {len(b.students)} students, 1 admin)"
    )

    _copy(
        cur,
        "public.mentors",
        "id, slug, public_name, headline, bio, portfolio_url, "
        "time_zone, working_hours, seat_capacity, slot_minutes, slot_grid_minutes, "
        "buffer_minutes, min_notice_minutes, booking_horizon_days, accepting_students, "
        "is_active, created_at, updated_at",
        [
            (
                m.id,
                m.slug,
                m.public_name,
                m.headline,
                m.bio,
                f"https://portfolio.{DEMO_DOMAIN}/{m.slug}",
                m.person.zone,
                Jsonb(m.hours),
                m.capacity,
                m.slot,
                m.grid,
                m.buffer,
                m.notice,
                m.horizon,
                True,
                True,
                m.person.created_at,
                m.person.created_at,
            )
            for m in b.mentors
        ],
    )
    products = [
        (
            p.id,
            m.id,
            p.title,
            p.description,
            p.sessions,
            p.validity_days,
            p.old_price_cents or p.price_cents,
            p.currency,
            True,
            p.created_at,
            p.created_at,
        )
        for m in b.mentors
        for p in m.products
    ]
    _copy(
        cur,
        "public.mentorship_products",
        "id, mentor_id, title, description, "
        "sessions_count, validity_days, price_cents, currency, is_active, created_at, "
        "updated_at",
        products,
    )
    _copy(
        cur,
        "public.promotion_codes",
        "id, code, percent_off, amount_off_cents, currency, "
        "valid_from, valid_until, max_redemptions, mentor_id, is_active, created_by, "
        "created_at, updated_at",
        [
            (
                p.id,
                p.code,
                p.percent_off,
                p.amount_off_cents,
                p.currency,
                p.valid_from,
                p.valid_until,
                25 if p.mentor else None,
                p.mentor.id if p.mentor else None,
                True,
                b.admin.id,
                p.valid_from - DAY,
                p.valid_from - DAY,
            )
            for p in b.promos
        ],
    )
    progress(
        f"  catalog: {len(b.mentors)} mentors, {len(products)} products, "
        f"{len(b.promos)} promotion codes"
    )


def _session_rows(pack: _Pack, *, before_refund: bool = False) -> list[Row]:
    rows: list[Row] = []
    for s in pack.sessions:
        status, canceled_at, reason = s.status, s.canceled_at, s.cancel_reason
        if before_refund and s.by_refund:  # still scheduled: the refund cancels it
            status, canceled_at, reason = "scheduled", None, None
        updated = max(t for t in (s.created_at, canceled_at, s.completed_at) if t is not None)
        if status in ("student_no_show", "mentor_no_show"):
            updated = s.closed_at
        rows.append(
            (
                s.id,
                pack.id,
                pack.mentor.id,
                pack.student.id,
                status,
                s.starts_at,
                s.ends_at,
                s.blocked_until,
                s.id.hex,
                s.reschedule_count,
                canceled_at,
                s.canceled_by,
                reason,
                s.completed_at,
                s.notes,
                s.created_at,
                updated,
            )
        )
    return rows


_SESSION_COLUMNS = (
    "id, pack_id, mentor_id, student_id, status, starts_at, "
    "ends_at, blocked_until, video_channel, reschedule_count, canceled_at, canceled_by, "
    "cancel_reason, completed_at, notes, created_at, updated_at"
)
_LEDGER_COLUMNS = (
    "pack_id, mentor_id, student_id, session_id, kind, delta, reason, actor_id, created_at"
)


def _credit_rows(packs: Sequence[_Pack]) -> list[Row]:
    credits = sorted(((c.at, p, c) for p in packs for c in p.credits), key=lambda x: x[0])
    return [
        (p.id, p.mentor.id, p.student.id, c.session_id, c.kind, c.delta, c.reason, c.actor_id, c.at)
        for _, p, c in credits
    ]


def _write_sessions(cur: psycopg.Cursor[Any], packs: Sequence[_Pack], **kw: bool) -> int:
    """Sessions, then their ledger entries (the ledger's statement trigger moves each pack by
    the sum of its entries in the COPY)."""
    sessions = [row for p in packs for row in _session_rows(p, **kw)]
    _copy(cur, "public.sessions", _SESSION_COLUMNS, sessions)
    _copy(cur, "public.session_credit_ledger", _LEDGER_COLUMNS, _credit_rows(packs))
    for p in packs:
        p.written = True
    return len(sessions)


@dataclass(order=True)
class _Step:
    at: dt.datetime
    rank: int  # at the same instant: catalog and seat changes before orders, orders in plan order
    seq: int
    kind: str = field(compare=False)
    order: _Order | None = field(compare=False, default=None)
    event: _Event | None = field(compare=False, default=None)
    full: bool = field(compare=False, default=False)


def _timeline(b: _Builder) -> list[_Step]:
    steps: list[_Step] = []

    def add(at: dt.datetime, rank: int, kind: str, **kw: Any) -> None:
        steps.append(_Step(at, rank, len(steps), kind, **kw))

    for e in b.events:
        add(e.at, 0, e.kind, event=e)
    for o in b.orders:
        add(o.created_at, 1, "order", order=o)
        if o.paid_at is not None:
            add(o.paid_at, 1, "pay", order=o)
        for at, full in o.refunds:
            add(at, 1, "refund", order=o, full=full)
        if o.ends_at is not None:
            add(o.ends_at, 1, "end", order=o)
    steps.sort()
    late = [s for s in steps if s.at > b.now]
    if late:
        raise StackError(f"seed: a storyline step lies in the future ({late[0].kind} {late[0].at})")
    return steps


def _seat_story(seat: _Seat) -> str:
    return seat.story or f"seat of {seat.student.email} with {seat.mentor.person.email}"


def _play(r: purchases.Replay, step: _Step) -> None:
    """One step of the timeline at its instant (the clock is frozen there)."""
    r.at(step.at)
    if step.event is not None:
        e = step.event
        subject = e.subject
        if e.kind == "hold_job":
            assert isinstance(subject, _Seat)
            r.expire_holds()
            row = r.conn.execute(
                "select status::text from public.seat_reservations where id = %s", (subject.id,)
            ).fetchone()
            if row is None or row[0] != "released":
                raise StackError(
                    f"seed: {_seat_story(subject)}: the hold job left seat {subject.id} "
                    f"{row[0] if row else 'missing'}, expected released"
                )
            return
        changed = 0
        what = ""
        if e.kind == "price":
            assert isinstance(subject, _Product)
            what = f"product {subject.title!r} going up to {subject.price_cents}"
            changed = r.execute(
                "update public.mentorship_products set price_cents = %s where id = %s",
                (subject.price_cents, subject.id),
            )
        elif e.kind == "retire":
            assert isinstance(subject, _Product)
            what = f"product {subject.title!r} retired"
            changed = r.execute(
                "update public.mentorship_products set is_active = false where id = %s",
                (subject.id,),
            )
        elif e.kind == "deactivate":
            assert isinstance(subject, _Mentor)
            what = f"mentor {subject.public_name} leaving the catalog"
            changed = r.execute(
                "update public.mentors set is_active = false, accepting_students = false"
                " where id = %s",
                (subject.id,),
            )
        elif e.kind == "grace":
            assert isinstance(subject, _Seat)
            what = f"{_seat_story(subject)}: seat {subject.id} into grace (it was not active)"
            changed = r.execute(
                "update public.seat_reservations set status = 'grace', grace_started_at = %s,"
                " grace_ends_at = %s where id = %s and status = 'active'",
                (e.at, e.until, subject.id),
            )
        elif e.kind == "release":
            assert isinstance(subject, _Seat)
            what = f"{_seat_story(subject)}: seat {subject.id} released (it was not in grace)"
            changed = r.execute(
                "update public.seat_reservations set status = 'released', released_at = %s,"
                " release_reason = 'grace_ended' where id = %s and status = 'grace'",
                (e.at, subject.id),
            )
        if changed != 1:
            raise StackError(f"seed: {what}: {changed} rows changed, expected 1")
        return

    o = step.order
    assert o is not None
    if step.kind == "order":
        answer = r.create_order(
            o.story,
            student_id=o.seat.student.id,
            email=o.seat.student.email,
            product_id=o.product.id,
            provider=o.provider,
            promo_code=o.promo.code if o.promo else None,
        )
        o.answer, o.id, o.amount_cents = (
            answer,
            uuid.UUID(answer["id"]),
            int(answer["amount_cents"]),
        )
        seat_id = uuid.UUID(answer["seat_reservation_id"])
        if not o.seat.created:
            o.seat.id, o.seat.created = seat_id, True
        elif o.seat.id != seat_id:
            raise StackError(
                f"seed: {o.story}: create_order put the order on seat {seat_id}, "
                f"expected the student's seat {o.seat.id}"
            )
    elif step.kind == "pay":
        amount = o.amount_cents
        if o.underpaid:
            amount = amount - 5000 if amount > 5000 else amount // 2
        answer = r.paid(
            o.story,
            o.answer,
            key=o.key,
            amount_cents=amount,
            instant=step.at,
            expect="flagged" if o.underpaid else "fulfilled",
        )
        if o.pack is not None:
            o.pack.id = uuid.UUID(answer["pack_id"])
    elif step.kind == "refund":
        pack = o.pack
        assert pack is not None
        if step.full:
            refund = o.amount_cents - o.refunded_cents
            with r.transaction() as cur:  # what happened to the pack before its refund
                _write_sessions(cur, [pack], before_refund=True)
        else:
            refund = o.amount_cents // pack.sessions_total
        o.refunded_cents += refund
        r.refunded(
            o.story,
            o.answer,
            key=o.key,
            paid_cents=o.amount_cents,
            refund_cents=refund,
            refunded_total=o.refunded_cents,
            instant=step.at,
            expect="refunded" if step.full else "partially_refunded",
        )
    elif step.kind == "end":
        r.checkout_ended(o.story, o.answer, key=o.key, instant=step.at)


def _replay(r: purchases.Replay, b: _Builder, progress: Callable[[str], None]) -> None:
    started = time.monotonic()
    steps = _timeline(b)
    progress(
        f"  purchases: replaying {len(steps)} steps through the gateway and the services "
        f"({', '.join(b.providers)} webhooks)"
    )
    for step in steps:
        _play(r, step)
    c = r.counts
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(c.webhooks.items()))
    changes = sum(1 for s in steps if s.event is not None and s.kind != "hold_job")
    progress(
        f"  purchases: {c.orders} orders by create_order, {sum(c.webhooks.values())} signed "
        f"webhooks ({outcomes}), {c.cron_ticks} hold-job runs, {changes} catalog and seat "
        f"changes, in {time.monotonic() - started:.1f} s"
    )


# Rows the database stamped with now() during the replay, and which of them are the demo's:
# they are re-dated to the instant of the step that wrote them.
_DEMO_ORDERS = "select o.id from public.orders o where o.student_id in (select id from _demo_users)"
_RETIME: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "public",
        "orders",
        ("created_at", "updated_at"),
        "student_id in (select id from _demo_users)",
    ),
    (
        "public",
        "seat_reservations",
        ("created_at", "updated_at"),
        "student_id in (select id from _demo_users)",
    ),
    (
        "public",
        "payments",
        ("created_at", "updated_at"),
        "student_id in (select id from _demo_users)",
    ),
    (
        "public",
        "session_packs",
        ("created_at", "updated_at"),
        "student_id in (select id from _demo_users)",
    ),
    ("public", "sessions", ("updated_at",), "student_id in (select id from _demo_users)"),
    (
        "public",
        "session_credit_ledger",
        ("created_at",),
        "student_id in (select id from _demo_users)",
    ),
    (
        "public",
        "notifications",
        ("created_at",),
        "recipient_id in (select id from _demo_users)"
        f" or payload ->> 'order_id' in (select id::text from ({_DEMO_ORDERS}) o)",
    ),
    ("public", "audit_log", ("created_at",), "row_id in (select id from _demo_rows)"),
    ("private", "webhook_events", ("received_at",), f"order_id in ({_DEMO_ORDERS})"),
    ("private", "calendar_jobs", ("requested_at",), "mentor_id in (select id from _demo_users)"),
    ("public", "mentorship_products", ("updated_at",), "mentor_id in (select id from _demo_users)"),
    ("public", "mentors", ("updated_at",), "id in (select id from _demo_users)"),
)


def _retime(cur: psycopg.Cursor[Any], r: purchases.Replay) -> None:
    """The database stamps created_at (and updated_at, received_at, ...) with the transaction's
    wall-clock time, not the business clock the replay froze: each row written during a step
    gets that step's instant, as if the storyline had happened then. (Audit rows included:
    the seed rewrites only the history it wrote itself.)"""
    assert r.ended_at is not None
    walls = [w for w, _ in r.log] + [r.ended_at]
    cur.execute(
        "create temp table _replay_clock (wall_from timestamptz, wall_to timestamptz,"
        " at timestamptz) on commit drop"
    )
    _copy(
        cur,
        "pg_temp._replay_clock",
        "wall_from, wall_to, at",
        [(walls[i], walls[i + 1], at) for i, (_, at) in enumerate(r.log)],
    )
    cur.execute("create index on _replay_clock (wall_from)")
    cur.execute("analyze _replay_clock")
    cur.execute(
        "create temp table _demo_rows on commit drop as"
        " select id from public.orders where student_id in (select id from _demo_users)"
        " union all select id from public.seat_reservations"
        " where student_id in (select id from _demo_users)"
        " union all select id from public.payments where student_id in (select id from _demo_users)"
        " union all select id from public.session_packs"
        " where student_id in (select id from _demo_users)"
        " union all select id from public.sessions where student_id in (select id from _demo_users)"
    )
    cur.execute("set local session_replication_role = replica")  # no updated_at, append-only
    for schema, table, columns, scope in _RETIME:
        for column in columns:
            cur.execute(
                sql.SQL(
                    "update {t} x set {c} = r.at from _replay_clock r"
                    " where x.{c} >= r.wall_from and x.{c} < r.wall_to and ({scope})"
                ).format(
                    t=sql.Identifier(schema, table),
                    c=sql.Identifier(column),
                    scope=sql.SQL(scope),  # fixed SQL above, no values
                )
            )
    cur.execute("set local session_replication_role = origin")


def _date_this_transaction(cur: psycopg.Cursor[Any]) -> None:
    """What the triggers stamped with this transaction's time gets the storyline's: the audit
    rows of the sessions and of the packs used up or expired, the packs' updated_at, and the
    "one session left" message the ledger queued (at the pack's last entry)."""
    cur.execute("set local session_replication_role = replica")  # no updated_at, append-only
    cur.execute(
        "update public.audit_log a set created_at = s.created_at from public.sessions s"
        " where a.row_id = s.id and a.action = 'sessions.created' and a.created_at = now()"
        " and s.student_id in (select id from _demo_users)"
    )
    cur.execute(
        "update public.audit_log a set created_at = coalesce(p.depleted_at, p.expired_at)"
        " from public.session_packs p where a.row_id = p.id and a.created_at = now()"
        " and a.action in ('session_packs.depleted', 'session_packs.expired')"
        " and p.student_id in (select id from _demo_users)"
    )
    cur.execute(
        "with last as (select pack_id, max(created_at) as at from public.session_credit_ledger"
        "               where student_id in (select id from _demo_users) group by pack_id)"
        " update public.session_packs p set updated_at = greatest(p.purchased_at, l.at,"
        "   p.depleted_at, p.expired_at, p.refunded_at)"
        " from last l where l.pack_id = p.id and p.updated_at = now()"
    )
    cur.execute(
        "with last as (select pack_id, max(created_at) as at from public.session_credit_ledger"
        "               where student_id in (select id from _demo_users) group by pack_id)"
        " update public.notifications n set send_after = l.at + interval '1 minute',"
        "   created_at = l.at + interval '1 minute'"
        " from last l where n.pack_id = l.pack_id and n.kind = 'one_session_left'"
        " and n.created_at = now()"
    )
    cur.execute("set local session_replication_role = origin")


def _write_history(
    cur: psycopg.Cursor[Any],
    b: _Builder,
    r: purchases.Replay,
    progress: Callable[[str], None],
) -> None:
    """What happened after the purchases: sessions, the credit ledger, packs used up or
    expired, the outbox and the admins' actions, all on the packs and seats the database made."""
    cur.execute(
        "create temp table _demo_users on commit drop as "
        "select id from auth.users where lower(email) like %s",
        (f"%{DEMO_EMAIL_SUFFIX}",),
    )
    _retime(cur, r)
    for p in b.packs:
        if p.order.id is None or p.id == b.uid("pack", p.order.key):
            raise StackError(f"seed: {p.order.story}: its payment created no pack")
    sessions = _write_sessions(cur, [p for p in b.packs if not p.written])
    sessions += sum(len(p.sessions) for p in b.packs if p.written and p.refunded_at is not None)
    final = [p for p in b.packs if p.status in ("depleted", "expired")]
    cur.execute(
        "update public.session_packs p set status = v.status::public.pack_status,"
        " depleted_at = v.depleted_at, expired_at = v.expired_at"
        " from unnest(%s::uuid[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
        " as v(id, status, depleted_at, expired_at) where p.id = v.id",
        (
            [p.id for p in final],
            [p.status for p in final],
            [p.depleted_at for p in final],
            [p.expired_at for p in final],
        ),
    )
    _date_this_transaction(cur)
    progress(f"  packs: {len(b.packs)}, sessions: {sessions}")
    cur.execute(
        "select count(*) from public.session_credit_ledger"
        " where student_id in (select id from _demo_users)"
    )
    row = cur.fetchone()
    progress(f"  credit ledger: {row[0] if row else 0} entries")

    # The messages the database queued during the replay went out then (as the dispatcher
    # would have sent them); the storylines' own messages follow.
    cur.execute(
        "update public.notifications n set status = 'sent', attempts = 1,"
        " sent_at = n.send_after + interval '5 seconds'"
        " where n.status = 'pending' and n.send_after <= %s"
        " and (n.recipient_id in (select id from _demo_users)"
        f"  or n.payload ->> 'order_id' in (select id::text from ({_DEMO_ORDERS}) o))",
        (b.now,),
    )
    _copy(
        cur,
        "public.notifications",
        "recipient_id, kind, channel, dedupe_key, payload, "
        "session_id, pack_id, status, send_after, attempts, last_error, sent_at, voided_at, "
        "created_at",
        [n.row() for n in b.notifications],
    )
    b.audit.sort(key=lambda a: a.at)
    _copy(
        cur,
        "public.audit_log",
        "actor_id, action, table_name, row_id, old_values, new_values, reason, created_at",
        [a.values() for a in b.audit],
    )
    _check(cur, b)
    cur.execute(
        "select (select count(*) from public.notifications n"
        "         where n.recipient_id in (select id from _demo_users)),"
        " (select count(*) from public.audit_log a where a.row_id in (select id from _demo_rows)"
        "   or a.row_id in (select id from _demo_users) or a.actor_id in (select id from _demo_users))"
    )
    row = cur.fetchone()
    assert row is not None
    progress(f"  notifications: {row[0]}, audit log: {row[1]}")


def _check(cur: psycopg.Cursor[Any], b: _Builder) -> None:
    """The database ends where every storyline says (orders, seats, packs, credits)."""
    wrong: list[str] = []
    cur.execute(
        "select id, status::text from public.orders where id = any(%s)",
        ([o.id for o in b.orders],),
    )
    orders = dict(cur.fetchall())
    for o in b.orders:
        if orders.get(o.id) != o.status:
            wrong.append(f"{o.story}: order {o.id} is {orders.get(o.id)}, expected {o.status}")
    cur.execute(
        "select id, status::text from public.seat_reservations where id = any(%s)",
        ([s.id for s in b.seats],),
    )
    seats = dict(cur.fetchall())
    for s in b.seats:
        if seats.get(s.id) != s.status:
            wrong.append(f"{_seat_story(s)}: seat {s.id} is {seats.get(s.id)}, expected {s.status}")
    cur.execute(
        "select id, status::text, remaining_sessions from public.session_packs where id = any(%s)",
        ([p.id for p in b.packs],),
    )
    packs = {pid: (status, remaining) for pid, status, remaining in cur.fetchall()}
    for p in b.packs:
        if packs.get(p.id) != (p.status, p.remaining):
            wrong.append(
                f"{p.order.story}: pack {p.id} is {packs.get(p.id)}, "
                f"expected {(p.status, p.remaining)}"
            )
    if wrong:
        raise StackError(
            "seed: the database disagrees with the storylines:\n  " + "\n  ".join(wrong)
        )


def _summary(cur: psycopg.Cursor[Any], b: _Builder) -> dict[str, int]:
    cur.execute(
        "select"
        " (select count(*) from public.seat_reservations where student_id in (select id from _demo_users)),"
        " (select count(*) from public.orders where student_id in (select id from _demo_users)),"
        " (select count(*) from public.payments where student_id in (select id from _demo_users)),"
        f" (select count(*) from private.webhook_events where order_id in ({_DEMO_ORDERS})),"
        " (select count(*) from public.session_packs where student_id in (select id from _demo_users)),"
        " (select count(*) from public.sessions where student_id in (select id from _demo_users)),"
        " (select count(*) from public.session_credit_ledger"
        "   where student_id in (select id from _demo_users)),"
        " (select count(*) from public.notifications where recipient_id in (select id from _demo_users)),"
        " (select count(*) from public.audit_log a where a.row_id in (select id from _demo_rows)"
        "   or a.row_id in (select id from _demo_users) or a.actor_id in (select id from _demo_users))"
    )
    row = cur.fetchone()
    assert row is not None
    names = (
        "seats",
        "orders",
        "payments",
        "webhook_events",
        "packs",
        "sessions",
        "credit_entries",
        "notifications",
        "audit_log",
    )
    return {
        "mentors": len(b.mentors),
        "students": len(b.students),
        "products": sum(len(m.products) for m in b.mentors),
        "promotion_codes": len(b.promos),
        **{name: int(value) for name, value in zip(names, row, strict=True)},
    }


def run(
    settings: Settings,
    *,
    scale: int,
    random_seed: int,
    progress: Callable[[str], None],
    paypal: PayPalCert | None = None,
) -> dict[str, int]:
    """Replace the demo data with a fresh, deterministic set. Three steps: people and catalog
    (one transaction, which first removes the earlier demo data); the purchases, replayed
    through the running gateway and services; what happened after them (one transaction).
    Refuses before writing anything when the gateway or the services are not running.

    PayPal purchases need a signer whose certificate the services download from their PayPal API
    host: `paypal` when given, else the stack's local one (placeholder PayPal keys: the stack
    serves its certificate); without one (real PayPal keys) every purchase goes through Stripe."""
    started = time.monotonic()
    purchases.require_stack(settings)
    signing = purchases.signing_for(settings, paypal)
    if not signing.providers:
        raise StackError(
            "seed: the services accept no payment provider the seed can sign webhooks for "
            "(MENTORSHIPS_PAYMENT_PROVIDERS is empty?)"
        )
    with purchases.Replay(settings, signing) as replay, db.connect(settings) as conn:
        if replay.recovered:
            progress(
                "  note: an earlier seed was killed during its replay; the database clock and "
                "the pg_cron jobs it had frozen and paused are back as they were"
            )
        with conn.transaction(), conn.cursor() as cur:
            removed = _cleanup(cur)
            progress(f"  removed earlier demo data: {removed} users and everything of theirs")
            cur.execute(
                "select date_trunc('hour', private.clock_now()), private.clock_now(), "
                "s.seat_hold_minutes, s.grace_period_hours, s.grace_warning_hours, "
                "s.cancel_notice_hours from public.platform_settings s"
            )
            row = cur.fetchone()
            if row is None:
                raise StackError(
                    "seed: public.platform_settings has no row; run `mentorships db apply`"
                )
            anchor, now, *values = row
            b = _Builder(
                scale=scale,
                random_seed=random_seed,
                anchor=anchor.astimezone(UTC),
                now=now.astimezone(UTC),
                platform=_Platform(*values),
                providers=signing.providers,
            )
            b.build()
            progress(
                f"  generated (anchor {anchor.astimezone(UTC):%Y-%m-%d %H:%M} UTC, "
                f"seed {random_seed}) in {time.monotonic() - started:.1f} s"
            )
            if "paypal" not in signing.providers and "paypal" in settings.payment_providers:
                progress(
                    "  note: no PayPal signer whose certificate this stack's services can fetch "
                    "(real PayPal keys are set, or MENTORSHIPS_PAYPAL_API_BASE is a host of your "
                    "own): every purchase goes through Stripe"
                )
            _write_catalog(cur, b, progress)
        try:
            _replay(replay, b, progress)
        finally:
            replay.restore_clock()
        with conn.transaction(), conn.cursor() as cur:
            _write_history(cur, b, replay, progress)
            summary = _summary(cur, b)
    progress(f"  done in {time.monotonic() - started:.1f} s")
    return summary


# --------------------------------------------------------------------------------------------
# What `mentorships info` prints
# --------------------------------------------------------------------------------------------


def _demo_counts(settings: Settings) -> tuple[int, int] | None:
    try:
        with db.connect(settings) as conn:
            row = conn.execute(
                "select count(*) filter (where p.role = 'mentor'), "
                "count(*) filter (where p.role = 'student') "
                "from auth.users u join public.profiles p on p.id = u.id "
                "where lower(u.email) like %s",
                ("%" + DEMO_EMAIL_SUFFIX,),
            ).fetchone()
    except (StackError, psycopg.Error):
        return None
    return None if row is None else (int(row[0]), int(row[1]))


def info_text(settings: Settings) -> str:
    """URLs, keys, demo accounts and three curl lines that work after `mentorships seed`."""
    anon = jwt_.anon_key(settings)
    service = jwt_.service_role_key(settings)
    rest = settings.rest_url
    cli = ".venv/bin/mentorships"
    student = f"student1{DEMO_EMAIL_SUFFIX}"
    counts = _demo_counts(settings)
    if counts is None:
        seeded = "  (database not reachable: start it with `mentorships up`)"
    elif counts == (0, 0):
        seeded = "  (no demo data yet: run `mentorships seed`)"
    else:
        seeded = (
            f"  seeded: mentor1..mentor{counts[0]}, student1..student{counts[1]}{DEMO_EMAIL_SUFFIX}"
        )
    catalog = (
        f"{rest}/mentors?select=public_name,time_zone,free_seats,"
        "mentorship_products(title,price_cents,currency)"
    )
    packs = (
        f"{rest}/session_packs?select=status,sessions_total,remaining_sessions,expires_at,"
        "mentors(public_name)&order=purchased_at.desc"
    )
    lines = [
        "Mentorships local stack",
        f"  REST API (Supabase-style)  {rest}",
        f"  Postgres                   {settings.dsn()}",
        f"  services (checkout, hooks) {settings.services_url}",
        f"  anon key                   {anon}",
        f"  service-role key           {service}",
        "                             (bypasses RLS: servers and workers only)",
        "",
        "Demo accounts (no passwords: mint a JWT for one with `mentorships token EMAIL`)",
        f"  admin    {ADMIN_EMAIL}",
        f"  mentor   mentor1{DEMO_EMAIL_SUFFIX}",
        f"  student  {student}",
        seeded,
        f"  token:   {cli} token {student}",
        "",
        "Try it (from the project directory):",
        "  # 1. the public catalog, as a visitor (anon key only)",
        f"  curl -s '{catalog}' -H \"apikey: {anon}\"",
        "",
        "  # 2. a student's own packs (RLS returns only theirs)",
        f"  TOKEN=$({cli} token {student})",
        f'  curl -s \'{packs}\' -H "apikey: {anon}" -H "Authorization: Bearer $TOKEN"',
        "",
        '  # 3. refused: a student cannot touch their credits (HTTP 403, "permission denied for',
        '  #    table session_packs"), and RLS hides the audit log from them (prints [])',
        f"  curl -s -w '\\nHTTP %{{http_code}}\\n' -X PATCH '{rest}/session_packs?status=eq.active' "
        f'-H "apikey: {anon}" -H "Authorization: Bearer $TOKEN" '
        "-H 'Content-Type: application/json' -d '{\"remaining_sessions\": 99}'",
        f"  curl -s '{rest}/audit_log?select=action,created_at' "
        f'-H "apikey: {anon}" -H "Authorization: Bearer $TOKEN"',
    ]
    return "\n".join(lines)
