"""The people and orders a load runs on (bench/load.py): mentors with every hour of every day
bookable (UTC) and their Google calendars connected at the fake, students each with a large pack
(some with Discord linked, so their messages go both ways), and shops whose pending Stripe
orders the load's webhooks pay."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import psycopg

from mentorships import jwt
from mentorships.settings import Settings
from sync.gcal.sealing import TokenKeys
from testing.clock import Clock
from testing.factories import Scenario
from testing.fakes.google import GoogleFake
from testing.gcal import Connected, connect_mentor

ALL_DAY = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
SEATS = 500  # the most a mentor may have
SHOP_SEATS = 500
CREDITS = 52  # each student's pack (the most a product sells): a cancel gives the credit back


@dataclass(frozen=True)
class Order:
    id: str
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class Student:
    id: uuid.UUID
    pack: uuid.UUID
    mentor: uuid.UUID
    discord: bool = False  # linked: their messages go to Discord too


@dataclass
class LoadWorld:
    settings: Settings
    mentors: list[Connected]
    students: list[Student]
    tokens: dict[uuid.UUID, str] = field(default_factory=dict)

    def token(self, user: uuid.UUID) -> str:
        if user not in self.tokens:
            self.tokens[user] = jwt.user_token(self.settings, user, f"{user}@scenario.test")
        return self.tokens[user]

    def mentor_ids(self) -> list[uuid.UUID]:
        return [m.mentor for m in self.mentors]

    def orders(self, conn: psycopg.Connection, count: int) -> list[Order]:
        """`count` (at most SHOP_SEATS) pending Stripe orders, each by a new student of a new
        shop mentor, made by create_order with the student's claims (as PostgREST calls it)."""
        assert count <= SHOP_SEATS
        scenario = Scenario(conn, self.settings)
        shop = scenario.product(scenario.mentor("UTC", capacity=SHOP_SEATS))
        out = []
        for _ in range(count):
            student = scenario.person("student")
            with conn.transaction():
                conn.execute(
                    "select set_config('request.jwt.claims', %s, true)",
                    (json.dumps({"sub": str(student), "role": "authenticated"}),),
                )
                row = conn.execute(
                    "select id::text, amount_cents, currency"
                    " from public.create_order(%s::text, 'stripe')",
                    (shop,),
                ).fetchone()
            assert row
            out.append(Order(row[0], row[1], row[2]))
        return out


def build(
    conn: psycopg.Connection,
    settings: Settings,
    google: GoogleFake,
    *,
    mentors: int = 3,
    students: int = 24,
) -> LoadWorld:
    """Mentors connected to Google (at the fake), students with a pack each (every third with
    Discord linked), the shop; the clock runs (unfrozen)."""
    Clock(conn).unfreeze()
    scenario = Scenario(conn, settings)
    keys = TokenKeys.from_settings(settings)
    connected = []
    for _ in range(mentors):
        mentor = scenario.mentor("UTC", working_hours=ALL_DAY, capacity=SEATS, horizon=60)
        connected.append(connect_mentor(scenario, google, keys, mentor=mentor, time_zone="UTC"))
    people = []
    now = conn.execute("select now()").fetchone()
    assert now
    for i in range(students):
        discord = i % 3 == 0
        student = scenario.person("student", discord=discord)
        mentor = connected[i % mentors].mentor
        pack = scenario.pack(
            mentor,
            student,
            sessions=CREDITS,
            purchased_at=now[0],
            days=90,
        )
        people.append(Student(student, pack, mentor, discord))
    return LoadWorld(settings, connected, people)
