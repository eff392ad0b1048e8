"""The local placeholder provider keys: a local stack (mentorships.stack.Services) fills each
provider secret nobody set with a value of this form, made once; webhooks signed with those
verify, but the placeholder API keys cannot reach Stripe or PayPal, so the services refuse a
checkout on them (503) and say so at start. Placeholder Agora keys mint well-formed video tokens
that Agora's servers refuse (said at start). Placeholder Discord client keys cannot reach
Discord: /oauth/discord/start answers 503 on them; the placeholder state secret is a real random
secret (states signed with it verify)."""

from __future__ import annotations

import base64
import secrets

from pydantic import SecretStr

from sync.settings import (
    AGORA_SECRETS,
    API_KEYS,
    DISCORD_API_KEYS,
    GOOGLE_API_KEYS,
    Provider,
    ProviderSettings,
)

LOCAL_KEY_PREFIX = "local_"
_PLACEHOLDER_FORMS: dict[str, tuple[str, int]] = {
    "stripe_secret_key": (f"sk_test_{LOCAL_KEY_PREFIX}", 16),
    "stripe_webhook_secret": (f"whsec_{LOCAL_KEY_PREFIX}", 24),
    "paypal_client_id": (LOCAL_KEY_PREFIX, 12),
    "paypal_client_secret": (LOCAL_KEY_PREFIX, 24),
    "paypal_webhook_id": ("LOCAL", 8),  # upper case, as PayPal's ids are
    # 32 characters, as Agora's are: "local_" and 26 hex digits.
    "agora_app_id": (LOCAL_KEY_PREFIX, 13),
    "agora_app_certificate": (LOCAL_KEY_PREFIX, 13),
    # Discord's client ids are digits; a placeholder one is marked as the others are.
    "discord_client_id": (LOCAL_KEY_PREFIX, 9),
    "discord_client_secret": (LOCAL_KEY_PREFIX, 16),
    # A real random secret: states signed with it verify (only the client keys cannot reach
    # Discord).
    "discord_state_secret": (LOCAL_KEY_PREFIX, 32),
    # A real random secret too: a local stack's unsubscribe links verify.
    "unsubscribe_secret": (LOCAL_KEY_PREFIX, 32),
    # Google's client id ends in .apps.googleusercontent.com; a placeholder one is marked too.
    "google_client_id": (LOCAL_KEY_PREFIX, 12),
    "google_client_secret": (LOCAL_KEY_PREFIX, 16),
    # Real random secrets: states verify, tokens seal (made by new_placeholder's own form).
    "google_state_secret": (LOCAL_KEY_PREFIX, 32),
    "google_token_keys": ("1:", 32),
}
PLACEHOLDER_FIELDS = tuple(_PLACEHOLDER_FORMS)


def new_placeholder(field: str) -> str:
    """A fresh local placeholder for a provider secret (PLACEHOLDER_FIELDS)."""
    prefix, size = _PLACEHOLDER_FORMS[field]
    if field == "google_token_keys":
        return prefix + base64.b64encode(secrets.token_bytes(size)).decode()
    digits = secrets.token_hex(size)
    return prefix + (digits.upper() if prefix.isupper() else digits)


def is_placeholder(field: str, value: str | SecretStr | None) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and value.startswith(_PLACEHOLDER_FORMS[field][0])


def placeholder_providers(settings: ProviderSettings) -> list[Provider]:
    """Enabled providers whose API keys are local placeholders: their APIs are out of reach."""
    return [
        provider
        for provider in settings.payment_providers
        if any(is_placeholder(field, getattr(settings, field)) for field in API_KEYS[provider])
    ]


def discord_is_placeholder(settings: ProviderSettings) -> bool:
    """Whether Discord's client id or secret is a local placeholder: Discord would refuse them,
    so /oauth/discord/start answers 503 instead of sending anyone there."""
    return any(is_placeholder(field, getattr(settings, field)) for field in DISCORD_API_KEYS)


def google_is_placeholder(settings: ProviderSettings) -> bool:
    """Whether Google's client id or secret is a local placeholder: Google would refuse them, so
    /oauth/google/start answers 503 instead of sending anyone there."""
    return any(is_placeholder(field, getattr(settings, field)) for field in GOOGLE_API_KEYS)


def agora_is_placeholder(settings: ProviderSettings) -> bool:
    """Whether the Agora keys are local placeholders: tokens are minted, Agora refuses them."""
    return any(is_placeholder(field, getattr(settings, field)) for field in AGORA_SECRETS)
