"""Who may do what, over real HTTP: every table x select/insert/update/delete x actor, through
the gateway with real JWTs. Writes carry `Prefer: tx=rollback`, so nothing they do persists:
every write is checked to leave the public tables as they were, and so is the whole module.

An expectation is either
- DENIED: no grant; 401 for anon, 403 for anyone else, code 42501 "permission denied for table",
- RLS: granted, but the new row fails a policy's check; 403, 42501 "new row violates row-level
  security policy",
- a set of world labels: the rows the request returned ("new" for a row the request made), and a
  write must return the values it wrote,
- a Refused: status, code and message of a request the privileges let through but a
  constraint stops."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from testing.api import Api
from testing.world import ACTORS, SESSION_DAY, World, wid


class Refused(NamedTuple):
    status: int
    code: str
    message: str  # {table} is the table's name
    exact: bool = True  # else the message starts with it

    def for_table(self, table: str) -> Refused:
        return self._replace(message=self.message.format(table=table))


DENIED = "denied"
RLS = "rls"
NO_GRANT = Refused(403, "42501", "permission denied for table {table}")
POLICY_REFUSES = Refused(
    403, "42501", 'new row violates row-level security policy for table "{table}"'
)
# on delete restrict: the world's rows are all referenced from somewhere.
STILL_REFERENCED = Refused(
    409,
    "23503",
    'update or delete on table "{table}" violates foreign key constraint',
    exact=False,
)
Expect = str | frozenset[str] | Refused


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
    "notification_preferences": rows("pref_a", "pref_b"),
    "mentor_calendars": rows("calendar_a", "calendar_b"),
    "calendar_event_changes": rows("change_a", "change_b"),
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
    # a person's own switches; admins read everyone's, mentors not even their students'
    "notification_preferences": {
        "anon": DENIED,
        "student_a": rows("pref_a"),
        "student_b": rows("pref_b"),
        "mentor_a": NONE,
        "mentor_b": NONE,
        "admin": LABELS["notification_preferences"],
        "service": LABELS["notification_preferences"],
    },
    # a mentor's own calendars; admins read all; students none
    "mentor_calendars": {
        "anon": DENIED,
        "student_a": NONE,
        "student_b": NONE,
        "mentor_a": rows("calendar_a"),
        "mentor_b": rows("calendar_b"),
        "admin": LABELS["mentor_calendars"],
        "service": LABELS["mentor_calendars"],
    },
}

# a mentor reads the flags of their own sessions; admins all; the calendar sync writes them
SELECT["calendar_event_changes"] = {
    "anon": DENIED,
    "student_a": NONE,
    "student_b": NONE,
    "mentor_a": rows("change_a"),
    "mentor_b": rows("change_b"),
    "admin": LABELS["calendar_event_changes"],
    "service": LABELS["calendar_event_changes"],
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
    # One row of settings, made by the schema: no one, not even the service, inserts another.
    "platform_settings": (lambda w: {"id": True}, only({})),
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
        only(
            {
                "student_a": RLS,
                "student_b": RLS,
                "mentor_a": rows("new"),
                "mentor_b": RLS,
                "admin": rows("new"),
                "service": rows("new"),
            }
        ),
    ),
    "promotion_codes": (
        lambda w: {"code": "SPRING25", "percent_off": 25},
        only(
            {
                **{a: RLS for a in ("student_a", "student_b", "mentor_a", "mentor_b")},
                "admin": rows("new"),
                "service": rows("new"),
            }
        ),
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
    # only the person themself (and the service role, for the unsubscribe link)
    "notification_preferences": (
        lambda w: {
            "user_id": str(w["student_a"]),
            "kind": "session_reminder_24h",
            "channel": "email",
            "enabled": False,
        },
        only(
            {
                **{a: RLS for a in EVERYONE_SIGNED_IN},
                "student_a": rows("new"),
                "service": rows("new"),
            }
        ),
    ),
}

INSERT["mentor_calendars"] = (
    # listed by the services only (google_connected); a mentor chooses through an RPC
    lambda w: {
        "mentor_id": str(w["mentor_a"]),
        "calendar_id": "new@group.calendar.google.com",
        "access_role": "reader",
    },
    only({"service": rows("new")}),
)

# written only by the rules (calendar_synced, resolve_calendar_change): no one writes directly
INSERT["calendar_event_changes"] = (
    lambda w: {
        "session_id": str(w["session_a"]),
        "mentor_id": str(w["mentor_a"]),
        "change": "deleted",
        "noticed_at": "2027-01-01T00:00:00Z",
    },
    only({}),
)

# update: one harmless column (not one a trigger sets, as updated_at: the value written must come
# back), aimed at every world row of the table ------------------------------------------------------
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
        {"activated_at": "2031-01-10T12:05:00+00:00"},
        only({"service": LABELS["seat_reservations"]}),
    ),
    "orders": ({"flagged_reason": "matrix"}, only({"service": LABELS["orders"]})),
    "payments": ({"paid_at": SESSION_DAY.isoformat()}, only({"service": LABELS["payments"]})),
    "session_packs": ({"cancel_notice_hours": 48}, only({"service": LABELS["session_packs"]})),
    "sessions": ({"notes": "Great progress"}, only({"service": LABELS["sessions"]})),
    "session_credit_ledger": ({"reason": "edited"}, only({})),
    "notifications": ({"attempts": 1}, only({"service": LABELS["notifications"]})),
    "audit_log": ({"reason": "edited"}, only({})),
    "notification_preferences": (
        {"enabled": True},
        {
            "anon": DENIED,
            **{a: NONE for a in EVERYONE_SIGNED_IN},
            "student_a": rows("pref_a"),
            "student_b": rows("pref_b"),
            "service": LABELS["notification_preferences"],
        },
    ),
}

UPDATE["mentor_calendars"] = ({"summary": "Renamed"}, only({"service": LABELS["mentor_calendars"]}))
UPDATE["calendar_event_changes"] = ({"change": "deleted"}, only({}))

# delete: aimed at every world row; 409 where a foreign key (on delete restrict) stops it -------
DELETE: dict[str, dict[str, Expect]] = {
    "platform_settings": only({}),
    "profiles": only({"service": STILL_REFERENCED}),
    "mentors": only({"service": STILL_REFERENCED}),
    "mentorship_products": only({"service": STILL_REFERENCED}),
    "promotion_codes": only({"service": LABELS["promotion_codes"]}),
    "seat_reservations": only({"service": STILL_REFERENCED}),
    "orders": only({"service": STILL_REFERENCED}),
    "payments": only({"service": LABELS["payments"]}),
    "session_packs": only({"service": STILL_REFERENCED}),
    "sessions": only({"service": STILL_REFERENCED}),
    "session_credit_ledger": only({}),
    "notifications": only({"service": LABELS["notifications"]}),
    "audit_log": only({}),
    "notification_preferences": {
        "anon": DENIED,
        **{a: NONE for a in EVERYONE_SIGNED_IN},
        "student_a": rows("pref_a"),
        "student_b": rows("pref_b"),
        "service": LABELS["notification_preferences"],
    },
}


DELETE["mentor_calendars"] = only({"service": LABELS["mentor_calendars"]})
DELETE["calendar_event_changes"] = only({})


def test_matrix_covers_every_public_table(conn: Any) -> None:
    tables = {
        r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")
    }
    for matrix in (SELECT, INSERT, UPDATE, DELETE):
        assert set(matrix) == tables
    for expectations in SELECT.values():
        assert set(expectations) == set(ACTORS)


def _fingerprint(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """An md5 of every public table's rows (sequences aside: a rolled-back insert still takes a
    value from its sequence)."""
    tables = [
        str(r[0])
        for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'public' order by 1"
        )
    ]
    query = sql.SQL(" union all ").join(
        sql.SQL(
            "select {name}, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), ''))"
            " from public.{table} t"
        ).format(name=sql.Literal(t), table=sql.Identifier(t))
        for t in tables
    )
    return {str(name): str(digest) for name, digest in conn.execute(query)}


@pytest.fixture(scope="module", autouse=True)
def tables_before_the_module(conn: psycopg.Connection[Any], world: World) -> dict[str, str]:
    return _fingerprint(conn)


@contextmanager
def _persists_nothing(conn: psycopg.Connection[Any], where: str) -> Iterator[None]:
    """The request inside asked for tx=rollback: every public table is as it was after it."""
    before = _fingerprint(conn)
    yield
    after = _fingerprint(conn)
    changed = sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))
    assert changed == [], f"{where}: tables changed despite tx=rollback: {changed}"


def _filter(world: World, table: str) -> str:
    ids = ",".join(str(world[label]) for label in sorted(LABELS[table]))
    return f"id=in.({ids})"


def _labels(world: World, table: str, returned: list[dict[str, Any]]) -> frozenset[str]:
    by_id = {str(world[label]): label for label in LABELS[table]}
    return frozenset(by_id.get(str(r["id"]), "new") for r in returned)


def _check(
    api: Api,
    world: World,
    table: str,
    expect: Expect,
    response: Any,
    written: dict[str, Any] | None = None,
) -> None:
    """The response is what the cell expects; an allowed write returned the values it wrote."""
    where = f"{api.name} {response.request.method} {table}: {response.status_code} {response.text[:300]}"
    if expect == DENIED:
        expect = NO_GRANT._replace(status=401 if api.name == "anon" else 403)
    elif expect == RLS:
        expect = POLICY_REFUSES
    if isinstance(expect, Refused):
        refusal = expect.for_table(table)
        body = response.json()
        assert (response.status_code, body["code"]) == (refusal.status, refusal.code), where
        if refusal.exact:
            assert body["message"] == refusal.message, where
        else:
            assert body["message"].startswith(refusal.message), where
        return
    assert isinstance(expect, frozenset), expect
    assert response.status_code == (201 if response.request.method == "POST" else 200), where
    returned = response.json()
    assert len(returned) == len(expect), where
    assert _labels(world, table, returned) == expect, where
    for row in returned:
        assert {column: row.get(column) for column in written or {}} == (written or {}), where


def _cases(matrix: dict[str, Any]) -> list[Any]:
    return [pytest.param(t, a, id=f"{t}-{a}") for t in sorted(matrix) for a in ACTORS]


@pytest.mark.parametrize(("table", "actor"), _cases(SELECT))
def test_select(actors: dict[str, Api], world: World, table: str, actor: str) -> None:
    api = actors[actor]
    response = api.get(f"/{table}?{_filter(world, table)}")
    _check(api, world, table, SELECT[table][actor], response)


@pytest.mark.parametrize(("table", "actor"), _cases(INSERT))
def test_insert(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any], table: str, actor: str
) -> None:
    api = actors[actor]
    make_row, expectations = INSERT[table]
    row = make_row(world)
    with _persists_nothing(conn, f"{actor} POST {table}"):
        response = api.request("POST", f"/{table}", json=row, rollback=True)
    _check(api, world, table, expectations[actor], response, written=row)


@pytest.mark.parametrize("table", sorted(UPDATE))
def test_updates_write_values_the_world_does_not_hold(
    conn: psycopg.Connection[Any], world: World, table: str
) -> None:
    """Else an update that changed nothing would pass for one that wrote."""
    body, _ = UPDATE[table]
    ids = [str(world[label]).lower() for label in LABELS[table]]
    for column, value in body.items():
        held = conn.execute(
            sql.SQL(
                "select count(*) from public.{} t where t.id::text = any(%s) and to_jsonb(t) -> %s::text = %s"
            ).format(sql.Identifier(table)),
            (ids, column, Jsonb(value)),
        ).fetchone()
        assert held == (0,), f"{table}.{column} already holds {value!r}"


@pytest.mark.parametrize(("table", "actor"), _cases(UPDATE))
def test_update(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any], table: str, actor: str
) -> None:
    api = actors[actor]
    body, expectations = UPDATE[table]
    with _persists_nothing(conn, f"{actor} PATCH {table}"):
        response = api.request(
            "PATCH", f"/{table}?{_filter(world, table)}", json=body, rollback=True
        )
    _check(api, world, table, expectations[actor], response, written=body)


@pytest.mark.parametrize(("table", "actor"), _cases(DELETE))
def test_delete(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any], table: str, actor: str
) -> None:
    api = actors[actor]
    with _persists_nothing(conn, f"{actor} DELETE {table}"):
        response = api.request("DELETE", f"/{table}?{_filter(world, table)}", rollback=True)
    _check(api, world, table, DELETE[table][actor], response)


# Columns a person may not write, even on their own row --------------------------------------------
FORBIDDEN_COLUMNS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("student_a", "profiles", "student_a", {"role": "admin"}),
    ("student_a", "profiles", "student_a", {"email": "someone@else.test"}),
    # only Discord's OAuth2 flow sets it (link_discord, service role)
    ("student_a", "profiles", "student_a", {"discord_user_id": "80351110224678912"}),
    ("admin", "profiles", "student_a", {"discord_user_id": "80351110224678912"}),
    ("mentor_a", "mentors", "mentor_a", {"seat_capacity": 50}),
    ("mentor_a", "mentors", "mentor_a", {"is_active": True}),
    ("mentor_a", "mentorship_products", "product_a", {"mentor_id": str(wid("mentor_b"))}),
    ("admin", "promotion_codes", "code_global", {"code": "FREE100"}),
    ("student_a", "session_packs", "pack_a", {"remaining_sessions": 99}),
    ("student_a", "notification_preferences", "pref_a", {"created_at": "2031-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize(
    ("actor", "table", "label", "body"),
    FORBIDDEN_COLUMNS,
    ids=[f"{a}-{t}-{next(iter(b))}" for a, t, _, b in FORBIDDEN_COLUMNS],
)
def test_columns_outside_the_grant_are_refused(
    actors: dict[str, Api],
    world: World,
    conn: psycopg.Connection[Any],
    actor: str,
    table: str,
    label: str,
    body: dict[str, Any],
) -> None:
    with _persists_nothing(conn, f"{actor} PATCH {table}"):
        response = actors[actor].request(
            "PATCH", f"/{table}?id=eq.{world[label]}", json=body, rollback=True
        )
    _check(actors[actor], world, table, DENIED, response)


def test_a_mentor_cannot_add_a_product_for_another_mentor(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any]
) -> None:
    with _persists_nothing(conn, "mentor_b POST mentorship_products"):
        response = actors["mentor_b"].request(
            "POST",
            "/mentorship_products",
            rollback=True,
            json={"mentor_id": str(world["mentor_a"]), "title": "Not mine", "price_cents": 100},
        )
    _check(actors["mentor_b"], world, "mentorship_products", RLS, response)


def test_invalid_working_hours_are_refused_naming_the_column_and_the_form(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any]
) -> None:
    with _persists_nothing(conn, "mentor_a PATCH mentors"):
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


def test_a_kind_that_may_not_be_turned_off_is_refused_naming_the_column(
    actors: dict[str, Api], world: World, conn: psycopg.Connection[Any]
) -> None:
    with _persists_nothing(conn, "student_a PATCH notification_preferences"):
        response = actors["student_a"].request(
            "PATCH",
            f"/notification_preferences?id=eq.{world['pref_a']}",
            rollback=True,
            json={"kind": "session_booked"},
        )
    assert response.status_code == 422
    assert response.reason_phrase == "Unprocessable Entity"
    assert response.json() == {
        "code": "PT422",
        "message": "kind: session_booked messages may not be turned off",
        "details": "kind",
        "hint": "Only these kinds may be turned off: session_reminder_24h, session_reminder_1h,"
        " renewal_reminder, one_session_left.",
    }


def test_rolled_back_writes_left_nothing(
    conn: psycopg.Connection[Any], tables_before_the_module: dict[str, str]
) -> None:
    """Last in the module: after all its writes (every one asked for tx=rollback), every public
    table is as the module found it, and the world as it was made."""
    after = _fingerprint(conn)
    changed = sorted(
        t
        for t in tables_before_the_module.keys() | after.keys()
        if tables_before_the_module.get(t) != after.get(t)
    )
    assert changed == []
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
