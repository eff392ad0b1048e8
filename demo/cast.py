"""Who is in the demo and what the mentors sell, from demo/data/*.toml: a deterministic plan for
a scale and a random seed (no database), and the onboarding storylines that write it at the
instants it happened (people sign up, an admin approves mentors, mentors add their products)."""

from __future__ import annotations

import datetime as dt
import random
import re
import tomllib
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from demo.stage import Stage

DOMAIN = "demo.mentorships.test"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, DOMAIN)
DATA = Path(__file__).parent / "data"
NIL = uuid.UUID(int=0)
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)


def load(name: str) -> dict[str, Any]:
    with (DATA / name).open("rb") as f:
        return tomllib.load(f)


@dataclass(eq=False)
class Person:
    email: str
    name: str
    zone: str
    role: str
    discord: str | None
    joined: dt.datetime | None = None

    @property
    def index(self) -> int:
        return int(re.sub(r"\D", "", self.handle) or 0)

    @property
    def id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, "user:" + self.email)

    @property
    def handle(self) -> str:
        return self.email.split("@")[0]


@dataclass(eq=False)
class Product:
    title: str
    description: str
    sessions: int
    validity_days: int
    price_cents: int
    currency: str
    retired: bool = False
    id: uuid.UUID = NIL  # the database's, once the mentor added it


@dataclass(eq=False)
class Mentor:
    person: Person
    fields: dict[str, Any]  # the mentors row
    products: list[Product]
    leaves: bool  # goes on sabbatical: hidden from the catalog some weeks ago

    @property
    def id(self) -> uuid.UUID:
        return self.person.id

    def on_sale(self) -> list[Product]:
        return [p for p in self.products if not p.retired]


@dataclass
class Cast:
    anchor: dt.datetime
    rng: random.Random
    admin: Person
    mentors: list[Mentor] = field(default_factory=list)
    students: list[Person] = field(default_factory=list)
    promos: list[dict[str, Any]] = field(default_factory=list)
    words: dict[str, Any] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)  # what earlier students bought (released)

    def days_ago(self, lo: float, hi: float) -> dt.datetime:
        t = self.anchor - dt.timedelta(days=self.rng.uniform(lo, hi))
        return t.replace(second=0, microsecond=0)

    def everyone(self) -> list[Person]:
        return [self.admin, *(m.person for m in self.mentors), *self.students]


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def plan(scale: int, seed: int, anchor: dt.datetime) -> Cast:
    """The people and the catalog of `scale` blocks (6 mentors, 24 students each)."""
    cast_data, catalog = load("cast.toml"), load("catalog.toml")
    rng = random.Random(seed)
    used: set[str] = set()
    discord_ids: set[str] = set()

    def discord(p: float) -> str | None:
        if rng.random() >= p:
            return None
        while (value := str(rng.randrange(10**17, 10**19))) in discord_ids:
            pass
        discord_ids.add(value)
        return value

    def name_in(region: dict[str, Any]) -> str:
        for _ in range(50):
            name = f"{rng.choice(region['first'])} {rng.choice(region['last'])}"
            if name not in used:
                break
        n = 2
        while name in used:
            name = f"{name.rsplit(' ', 1)[0] if n > 2 else name} {n}"
            n += 1
        used.add(name)
        return name

    regions = cast_data["regions"]
    admin = cast_data["admin"]
    cast = Cast(
        anchor,
        rng,
        Person(
            f"admin@{DOMAIN}",
            admin["name"],
            admin["zone"],
            "admin",
            discord(1.0),
            anchor - 700 * DAY,
        ),
    )
    cast.words = catalog["words"]
    templates = cast_data["mentors"]
    zones = cast_data["mentor_zones"]
    slugs: set[str] = set()
    for i in range(1, 6 * scale + 1):
        if i <= len(templates):
            t = dict(templates[i - 1])
            used.add(t["name"])
        else:
            zone = rng.choice(zones["all"])
            region = next(r for r in regions.values() if zone in r["zones"])
            slot = rng.choice((60, 60, 60, 45, 90))
            t = {
                "name": name_in(region),
                "zone": zone,
                "specialty": rng.randrange(len(catalog["specialties"])),
                "capacity": rng.randint(3, 8),
                "hours": rng.randrange(len(cast_data["working_hours"])),
                "slot": slot,
                "grid": 15 if slot == 45 else rng.choice((15, 30, 30, 60)),
                "buffer": rng.choice((0, 10, 15, 15, 30)),
                "notice": rng.choice((360, 720, 720, 1440)),
                "base_price": rng.randrange(18, 33) * 1000,
                "currency": "eur" if zone in zones["euro"] and rng.random() < 0.5 else "usd",
                "products": sorted(rng.sample(range(3), rng.randint(1, 3))),
            }
        spec = catalog["specialties"][t["specialty"]]
        slug = _slug(t["name"])
        slug = f"{slug}-{i}" if slug in slugs else slug
        slugs.add(slug)
        person = Person(
            f"mentor{i}@{DOMAIN}",
            t["name"],
            t["zone"],
            "mentor",
            discord(0.8),
            cast.days_ago(400, 700),
        )
        bio = t.get("bio") or spec["bio"].format(
            name=t["name"].split()[0], years=rng.randint(6, 18)
        )
        hours = [
            {"weekday": d, "start": s, "end": e}
            for d, s, e in cast_data["working_hours"][t["hours"]]["windows"]
        ]
        row = {
            "slug": slug,
            "public_name": t["name"],
            "headline": t.get("headline") or spec["headline"],
            "bio": bio,
            "portfolio_url": f"https://portfolio.{DOMAIN}/{slug}",
            "time_zone": t["zone"],
            "working_hours": Jsonb(hours),
            "seat_capacity": t["capacity"],
            "slot_minutes": t["slot"],
            "slot_grid_minutes": t["grid"],
            "buffer_minutes": t["buffer"],
            "min_notice_minutes": t["notice"],
            "booking_horizon_days": rng.choice((60, 60, 90, 45)),
        }

        def price(percent: int, base: int = t["base_price"]) -> int:
            return (base * percent + 25000) // 50000 * 500  # to the nearest 5.00

        products = [
            Product(
                p["title"],
                p["description"],
                p["sessions"],
                p["validity_days"],
                price(p["price_percent"]),
                t["currency"],
            )
            for k, p in enumerate(spec["products"])
            if k in t["products"]
        ]
        if i % 6 == 2:
            r = catalog["retired"]
            products.append(
                Product(
                    r["title"],
                    r["description"],
                    r["sessions"],
                    r["validity_days"],
                    price(r["price_percent"]),
                    t["currency"],
                    retired=True,
                )
            )
        cast.mentors.append(Mentor(person, row, products, leaves=i % 6 == 0))
        if i % 6 in (0, 2):
            cast.targets.append(person.email)

    weights = [r["weight"] for r in regions.values()]
    for i in range(1, 24 * scale + 1):
        region = (
            list(regions.values())[i - 1]
            if i <= len(regions)
            else rng.choices(list(regions.values()), weights)[0]
        )
        cast.students.append(
            Person(
                f"student{i}@{DOMAIN}",
                name_in(region),
                rng.choice(region["zones"]),
                "student",
                discord(0.45),
            )
        )
    for p in catalog["promotion_codes"]:
        lo, hi = p["valid_days"]
        mentor = cast.mentors[p["mentor"] - 1] if "mentor" in p else None
        cast.promos.append(
            {
                "code": p["code"],
                "percent_off": p.get("percent_off"),
                "amount_off_cents": p.get("amount_off_cents"),
                "currency": mentor.products[0].currency
                if mentor and "amount_off_cents" in p
                else None,
                "mentor_id": mentor.id if mentor else None,
                "max_redemptions": p.get("max_redemptions"),
                "valid_from": anchor + lo * DAY,
                "valid_until": anchor + hi * DAY,
            }
        )
    return cast


