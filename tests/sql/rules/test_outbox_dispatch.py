"""The dispatcher's batch calls (sql/rules/outbox_dispatch.sql) through the real gateway and
PostgREST: only the service role may call them, and a malformed batch is refused in the error
contract's shape, naming the element, with nothing written. (The rules themselves:
supabase/tests/database/outbox_dispatch.sql; the worker that calls them: tests/sync/messaging/.)"""

from __future__ import annotations

from testing.api import Api


def test_people_may_not_claim_or_report(actors: dict[str, Api]) -> None:
    for who in ("anon", "student_a", "admin"):
        r = actors[who].rpc("claim_messages", worker="x")
        assert r.status_code in (401, 403), (who, r.text)
        r = actors[who].rpc("report_notifications", outcomes=[])
        assert r.status_code in (401, 403), (who, r.text)
        assert r.json()["code"] == "42501"


def test_a_malformed_outcome_is_a_422_naming_it(actors: dict[str, Api]) -> None:
    r = actors["service"].rpc(
        "report_notifications",
        outcomes=[{"id": 1, "sent": True}, {"id": 2, "error": "boom", "permanent": "yes"}],
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "PT422"
    assert body["message"] == "outcomes[1].permanent: expected true or false"
    assert body["details"] == "outcomes[1].permanent"
    assert "Send outcomes as an array" in body["hint"]
    r = actors["service"].rpc("report_notifications", outcomes={"id": 1})
    assert (r.status_code, r.json()["message"]) == (422, "outcomes: expected an array, not object")


def test_an_empty_report_and_a_claim_with_bad_arguments(actors: dict[str, Api]) -> None:
    assert actors["service"].rpc("report_notifications", outcomes=[]).json() == []
    r = actors["service"].rpc("claim_messages", worker="w", max_messages="0")
    assert r.status_code == 422
    assert r.json()["message"] == 'max_messages: "0" is outside 1 to 1000'
