"""What each of Resend's error answers means for the message (Resend's API reference, Errors):

- the message as it is was refused, trying it again cannot help: **permanent**;
- the account or these settings are wrong (a bad or restricted API key, an unverified sending
  domain, an invalid sender): every message would fail the same way, so none is marked failed
  for it: **configuration**, reported temporary and logged as an error naming the setting;
- Resend cannot take it now (5xx, a network error, a quota, an idempotent request in
  progress): **temporary**.

429 rate_limit_exceeded is not here: the transport waits and retries it itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from resend.exceptions import ResendError

Verdict = Literal["permanent", "configuration", "temporary"]

# Refusals of this message alone.
PERMANENT_TYPES = frozenset(
    {
        "validation_error",  # 400/422: a field of this message (an invalid `to`, say)
        "missing_required_field",
        "missing_required_fields",
        "invalid_attachment",
        "invalid_parameter",
        "invalid_idempotency_key",  # never sent: keys are cut to Resend's 256 characters
        # 409: Resend holds another message under this key (the message changed between
        # attempts, within 24 h): sending again would need a new key, a second email.
        "invalid_idempotent_request",
        "security_error",  # 451: Resend found a security issue with this request
    }
)
# The settings or the account, whatever the message.
CONFIGURATION_TYPES = frozenset(
    {
        "missing_api_key",
        "invalid_api_key",
        "restricted_api_key",
        "invalid_from_address",  # MENTORSHIPS_MAIL_FROM
        "invalid_to_address",  # an account that may only send test emails to its owner
        "invalid_access",
        "invalid_region",
        "not_found",  # 404/405: the API base is not Resend's
        "method_not_allowed",
    }
)
# Temporary, and the account's: said once as a warning.
QUOTA_TYPES = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})


@dataclass(frozen=True)
class Classified:
    verdict: Verdict
    reason: str


def classify(error: ResendError) -> Classified:
    """The verdict on an error answer (or a network error: type HttpClientError, code 500)."""
    kind = str(error.error_type or "")
    try:
        status = int(error.code)
    except (TypeError, ValueError):
        status = 500
    reason = f"resend {status} {kind}: {error.message}"[:500]
    if kind in CONFIGURATION_TYPES or status in (401, 404, 405):
        return Classified("configuration", reason)
    if status == 403:
        # validation_error 403: the sending domain is not verified, or the account may only send
        # test emails to its owner; invalid_api_key too (caught above).
        return Classified("configuration", reason)
    if kind in QUOTA_TYPES or kind == "concurrent_idempotent_requests" or status >= 500:
        return Classified("temporary", reason)
    if kind in PERMANENT_TYPES:
        return Classified("permanent", reason)
    # An error Resend's reference does not list: not this message's fault as far as we know.
    return Classified("temporary", reason)