# --- onboarding, played at the instants it happened -------------------------------------------


def join(stage: Stage, p: Person) -> None:
    """Sign-up, as the auth service writes it (the profile comes from the rules' trigger)."""
    meta = Jsonb({"display_name": p.name, "time_zone": p.zone})
    stage.conn.execute(
        "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data,"
        " raw_user_meta_data, email_confirmed_at, created_at, updated_at)"
        " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated',"
        ' %s, \'{"provider": "email", "providers": ["email"]}\', %s, %s, %s, %s)',
        (p.id, p.email, meta, stage.now + 5 * dt.timedelta(minutes=1), stage.now, stage.now),
    )
    if p.discord:
        # As the platform: only the OAuth flow's link_discord (service role) sets it now.
        stage.as_platform(
            "update public.profiles set discord_user_id = %s where id = %s", (p.discord, p.id)
        )


def admin_story(stage: Stage, cast: Cast) -> Iterator[dt.datetime]:
    yield cast.admin.joined or cast.anchor
    join(stage, cast.admin)
    stage.as_platform("update public.profiles set role = 'admin' where id = %s", (cast.admin.id,))
    for promo in sorted(cast.promos, key=lambda p: p["valid_from"]):
        yield promo["valid_from"] - DAY
        stage.as_person(
            cast.admin.id,
            "insert into public.promotion_codes (code, percent_off,"
            " amount_off_cents, currency, mentor_id, max_redemptions, valid_from, valid_until)"
            " values (%(code)s, %(percent_off)s, %(amount_off_cents)s, %(currency)s,"
            " %(mentor_id)s, %(max_redemptions)s, %(valid_from)s, %(valid_until)s)"
            " returning id",
            promo,
        )


def mentor_story(stage: Stage, cast: Cast, m: Mentor) -> Iterator[dt.datetime]:
    """Signs up, is approved by an admin an hour later, adds products over the next weeks;
    the second mentor of a block retires one product months ago, the sixth leaves weeks ago."""
    assert m.person.joined is not None
    yield m.person.joined
    join(stage, m.person)
    yield m.person.joined + HOUR
    columns = ", ".join(m.fields)
    values = ", ".join(f"%({k})s" for k in m.fields)
    stage.as_platform("update public.profiles set role = 'mentor' where id = %s", (m.id,))
    stage.as_platform(
        f"insert into public.mentors (id, {columns}) values (%(id)s, {values})",
        {"id": m.id, **m.fields},
    )
    for p in sorted(m.products, key=lambda p: not p.retired):
        yield stage.now + dt.timedelta(days=cast.rng.uniform(0.5, 15))
        p.id = stage.as_person(
            m.id,
            "insert into public.mentorship_products (mentor_id, title, description,"
            " sessions_count, validity_days, price_cents, currency) values (%s, %s, %s, %s, %s, %s, %s)"
            " returning id",
            (m.id, p.title, p.description, p.sessions, p.validity_days, p.price_cents, p.currency),
        )
    retired = [p for p in m.products if p.retired]
    if retired:
        lo, hi = load("catalog.toml")["retired"]["retired_days_ago"]
        yield cast.days_ago(lo, hi)
        for p in retired:
            stage.as_person(
                m.id,
                "update public.mentorship_products set is_active = false"
                " where id = %s returning id",
                (p.id,),
            )
    if m.leaves:
        yield cast.days_ago(15, 30)
        stage.as_platform(
            "update public.mentors set is_active = false, accepting_students = false where id = %s",
            (m.id,),
        )
