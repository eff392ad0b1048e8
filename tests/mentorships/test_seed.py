"""`mentorships seed`: looks real, covers every state, keeps the credit invariant, is
idempotent, and leaves non-demo users alone."""

from __future__ import annotations

import psycopg

from mentorships import seed
from mentorships.settings import Settings
from tests.world import World


def _count(conn: psycopg.Connection, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _values(conn: psycopg.Connection, sql: str) -> set[str]:
    return {str(r[0]) for r in conn.execute(sql)}


def test_seed_twice_gives_a_complete_consistent_demo(
    settings: Settings, conn: psycopg.Connection, world: World
) -> None:
    world_rows = _count(conn, "select count(*) from public.session_packs")
    first = seed.run(settings, scale=1, random_seed=7, progress=lambda _: None)
    second = seed.run(settings, scale=1, random_seed=7, progress=lambda _: None)
    assert first == second
    assert first["mentors"] >= 5 and first["students"] >= 20

    demo = "from public.profiles p where p.email like '%%@demo.mentorships.test'"
    assert _count(conn, f"select count(*) {demo} and p.role = 'mentor'") >= 5
    continents = _values(
        conn,
        "select distinct split_part(m.time_zone, '/', 1) from public.mentors m"
        " join public.profiles p on p.id = m.id"
        " where p.email like '%%@demo.mentorships.test'",
    )
    assert len(continents) >= 3, continents

    assert _values(conn, "select distinct status from public.seat_reservations") == {
        "hold",
        "active",
        "grace",
        "released",
    }
    assert _values(conn, "select distinct status from public.session_packs") == {
        "active",
        "depleted",
        "expired",
        "refunded",
    }
    assert _values(conn, "select distinct status from public.sessions") == {
        "scheduled",
        "completed",
        "canceled",
        "late_canceled",
        "student_no_show",
        "mentor_no_show",
    }
    assert _values(conn, "select distinct status from public.orders") == {
        "pending",
        "paid",
        "expired",
        "canceled",
        "refunded",
        "flagged",
    }

    # credits: remaining = total + ledger, for every pack
    assert (
        _count(
            conn,
            """
        select count(*) from public.session_packs p
        where p.remaining_sessions <> p.sessions_total + coalesce(
          (select sum(l.delta) from public.session_credit_ledger l where l.pack_id = p.id), 0)""",
        )
        == 0
    )
    # capacity: active + grace + live holds never exceed a mentor's seats
    assert (
        _count(
            conn,
            """
        select count(*) from public.mentors m where m.seat_capacity < (
          select count(*) from public.seat_reservations s where s.mentor_id = m.id
            and (s.status in ('active', 'grace') or (s.status = 'hold' and s.hold_expires_at > now())))""",
        )
        == 0
    )
    # the test world (not demo users) is untouched
    assert _count(conn, "select count(*) from public.session_packs") == world_rows + first["packs"]


def test_info_prints_working_commands(settings: Settings, world: World) -> None:
    text = seed.info_text(settings)
    assert settings.rest_url in text
    assert "mentorships token student1@demo.mentorships.test" in text
    assert text.count("curl -s") >= 3
