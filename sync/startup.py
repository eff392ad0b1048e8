"""What the services say at start about the settings they run on: placeholder provider keys
(local stacks), a Google or Discord setting missing, the call page's SDK not installed."""

from __future__ import annotations

import logging

from sync import call_page
from sync.placeholders import (
    agora_is_placeholder,
    discord_is_placeholder,
    google_is_placeholder,
    placeholder_providers,
)
from sync.settings import ServiceSettings

# The services' own logger name, as before these lines moved here.
log = logging.getLogger("sync.app")


def warn_about_a_missing_call_sdk(calls: call_page.CallAssets) -> None:
    problem = calls.sdk_problem()
    if problem is not None:
        log.warning(
            f"{problem}; GET /video/{{session_id}} says so (503) until it is. "
            + call_page.INSTALL_HINT,
            extra={"provider": "agora"},
        )


def warn_about_local_keys(settings: ServiceSettings) -> None:
    for provider in placeholder_providers(settings):
        log.warning(
            "placeholder API keys: checkout cannot reach the provider's API until real test keys "
            "are set; signed webhooks are verified with the local secrets",
            extra={"provider": provider},
        )
    if agora_is_placeholder(settings):
        log.warning(
            "placeholder Agora keys: video tokens are minted but Agora's servers refuse them until "
            "the project's App ID and App Certificate are set",
            extra={"provider": "agora"},
        )
    missing_google = settings.missing_google_settings()
    if missing_google or google_is_placeholder(settings):
        log.warning(
            "Google Calendar: /oauth/google/* answer 503 until the OAuth client's id and secret, "
            "the redirect URI, the state secret and the token keys are set",
            extra={"provider": "google"},
        )
    if discord_is_placeholder(settings):
        log.warning(
            "placeholder Discord keys: /oauth/discord/start answers 503 until the Discord "
            "application's client id and secret are set",
            extra={"provider": "discord"},
        )
