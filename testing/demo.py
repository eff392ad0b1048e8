"""What the demo's tests (tests/demo/) share: which rows are the demo's, counting them, and
one seed at scale 1 with a fixed random seed."""

from __future__ import annotations

import psycopg

from demo import play
from mentorships.settings import Settings

DEMO = "(select id from public.profiles where email like '%%@demo.mentorships.test')"


def count(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def values(conn: psycopg.Connection, sql: str) -> set[str]:
    return {str(r[0]) for r in conn.execute(sql)}


def seed(settings: Settings) -> dict[str, int]:
    return play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
