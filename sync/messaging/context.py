"""What the renderer is given: an outbox row (public.notifications) and what the dispatcher
looks up for it. The row's payload (written by the rules, sql/rules/: private.session_payload and
every private.notify call) stays the source of its ids, instants and amounts; the properties
below read it, typed, and name the field a payload lacks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Channel = Literal["email", "discord"]
Role = Literal["student", "mentor", "admin"]
CHANNELS: tuple[Channel, ...] = ("email", "discord")
ROLES: tuple[Role, ...] = ("student", "mentor", "admin")


class MessageError(ValueError):
    """A message that cannot be rendered: unknown kind or channel, a payload without a field its
    kind needs, a context without a look-up its kind needs. Permanent: rendering it again gives the
    same error (the dispatcher reports it failed, permanent=true)."""


@dataclass(frozen=True, kw_only=True)
class MessageContext:
    """One outbox message and what the dispatcher looked up for it.

    From the row: ``notification_id``, ``kind``, ``channel``, ``payload`` (as stored),
    ``queued_at`` (its created_at: the invite's DTSTAMP, so a message rendered again after a
    crash is byte for byte the same).

    Looked up by the dispatcher:
    - ``recipient_name``: the recipient's profiles.display_name;
    - ``recipient_role``: what the recipient is to this message: the session's or pack's
      ``student`` or ``mentor``, or an ``admin`` (payment_flagged, delivery_failed, and admins'
      copies of refund_processed);
    - ``time_zone``: the recipient's IANA zone (profiles.time_zone), every instant is shown in it;
    - ``dashboard_url``, ``services_url``: base URLs without a trailing slash (the Streamlit
      dashboards, the services that serve the call page), see templates.Links;
    - ``other_party_name``: for the student the mentor's public name, for the mentor the student's
      display name (session kinds, pack_purchased, seat_released);
    - ``mentor_name``: the mentor's public name (mentors.public_name);
    - ``product_title``: the pack's product title (pack_purchased, renewal_reminder);
    - ``remaining_sessions``: the pack's remaining sessions now (session kinds, renewal_reminder;
      one_session_left carries its own in the payload);
    - ``reschedule_count``: the session's reschedule_count (invites: SEQUENCE);
    - ``recipient_email``, ``organizer_email``: the invite's ATTENDEE and ORGANIZER (the
      recipient's address and the address the email is sent from); email session changes only.
    """

    notification_id: int
    kind: str
    channel: Channel
    payload: Mapping[str, Any]
    queued_at: datetime
    recipient_name: str
    recipient_role: Role
    time_zone: str
    dashboard_url: str
    services_url: str
    other_party_name: str | None = None
    mentor_name: str | None = None
    product_title: str | None = None
    remaining_sessions: int | None = None
    reschedule_count: int = 0
    recipient_email: str | None = None
    organizer_email: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise MessageError(f"unknown channel {self.channel!r}: expected one of {CHANNELS}")
        if self.recipient_role not in ROLES:
            raise MessageError(
                f"unknown recipient role {self.recipient_role!r}: expected one of {ROLES}"
            )
        if self.queued_at.tzinfo is None:
            raise MessageError("queued_at must carry its time zone (a timestamptz)")
        if self.reschedule_count < 0:
            raise MessageError(
                f"reschedule_count must not be negative, got {self.reschedule_count}"
            )
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MessageError(
                f"unknown time zone {self.time_zone!r}: expected an IANA name"
            ) from exc

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    # -- the payload, typed ------------------------------------------------------------------------
    def field(self, name: str) -> Any:
        """A payload field this message's kind needs; its absence is a MessageError naming it."""
        value = self.payload.get(name)
        if value is None:
            raise MessageError(f"the {self.kind} message's payload has no {name!r}")
        return value

    def instant(self, name: str) -> datetime:
        """A payload instant (jsonb renders timestamptz as ISO 8601 with its offset), in UTC."""
        raw = self.field(name)
        try:
            value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        except ValueError as exc:
            raise MessageError(
                f"the {self.kind} message's {name!r} is not an instant: {raw!r}"
            ) from exc
        if value.tzinfo is None:
            raise MessageError(f"the {self.kind} message's {name!r} has no offset: {raw!r}")
        return value.astimezone(UTC)

    def integer(self, name: str) -> int:
        value: object = self.field(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise MessageError(f"the {self.kind} message's {name!r} is not an integer: {value!r}")
        return value

    def text(self, name: str) -> str:
        return str(self.field(name))

    def needed(self, name: str) -> Any:
        """A look-up of the context this message's kind needs (other_party_name, ...)."""
        value = getattr(self, name)
        if value is None:
            raise MessageError(f"a {self.kind} message needs {name} in its context")
        return value

    @property
    def session_id(self) -> str:
        return self.text("session_id")

    @property
    def starts_at(self) -> datetime:
        return self.instant("starts_at")

    @property
    def ends_at(self) -> datetime:
        return self.instant("ends_at")

    @property
    def currency(self) -> str:
        return self.text("currency").upper()
