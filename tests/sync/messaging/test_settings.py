"""The dispatcher's settings (sync/messaging/settings.py): `python -m sync.messaging` refuses to
start (exit 78) naming each variable missing or malformed, never its value; blanks are unset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mentorships.settings import PROJECT_DIR
from sync.messaging.settings import DEFAULT_MAIL_DIR, load
from sync.settings import ConfigError


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    return subprocess.run(
        [sys.executable, "-m", "sync.messaging"],
        cwd=tmp_path,  # no .env there
        env={**clean, "PYTHONPATH": str(PROJECT_DIR), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_its_settings_the_worker_refuses_to_start_naming_each(tmp_path: Path) -> None:
    out = start(tmp_path)
    assert out.returncode == 78
    assert "MENTORSHIPS_SUPABASE_URL is not set" in out.stderr
    assert "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY is not set" in out.stderr
    assert "MENTORSHIPS_UNSUBSCRIBE_SECRET is not set" in out.stderr
    assert "refusing to start" in out.stderr


def test_malformed_settings_are_named_without_their_values(tmp_path: Path) -> None:
    out = start(
        tmp_path,
        MENTORSHIPS_SUPABASE_URL="http://127.0.0.1:54321/rest/v1",
        MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY="secret-value-x",
        MENTORSHIPS_MESSAGES_DATABASE_URL="mysql://u:hunter2@h/db",
        MENTORSHIPS_MAIL_FROM="nobody",
        MENTORSHIPS_MESSAGES_BATCH_SIZE="0",
    )
    assert out.returncode == 78
    for name in ("SUPABASE_URL", "MESSAGES_DATABASE_URL", "MAIL_FROM", "MESSAGES_BATCH_SIZE"):
        assert f"MENTORSHIPS_{name}:" in out.stderr
    assert "hunter2" not in out.stderr


def test_blank_values_are_unset_and_the_sender_gives_the_invites_organizer() -> None:
    s = load(
        _env_file=None,
        supabase_url="http://127.0.0.1:54321",
        supabase_service_role_key="sb_secret_x",
        unsubscribe_secret="u" * 32,
        mail_dir="",
        messages_worker_name=" ",
        messages_status_file="",
        resend_api_key="",
        mail_from="Mentorships <hello@example.org>",
    )
    assert s.mail_dir == DEFAULT_MAIL_DIR
    assert s.messages_worker_name is None and s.messages_status_file is None
    assert s.resend_api_key is None
    assert s.sender_address == "hello@example.org"
    with pytest.raises(ConfigError) as e:
        load(_env_file=None, supabase_url="http://x:1", supabase_service_role_key=None)
    assert e.value.problems == [
        "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY is not set (the project's service_role API key, a secret)",
        "MENTORSHIPS_UNSUBSCRIBE_SECRET is not set (it signs the unsubscribe links in emails; the"
        " services and the dispatcher need the same one)",
    ]
    with pytest.raises(ConfigError) as e:
        load(
            _env_file=None,
            supabase_url="http://x:1",
            supabase_service_role_key="sb_secret_x",
            unsubscribe_secret="too short",
        )
    assert e.value.problems[0].startswith("MENTORSHIPS_UNSUBSCRIBE_SECRET: expected at least 32")
