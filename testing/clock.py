"""The database clock every rule reads (private.clock_now()): tests freeze and advance it,
never sleep."""

from __future__ import annotations

import datetime as dt

import psycopg


class Clock:
    """The database clock every rule reads (private.clock_now())."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def freeze(self, at: dt.datetime) -> dt.datetime:
        if at.tzinfo is None:
            raise ValueError("freeze() takes an aware datetime")
        self.conn.execute("update private.clock set frozen_at = %s", (at,))
        return at

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        row = self.conn.execute("select private.clock_now()").fetchone()
        assert row is not None
        return self.freeze(row[0] + delta)

    def now(self) -> dt.datetime:
        row = self.conn.execute("select private.clock_now()").fetchone()
        assert row is not None
        value: dt.datetime = row[0]
        return value

    def unfreeze(self) -> None:
        self.conn.execute("update private.clock set frozen_at = null")
