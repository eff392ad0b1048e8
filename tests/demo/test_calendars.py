"""The demo in local Google mode (demo/calendars.py): the seed connects four mentors through the
real flow, syncs them every hour of the history, books around their busy times (the seed's own
check fails otherwise), and revokes one at the end; here: what a visitor sees of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from mentorships import jwt
from mentorships.errors import StackError
from mentorships.settings import Settings
from mentorships.stack import Stack
from testing.demo import seed

UTC = dt.UTC


@pytest.fixture
def local_google(running: Settings) -> Iterator[Settings]:
    """The test stack as `mentorships up` leaves it in local Google mode; afterwards its
    services run with the test stack's settings again."""
    local = running.model_copy(update={"google_local": True})
    stack = Stack(local)
    stack.google.start()
    stack.services.start()  # restarted: their Google settings now point at the local Google
    try:
        yield local
    finally:
        stack.google.stop()
        Stack(running).services.start()


def test_the_seed_refuses_when_local_google_is_not_answering(running: Settings) -> None:
    local = running.model_copy(update={"google_local": True})
    Stack(local).google.stop()
    with pytest.raises(StackError, match="the local Google is not answering at"):
        seed(local)


def test_the_demo_connects_mentors_to_local_google(
    local_google: Settings, conn: psycopg.Connection
) -> None:
    summary = seed(local_google)  # its check: busy times, no session in one, the revoked one
    assert summary["calendars_connected"] == 4
    rows = conn.execute(
        "select m.id, m.public_name, s.revoked_at is not null, s.last_synced_at, s.closed_because"
        " from private.calendar_sync_status() s join public.mentors m on m.id = s.mentor_id"
        " join auth.users u on u.id = m.id where u.email like '%%@demo.mentorships.test'"
    ).fetchall()
    assert len(rows) == 4
    assert sum(1 for r in rows if r[2]) == 1  # one revoked, slots closed
    assert all(r[4] is not None for r in rows if r[2])
    assert all(r[4] is None for r in rows if not r[2])  # the others fresh

    # a fresh mentor's week: the busy times are gaps in the listing
    mentor = next(r[0] for r in rows if not r[2])
    busy = conn.execute(
        "select tstzrange(starts_at, ends_at) from private.calendar_busy_intervals"
        " where mentor_id = %s",
        (mentor,),
    ).fetchall()
    assert len(busy) >= 5  # the dentist, four weekly classes, the conference, the client call
    now = conn.execute("select private.clock_now()").fetchone()
    assert now is not None
    answer = httpx.post(
        f"{local_google.rest_url}/rpc/mentor_availability",
        json={
            "mentor_id": str(mentor),
            "from_at": now[0].isoformat(),
            "to_at": (now[0] + dt.timedelta(days=10)).isoformat(),
        },
        headers={"apikey": jwt.anon_key(local_google)},
    )
    assert answer.status_code == 200, answer.text
    starts = [s["starts_at"] for s in answer.json()]
    assert starts
    inside = conn.execute(
        "select count(*) from unnest(%s::timestamptz[]) t join private.calendar_busy_intervals b"
        " on b.mentor_id = %s and t >= b.starts_at and t < b.ends_at",
        (starts, mentor),
    ).fetchone()
    assert inside == (0,)

    # the revoked mentor was told, by email and Discord, in the mail folder
    revoked = next(r[0] for r in rows if r[2])
    told = conn.execute(
        "select channel::text from public.notifications where recipient_id = %s"
        " and kind = 'calendar_disconnected' and status = 'sent'",
        (revoked,),
    ).fetchall()
    assert ("email",) in told
