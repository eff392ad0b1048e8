"""sql/rules/preferences.sql over real PostgREST with real JWTs: a person switches their own
messages (an upsert on public.notification_preferences), lists them
(my_notification_preferences), and book_session then queues no reminder they turned off; a kind
that may not be turned off is a 422 naming the column; nobody sees or writes another's switches."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from testing.api import Api, ok
from testing.booking import booked_world, ny
from testing.clock import Clock
from testing.factories import Scenario

OPTIONAL = ["session_reminder_24h", "session_reminder_1h", "renewal_reminder", "one_session_left"]
UPSERT = "/notification_preferences?on_conflict=user_id,kind,channel"
MERGE = {"Prefer": "resolution=merge-duplicates"}


def switch(api: Api, kind: str, channel: str, enabled: bool) -> Any:
    """What a dashboard's switch sends: one upsert, whatever was set before."""
    response = api.request(
        "POST", UPSERT, json={"kind": kind, "channel": channel, "enabled": enabled}, headers=MERGE
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


def listing(api: Api) -> dict[tuple[str, str], bool]:
    rows = ok(api.rpc("my_notification_preferences"))
    return {(r["kind"], r["channel"]): r["enabled"] for r in rows}


def test_a_person_lists_and_switches_their_messages(scenario: Scenario) -> None:
    student = scenario.person("student", discord=True)
    api = scenario.api(student)
    everything_on = {(k, c): True for k in OPTIONAL for c in ("email", "discord")}
    assert listing(api) == everything_on
    rows = ok(api.rpc("my_notification_preferences"))
    assert [(r["kind"], r["channel"]) for r in rows] == [
        (k, c) for k in OPTIONAL for c in ("email", "discord")
    ]
    assert all(r["updated_at"] is None for r in rows)

    [row] = switch(api, "session_reminder_1h", "email", False)
    assert (row["user_id"], row["enabled"]) == (str(student), False)
    [again] = switch(api, "session_reminder_1h", "email", False)  # idempotent: the same row
    assert again["id"] == row["id"]
    switch(api, "renewal_reminder", "discord", False)
    assert listing(api) == {
        **everything_on,
        ("session_reminder_1h", "email"): False,
        ("renewal_reminder", "discord"): False,
    }
    [back_on] = switch(api, "session_reminder_1h", "email", True)
    assert back_on["id"] == row["id"] and back_on["enabled"] is True
    assert listing(api)[("session_reminder_1h", "email")] is True


def test_a_kind_that_may_not_be_turned_off_is_refused(scenario: Scenario) -> None:
    api = scenario.api(scenario.person("student"))
    for kind in ("pack_purchased", "session_booked", "refund_processed", "grace_warning"):
        response = api.request(
            "POST", UPSERT, json={"kind": kind, "channel": "email", "enabled": False}, headers=MERGE
        )
        assert response.status_code == 422, response.text
        assert response.reason_phrase == "Unprocessable Entity"
        body = response.json()
        assert body["code"] == "PT422" and body["details"] == "kind"
        assert body["message"] == f"kind: {kind} messages may not be turned off"
        assert body["hint"] == f"Only these kinds may be turned off: {', '.join(OPTIONAL)}."
    unknown = api.request("POST", UPSERT, json={"kind": "postcard", "channel": "email"})
    assert unknown.status_code == 400, unknown.text
    assert unknown.json()["code"] == "22P02"  # PostgREST casts before any rule runs


def test_nobody_sees_or_writes_anothers_switches(
    scenario: Scenario, conn: psycopg.Connection
) -> None:
    a, b, admin = scenario.person(), scenario.person(), scenario.person("admin")
    switch(scenario.api(a), "one_session_left", "email", False)
    mine = scenario.api(b).get(f"/notification_preferences?user_id=eq.{a}")
    assert mine.status_code == 200 and mine.json() == []
    forged = scenario.api(b).request(
        "POST",
        "/notification_preferences",
        json={"user_id": str(a), "kind": "renewal_reminder", "channel": "email"},
    )
    assert forged.status_code == 403, forged.text
    assert forged.json()["code"] == "42501"
    flipped = scenario.api(b).request(
        "PATCH", f"/notification_preferences?user_id=eq.{a}", json={"enabled": True}
    )
    assert flipped.status_code == 200 and flipped.json() == []
    seen = scenario.api(admin).get(f"/notification_preferences?user_id=eq.{a}&select=kind")
    assert seen.json() == [{"kind": "one_session_left"}]
    by_admin = scenario.api(admin).request(
        "PATCH", f"/notification_preferences?user_id=eq.{a}", json={"enabled": True}
    )
    assert by_admin.status_code == 200 and by_admin.json() == []
    anon = scenario.api(None).get("/notification_preferences")
    assert anon.status_code == 401
    assert conn.execute(
        "select kind::text, enabled from public.notification_preferences where user_id = %s",
        (a,),
    ).fetchall() == [("one_session_left", False)]


def test_book_session_queues_no_reminder_the_person_turned_off(
    scenario: Scenario, clock: Clock
) -> None:
    booked = booked_world(scenario, clock)
    student = scenario.api(booked["student"])
    switch(student, "session_reminder_24h", "email", False)
    switch(student, "session_reminder_1h", "discord", False)
    switch(scenario.api(booked["mentor"]), "session_reminder_1h", "email", False)
    session = ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9)))
    queued = scenario.conn.execute(
        "select kind::text, channel::text, recipient_id from public.notifications"
        " where session_id = %s",
        (session["id"],),
    ).fetchall()
    s, m = uuid.UUID(str(booked["student"])), uuid.UUID(str(booked["mentor"]))
    assert sorted(queued) == sorted(
        [
            ("session_booked", "email", s),
            ("session_booked", "discord", s),
            ("session_booked", "email", m),
            ("session_reminder_24h", "discord", s),
            ("session_reminder_24h", "email", m),
            ("session_reminder_1h", "email", s),
        ]
    )


def test_turning_a_reminder_off_voids_the_one_already_queued(
    scenario: Scenario, clock: Clock
) -> None:
    booked = booked_world(scenario, clock)
    student = scenario.api(booked["student"])
    session = ok(student.rpc("book_session", pack_id=booked["pack"], starts_at=ny(3, 9)))
    switch(student, "session_reminder_24h", "email", False)
    states = scenario.conn.execute(
        "select channel::text, status::text from public.notifications"
        " where session_id = %s and kind = 'session_reminder_24h' and recipient_id = %s",
        (session["id"], booked["student"]),
    ).fetchall()
    assert sorted(states) == [("discord", "pending"), ("email", "voided")]
