"""Who may do what, over real HTTP: every table x select/insert/update/delete x actor, through
the gateway with real JWTs. Writes carry `Prefer: tx=rollback`, so nothing they do persists.

An expectation is either DENIED (401 for anon, 403 for a signed-in user: no grant, or a row
RLS refuses to let in), a set of world labels (the rows the request returned), or an HTTP
status for a request the privileges let through but a constraint stops."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ACTORS
from tests.scenario import Api
from tests.world import SESSION_DAY, World, wid

DENIED = "denied"
Expect = str | frozenset[str] | int


def rows(*labels: str) -> frozenset[str]:
    return frozenset(labels)


NONE = rows()
EVERYONE_SIGNED_IN = ("student_a", "student_b", "mentor_a", "mentor_b", "admin")
PROFILES = rows("admin", "mentor_a", "mentor_b", "mentor_x", "mentor_new", "student_a", "student_b")
A_SIDE = {"a"}


def per_student(prefix: str) -> dict[str, Expect]:
    """Rows every student sees of their own, their mentor sees, admins and the service see all."""
    a, b = rows(f"{prefix}_a"), rows(f"{prefix}_b")
    return {
        "anon": DENIED,
        "student_a": a,
        "student_b": b,
        "mentor_a": a,
        "mentor_b": b,
        "admin": a | b,
        "service": a | b,
    }


def money(prefix: str) -> dict[str, Expect]:
    a, b = rows(f"{prefix}_a"), rows(f"{prefix}_b")
    return {
        "anon": DENIED,
        "student_a": a,
        "student_b": b,
        "mentor_a": NONE,
        "mentor_b": NONE,
        "admin": a | b,
        "service": a | b,
    }


def only(allowed: dict[str, Expect], default: Expect = DENIED) -> dict[str, Expect]:
    return {actor: allowed.get(actor, default) for actor in ACTORS}


# label sets per table: the world rows a request may return -------------------------------------
LABELS: dict[str, frozenset[str]] = {
    "platform_settings": rows("settings"),
    "profiles": PROFILES,
    "mentors": rows("mentor_a", "mentor_b", "mentor_x"),
    "mentorship_products": rows("product_a", "product_a_retired", "product_b", "product_x"),
    "promotion_codes": rows("code_global", "code_mentor_a"),
    "seat_reservations": rows("seat_a", "seat_b"),
    "orders": rows("order_a", "order_b"),
    "payments": rows("payment_a", "payment_b"),
    "session_packs": rows("pack_a", "pack_b"),
    "sessions": rows("session_a", "session_b"),
    "session_credit_ledger": rows("ledger_a", "ledger_b"),
    "notifications": rows(
        "notification_student_a",
        "notification_mentor_a",
        "notification_student_b",
        "notification_mentor_b",
    ),
    "audit_log": rows("audit_1"),
}

SELECT: dict[str, dict[str, Expect]] = {
    "platform_settings": only({a: rows("settings") for a in ACTORS}),
    "profiles": {
        "anon": DENIED,
        "student_a": rows("student_a"),
        "student_b": rows("student_b"),
        "mentor_a": rows("mentor_a", "student_a"),
        "mentor_b": rows("mentor_b", "student_b"),
        "admin": PROFILES,
        "service": PROFILES,
    },
    "mentors": {
        **{a: rows("mentor_a", "mentor_b") for a in ("anon", *EVERYONE_SIGNED_IN)},
        "admin": LABELS["mentors"],
        "service": LABELS["mentors"],
    },
    "mentorship_products": {
        **{a: rows("product_a", "product_b") for a in ("anon", *EVERYONE_SIGNED_IN)},
        "mentor_a": rows("product_a", "product_a_retired", "product_b"),
        "admin": LABELS["mentorship_products"],
        "service": LABELS["mentorship_products"],
    },
    "promotion_codes": only(
        {
            "student_a": NONE,
            "student_b": NONE,
            "mentor_a": rows("code_mentor_a"),
            "mentor_b": NONE,
            "admin": LABELS["promotion_codes"],
            "service": LABELS["promotion_codes"],
        }
    ),
    "seat_reservations": per_student("seat"),
    "orders": money("order"),
    "payments": money("payment"),
    "session_packs": per_student("pack"),
    "sessions": per_student("session"),
    "session_credit_ledger": per_student("ledger"),
    "notifications": {
        "anon": DENIED,
        **{
            a: rows(f"notification_{a}") for a in ("student_a", "student_b", "mentor_a", "mentor_b")
        },
        "admin": LABELS["notifications"],
        "service": LABELS["notifications"],
    },
    "audit_log": only(
        {
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "admin": rows("audit_1"),
            "service": rows("audit_1"),
        }
    ),
}

# insert: one plausible new row per table (on the A side) ---------------------------------------
Row = Callable[[World], dict[str, Any]]


def _session_row(w: World) -> dict[str, Any]:
    starts = SESSION_DAY + dt.timedelta(days=7)
    return {
        "pack_id": str(w["pack_a"]),
        "mentor_id": str(w["mentor_a"]),
        "student_id": str(w["student_a"]),
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
        "blocked_until": (starts + dt.timedelta(hours=1)).isoformat(),
    }


INSERT: dict[str, tuple[Row, dict[str, Expect]]] = {
    "platform_settings": (lambda w: {"id": True}, only({"service": 403})),
    "profiles": (
        lambda w: {"id": str(w["orphan"]), "display_name": "Otto"},
        only({"service": rows("new")}),
    ),
    "mentors": (
        lambda w: {
            "id": str(w["mentor_new"]),
            "slug": "nina",
            "public_name": "Nina",
            "time_zone": "Europe/London",
        },
        only({"service": rows("new")}),
    ),
    "mentorship_products": (
        lambda w: {
            "mentor_id": str(w["mentor_a"]),
            "title": "Two sessions",
            "sessions_count": 2,
            "price_cents": 12000,
        },
        only({"mentor_a": rows("new"), "admin": rows("new"), "service": rows("new")}),
    ),
    "promotion_codes": (
        lambda w: {"code": "SPRING25", "percent_off": 25},
        only({"admin": rows("new"), "service": rows("new")}),
    ),
    "seat_reservations": (
        lambda w: {
            "mentor_id": str(w["mentor_a"]),
            "student_id": str(w["student_b"]),
            "status": "hold",
            "hold_expires_at": (SESSION_DAY + dt.timedelta(minutes=30)).isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "orders": (
        lambda w: {
            "student_id": str(w["student_a"]),
            "mentor_id": str(w["mentor_a"]),
            "product_id": str(w["product_a"]),
            "provider": "paypal",
            "list_price_cents": 24000,
            "amount_cents": 24000,
            "currency": "usd",
            "expires_at": (SESSION_DAY + dt.timedelta(minutes=30)).isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "payments": (
        lambda w: {
            "order_id": str(w["order_a"]),
            "student_id": str(w["student_a"]),
            "provider": "stripe",
            "provider_payment_id": "pi_matrix",
            "amount_cents": 100,
            "currency": "usd",
            "paid_at": SESSION_DAY.isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "session_packs": (
        lambda w: {
            "student_id": str(w["student_a"]),
            "mentor_id": str(w["mentor_a"]),
            "product_id": str(w["product_a"]),
            "seat_reservation_id": str(w["seat_a"]),
            "sessions_total": 4,
            "remaining_sessions": 4,
            "price_cents": 24000,
            "currency": "usd",
            "grace_period_hours": 72,
            "cancel_notice_hours": 24,
            "purchased_at": SESSION_DAY.isoformat(),
            "expires_at": (SESSION_DAY + dt.timedelta(days=90)).isoformat(),
        },
        only({"service": rows("new")}),
    ),
    "sessions": (_session_row, only({"service": rows("new")})),
    "session_credit_ledger": (
        lambda w: {
            "pack_id": str(w["pack_a"]),
            "mentor_id": str(w["mentor_a"]),
            "student_id": str(w["student_a"]),
            "kind": "admin_adjustment",
            "delta": 1,
            "reason": "goodwill",
            "actor_id": str(w["admin"]),
        },
        only({"service": rows("new")}),
    ),
    "notifications": (
        lambda w: {
            "recipient_id": str(w["student_a"]),
            "kind": "one_session_left",
            "channel": "discord",
            "dedupe_key": "matrix:one_session_left",
        },
        only({"service": rows("new")}),
    ),
    "audit_log": (
        lambda w: {"action": "matrix.test", "table_name": "sessions", "row_id": str(uuid.uuid4())},
        only({"service": rows("new")}),
    ),
}

# update: one harmless column, aimed at every world row of the table ----------------------------
UPDATE: dict[str, tuple[dict[str, Any], dict[str, Expect]]] = {
    "platform_settings": (
        {"seat_hold_minutes": 31},
        {
            "anon": DENIED,
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "admin": rows("settings"),
            "service": rows("settings"),
        },
    ),
    "profiles": (
        {"display_name": "Renamed"},
        {"anon": DENIED, **{a: rows(a) for a in EVERYONE_SIGNED_IN}, "service": PROFILES},
    ),
    "mentors": (
        {"headline": "Now teaching"},
        {
            "anon": DENIED,
            "student_a": NONE,
            "student_b": NONE,
            "mentor_a": rows("mentor_a"),
            "mentor_b": rows("mentor_b"),
            "admin": NONE,
            "service": LABELS["mentors"],
        },
    ),
    "mentorship_products": (
        {"title": "Renamed pack"},
        {
            "anon": DENIED,
            "student_a": NONE,
            "student_b": NONE,
            "mentor_a": rows("product_a", "product_a_retired"),
            "mentor_b": rows("product_b"),
            "admin": LABELS["mentorship_products"],
            "service": LABELS["mentorship_products"],
        },
    ),
    "promotion_codes": (
        {"is_active": False},
        {
            "anon": DENIED,
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "admin": LABELS["promotion_codes"],
            "service": LABELS["promotion_codes"],
        },
    ),
    "seat_reservations": (
        {"updated_at": SESSION_DAY.isoformat()},
        only({"service": LABELS["seat_reservations"]}),
    ),
    "orders": ({"updated_at": SESSION_DAY.isoformat()}, only({"service": LABELS["orders"]})),
    "payments": ({"updated_at": SESSION_DAY.isoformat()}, only({"service": LABELS["payments"]})),
    "session_packs": (
        {"updated_at": SESSION_DAY.isoformat()},
        only({"service": LABELS["session_packs"]}),
    ),
    "sessions": ({"notes": "Great progress"}, only({"service": LABELS["sessions"]})),
    "session_credit_ledger": ({"reason": "edited"}, only({})),
    "notifications": ({"attempts": 1}, only({"service": LABELS["notifications"]})),
    "audit_log": ({"reason": "edited"}, only({})),
}

# delete: aimed at every world row; 409 where a foreign key (on delete restrict) stops it -------
DELETE: dict[str, dict[str, Expect]] = {
    "platform_settings": only({}),
    "profiles": only({"service": 409}),
    "mentors": only({"service": 409}),
    "mentorship_products": only({"service": 409}),
    "promotion_codes": only({"service": LABELS["promotion_codes"]}),
    "seat_reservations": only({"service": 409}),
    "orders": only({"service": 409}),
    "payments": only({"service": LABELS["payments"]}),
    "session_packs": only({"service": 409}),
    "sessions": only({"service": 409}),
    "session_credit_ledger": only({}),
    "notifications": only({"service": LABELS["notifications"]}),
    "audit_log": only({}),
}


def test_matrix_covers_every_public_table(conn: Any) -> None:
    tables = {
        r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")
    }
    for matrix in (SELECT, INSERT, UPDATE, DELETE):
        assert set(matrix) == tables
    for expectations in SELECT.values():
        assert set(expectations) == set(ACTORS)


def _filter(world: World, table: str) -> str:
    ids = ",".join(str(world[label]) for label in sorted(LABELS[table]))
    return f"id=in.({ids})"


def _labels(world: World, table: str, returned: list[dict[str, Any]]) -> frozenset[str]:
    by_id = {str(world[label]): label for label in LABELS[table]}
    return frozenset(by_id.get(str(r["id"]), "new") for r in returned)


def _check(api: Api, world: World, table: str, expect: Expect, response: Any) -> None:
    where = f"{api.name} {response.request.method} {table}: {response.status_code} {response.text[:300]}"
    if expect == DENIED:
        assert response.status_code == (401 if api.name == "anon" else 403), where
        assert response.json()["code"] == "42501", where
    elif isinstance(expect, int):
        assert response.status_code == expect, where
    else:
        assert response.status_code in (200, 201), where
        assert _labels(world, table, response.json()) == expect, where


def _cases(matrix: dict[str, Any]) -> list[Any]:
    return [pytest.param(t, a, id=f"{t}-{a}") for t in sorted(matrix) for a in ACTORS]


@pytest.mark.parametrize(("table", "actor"), _cases(SELECT))
def test_select(actors: dict[str, Api], world: World, table: str, actor: str) -> None:
    api = actors[actor]
    response = api.get(f"/{table}?{_filter(world, table)}")
    _check(api, world, table, SELECT[table][actor], response)


@pytest.mark.parametrize(("table", "actor"), _cases(INSERT))
def test_insert(actors: dict[str, Api], world: World, table: str, actor: str) -> None:
    api = actors[actor]
    make_row, expectations = INSERT[table]
    response = api.request("POST", f"/{table}", json=make_row(world), rollback=True)
    _check(api, world, table, expectations[actor], response)


@pytest.mark.parametrize(("table", "actor"), _cases(UPDATE))
def test_update(actors: dict[str, Api], world: World, table: str, actor: str) -> None:
    api = actors[actor]
    body, expectations = UPDATE[table]
    response = api.request("PATCH", f"/{table}?{_filter(world, table)}", json=body, rollback=True)
    _check(api, world, table, expectations[actor], response)


@pytest.mark.parametrize(("table", "actor"), _cases(DELETE))
def test_delete(actors: dict[str, Api], world: World, table: str, actor: str) -> None:
    api = actors[actor]
    response = api.request("DELETE", f"/{table}?{_filter(world, table)}", rollback=True)
    _check(api, world, table, DELETE[table][actor], response)


def test_rolled_back_writes_left_nothing(conn: Any, world: World) -> None:
    """The matrix's writes all asked for tx=rollback; the world is as it was."""
    mentors = [wid("mentor_a"), wid("mentor_b"), wid("mentor_x"), wid("mentor_new")]
    people = [wid(label) for label in ("student_a", "student_b", "mentor_a", "mentor_b")]
    assert conn.execute(
        "select count(*) from public.mentorship_products where mentor_id = any(%s)", (mentors,)
    ).fetchone() == (4,)
    assert conn.execute(
        "select count(*) from public.notifications where recipient_id = any(%s)", (people,)
    ).fetchone() == (4,)
    assert conn.execute(
        "select count(*) from public.promotion_codes where code in ('SPRING25', 'WELCOME10', 'MIRA20')"
    ).fetchone() == (2,)
    assert conn.execute(
        "select display_name from public.profiles where id = %s", (wid("student_a"),)
    ).fetchone() == ("Sam Student",)
    assert conn.execute("select seat_hold_minutes from public.platform_settings").fetchone() == (
        30,
    )


