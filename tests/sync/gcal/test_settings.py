"""The calendar sync's settings (sync/gcal/settings.py): what it cannot run without is named, and
`python -m sync.gcal` refuses to start without it (exit 78, as the dispatcher)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync.gcal.settings import load
from sync.settings import ConfigError
from testing.services import GOOGLE_TOKEN_KEY_1


def test_every_missing_setting_is_named() -> None:
    with pytest.raises(ConfigError) as refused:
        load(_env_file=None)
    named = " ".join(refused.value.problems)
    for variable in (
        "MENTORSHIPS_SUPABASE_URL",
        "MENTORSHIPS_SUPABASE_SERVICE_ROLE_KEY",
        "MENTORSHIPS_GOOGLE_CLIENT_ID",
        "MENTORSHIPS_GOOGLE_CLIENT_SECRET",
        "MENTORSHIPS_GOOGLE_TOKEN_KEYS",
    ):
        assert variable in named


def test_a_project_url_with_a_path_is_refused() -> None:
    with pytest.raises(ConfigError) as refused:
        load(
            _env_file=None,
            supabase_url="http://127.0.0.1:54321/rest/v1",
            supabase_service_role_key="key",
            google_client_id="id",
            google_client_secret="secret",
            google_token_keys=GOOGLE_TOKEN_KEY_1,
        )
    assert refused.value.problems[0].startswith(
        "MENTORSHIPS_SUPABASE_URL: expected the project URL"
    )


def test_the_worker_refuses_to_start_without_its_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIPS_")}
    done = subprocess.run(
        [sys.executable, "-m", "sync.gcal"],
        cwd=tmp_path,  # no .env there
        env=env | {"PYTHONPATH": str(Path(__file__).parents[3])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    assert "MENTORSHIPS_GOOGLE_TOKEN_KEYS is not set" in done.stderr + done.stdout
