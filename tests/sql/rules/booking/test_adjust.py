"""adjust_pack_sessions (sql/rules/booking/adjust.sql): through the ledger and the audit log, never
below zero; over real PostgREST with real JWTs and a frozen clock."""

from __future__ import annotations

from typing import Any

from testing.api import ok, refused
from testing.factories import Scenario


def test_adjust_pack_sessions(scenario: Scenario, booked: dict[str, Any]) -> None:
    admin = scenario.api(scenario.person("admin"))
    refused(
        scenario.api(booked["mentor"]).rpc(
            "adjust_pack_sessions", pack_id=booked["pack"], delta=1, reason="x"
        ),
        403,
        "only admins can adjust a pack",
    )
    refused(
        admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=1, reason="  "),
        422,
        "reason is required",
    )
    refused(
        admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=0, reason="x"),
        422,
        "delta: 0 changes nothing",
    )
    refused(
        admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=-5, reason="x"),
        409,
        "the pack has 4 sessions left; cannot remove 5",
    )
    pack = ok(
        admin.rpc(
            "adjust_pack_sessions", pack_id=booked["pack"], delta=2, reason="call dropped twice"
        )
    )
    assert pack["remaining_sessions"] == 6
    entry = scenario.conn.execute(
        "select kind::text, delta, reason from public.session_credit_ledger where pack_id = %s",
        (booked["pack"],),
    ).fetchall()
    assert entry == [("admin_adjustment", 2, "call dropped twice")]
    assert (
        scenario.one(
            "select reason from public.audit_log where row_id = %s"
            " and action = 'session_packs.sessions_adjusted'",
            booked["pack"],
        )
        == "call dropped twice"
    )
    ok(admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=-6, reason="chargeback"))
    assert (
        scenario.one("select status::text from public.session_packs where id = %s", booked["pack"])
        == "depleted"
    )
    assert (
        scenario.one(
            "select status::text from public.seat_reservations where student_id = %s",
            booked["student"],
        )
        == "grace"
    )
    ok(admin.rpc("adjust_pack_sessions", pack_id=booked["pack"], delta=1, reason="goodwill"))
    assert (
        scenario.one("select status::text from public.session_packs where id = %s", booked["pack"])
        == "active"
    )
    assert (
        scenario.one(
            "select status::text from public.seat_reservations where student_id = %s",
            booked["student"],
        )
        == "active"
    )