# Columns a person may not write, even on their own row --------------------------------------------
FORBIDDEN_COLUMNS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("student_a", "profiles", "student_a", {"role": "admin"}),
    ("student_a", "profiles", "student_a", {"email": "someone@else.test"}),
    ("mentor_a", "mentors", "mentor_a", {"seat_capacity": 50}),
    ("mentor_a", "mentors", "mentor_a", {"is_active": True}),
    ("mentor_a", "mentorship_products", "product_a", {"mentor_id": str(wid("mentor_b"))}),
    ("admin", "promotion_codes", "code_global", {"code": "FREE100"}),
    ("student_a", "session_packs", "pack_a", {"remaining_sessions": 99}),
]


@pytest.mark.parametrize(
    ("actor", "table", "label", "body"),
    FORBIDDEN_COLUMNS,
    ids=[f"{a}-{t}-{next(iter(b))}" for a, t, _, b in FORBIDDEN_COLUMNS],
)
def test_columns_outside_the_grant_are_refused(
    actors: dict[str, Api], world: World, actor: str, table: str, label: str, body: dict[str, Any]
) -> None:
    response = actors[actor].request(
        "PATCH", f"/{table}?id=eq.{world[label]}", json=body, rollback=True
    )
    assert response.status_code == 403, response.text
    assert response.json()["message"] == f"permission denied for table {table}"


def test_a_mentor_cannot_add_a_product_for_another_mentor(
    actors: dict[str, Api], world: World
) -> None:
    response = actors["mentor_b"].request(
        "POST",
        "/mentorship_products",
        rollback=True,
        json={"mentor_id": str(world["mentor_a"]), "title": "Not mine", "price_cents": 100},
    )
    assert response.status_code == 403
    assert (
        response.json()["message"]
        == 'new row violates row-level security policy for table "mentorship_products"'
    )


def test_invalid_working_hours_are_refused_naming_the_column_and_the_form(
    actors: dict[str, Api], world: World
) -> None:
    response = actors["mentor_a"].request(
        "PATCH",
        f"/mentors?id=eq.{world['mentor_a']}",
        rollback=True,
        json={"working_hours": [{"weekday": 1, "start": "10:00", "end": "09:00"}]},
    )
    assert response.status_code == 422
    assert response.reason_phrase == "Unprocessable Entity"
    body = response.json()
    assert body["code"] == "PT422"
    assert body["details"] == "working_hours"
    assert body["message"].startswith("working_hours must be a list of")
    assert '"start": "HH:MM"' in body["hint"]
