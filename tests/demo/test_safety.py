"""`mentorships seed` refuses before writing anything when the stack cannot take its history,
puts back what a killed run left, and `mentorships info` prints commands that work."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from demo import play
from mentorships.errors import StackError
from mentorships.info import info_text
from mentorships.settings import Settings
from mentorships.stack import Gateway, Services, Stack, Worker, paths
from testing.demo import DEMO, count, values
from testing.world import World


def test_seed_refuses_when_the_services_are_not_running(
    settings: Settings, conn: psycopg.Connection, world: World, services: Services
) -> None:
    before = count(conn, f"select count(*) from public.orders where student_id in {DEMO}")
    services.stop()
    try:
        with pytest.raises(StackError) as e:
            play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
        assert str(e.value) == (
            f"the services app is not answering at {settings.services_url}/health (HTTP none); "
            "run `mentorships up` (the demo's purchases go through it)"
        )
    finally:
        services.start()
    assert count(conn, f"select count(*) from public.orders where student_id in {DEMO}") == before


def test_seed_refuses_when_the_services_run_with_other_settings(
    settings: Settings, conn: psycopg.Connection, world: World, services: Services
) -> None:
    """They would not verify what the seed signs (say, a `mentorships up` from before the stack
    had its local PayPal signer): nothing is written, and the error says to run `up`."""
    before = count(conn, f"select count(*) from public.orders where student_id in {DEMO}")
    other = Settings.model_validate(
        {**settings.model_dump(), "checkout_success_url": "https://other.example/{order_id}"}
    )
    Services(other).start()
    try:
        with pytest.raises(StackError) as e:
            play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
        assert str(e.value).startswith(
            f"the services app on 127.0.0.1:{settings.services_port} runs with other settings "
            f"than this stack's now (.local/{settings.stack}/services.env differs"
        )
        assert str(e.value).endswith("restart it with `mentorships up`")
    finally:
        assert services.start() is True  # back to the stack's own settings
    assert count(conn, f"select count(*) from public.orders where student_id in {DEMO}") == before


def test_seed_refuses_when_the_local_paypal_certificate_is_not_served(
    settings: Settings, stack: Stack, conn: psycopg.Connection, world: World, services: Services
) -> None:
    """A gateway started without the local PayPal host (as by a `mentorships up` from before
    it had one): the services could not verify the seed's PayPal events."""
    local = services.local_paypal_signer()
    assert local is not None
    before = count(conn, f"select count(*) from public.orders where student_id in {DEMO}")
    with_real_keys = Settings.model_validate(
        {**settings.model_dump(), "paypal_client_id": "real", "paypal_client_secret": "real"}
    )
    assert "CERT-local" not in Gateway(with_real_keys).config()
    Gateway(with_real_keys).start()
    try:
        with pytest.raises(StackError) as e:
            play.run(settings, scale=1, random_seed=7, progress=lambda _: None)
        assert str(e.value) == (
            f"the local PayPal certificate host {local.cert_url} does not serve this stack's "
            "certificate; run `mentorships up`"
        )
    finally:
        assert stack.gateway.start() is True  # back to the stack's own settings
    assert httpx.get(local.cert_url).content == local.signer.cert_pem
    assert count(conn, f"select count(*) from public.orders where student_id in {DEMO}") == before


def test_info_prints_working_commands(settings: Settings, world: World) -> None:
    text = info_text(settings)
    assert settings.rest_url in text
    assert "mentorships token student1@demo.mentorships.test" in text
    assert text.count("curl -s") >= 3
    assert "dashboards                 off (MENTORSHIPS_DASHBOARDS=false)" in text
    served = info_text(settings.model_copy(update={"dashboards": True}))
    assert f"dashboards                 {settings.dashboards_url}/" in served
    assert "Local sign-in" in served


def test_seed_puts_back_what_a_killed_seed_left(
    running: Settings, stack: Stack, conn: psycopg.Connection, world: World
) -> None:
    """A seed killed outright leaves the clock frozen, the jobs paused and the stack's
    dispatcher stopped, and its marker says how they were: the next seed puts the clock and
    the jobs back before it starts, and says so, and starts the dispatcher when it ends."""
    active = "select jobname from cron.job where active order by 1"
    before = values(conn, active)  # the test stack keeps its jobs paused
    worker = Worker(running)
    assert worker.pid() is None  # the test stack leaves it out
    marker = paths(running).state / "seed-in-progress.json"
    marker.write_text(json.dumps({"clock": None, "paused_jobs": ["expire-packs"], "worker": True}))
    conn.execute("update private.clock set frozen_at = '2026-01-01 00:00+00'")
    said: list[str] = []
    try:
        play.run(running, scale=1, random_seed=7, progress=said.append)
        assert any("an earlier seed was killed" in line for line in said), said
        assert count(conn, "select count(*) from private.clock where frozen_at is not null") == 0
        assert values(conn, active) == before | {"expire-packs"}
        assert not marker.exists()
        assert worker.pid() is not None and worker.healthy()
    finally:
        worker.stop()
        conn.execute("update cron.job set active = false where jobname = 'expire-packs'")
