"""supabase-py pointed at the local gateway with the local anon key works unchanged, as it
would against hosted Supabase."""

from __future__ import annotations

from typing import Any, cast

from mentorships import jwt
from mentorships.settings import Settings
from supabase import create_client
from testing.world import World, email


def test_supabase_py_reads_the_catalog_as_anon(settings: Settings, world: World) -> None:
    client = create_client(settings.gateway_url, jwt.anon_key(settings))
    result = (
        client.table("mentors")
        .select("slug, public_name, free_seats, mentorship_products(title)")
        .in_("slug", ["ivy", "kenji", "mira"])  # the world's; ivy is inactive
        .order("slug")
        .execute()
    )
    assert [r["slug"] for r in cast(list[dict[str, Any]], result.data)] == ["kenji", "mira"]
    mira = cast(list[dict[str, Any]], result.data)[1]
    assert mira["free_seats"] == 2  # capacity 3, one active seat
    assert mira["mentorship_products"] == [{"title": "Four sessions (product_a)"}]


def test_supabase_py_with_a_user_token_sees_only_that_users_rows(
    settings: Settings, world: World
) -> None:
    client = create_client(settings.gateway_url, jwt.anon_key(settings))
    client.postgrest.auth(jwt.user_token(settings, world.uid("student_a"), email("student_a")))
    packs = client.table("session_packs").select("id, remaining_sessions").execute()
    assert cast(list[dict[str, Any]], packs.data) == [
        {"id": str(world["pack_a"]), "remaining_sessions": 3}
    ]
    assert client.table("audit_log").select("*").execute().data == []


def test_supabase_py_with_the_service_role_key_bypasses_rls(
    settings: Settings, world: World
) -> None:
    client = create_client(settings.gateway_url, jwt.service_role_key(settings))
    ids = {
        r["id"]
        for r in cast(
            list[dict[str, Any]], client.table("session_packs").select("id").execute().data
        )
    }
    assert {str(world["pack_a"]), str(world["pack_b"])} <= ids
