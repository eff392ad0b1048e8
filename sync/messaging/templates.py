"""The renderer of outbox messages: ``render(ctx)`` turns a MessageContext (the row and what the
dispatcher looked up) into an email (subject, plain text, HTML, and an iCalendar invite for
session_booked, session_rescheduled and session_canceled) or a Discord message.

One template per kind (KINDS below): a subject and a body, both Jinja2, the body's paragraphs
separated by blank lines, the links the message offers, and the invite it carries. The same
template renders every channel through three Jinja environments, so the channels cannot drift
apart and each escapes on its own terms:

- plain text: nothing escaped (a name with ``<`` or ``&`` reads as typed);
- HTML: autoescaped (Jinja's autoescape is on for every interpolation, so no template can forget
  to escape, which ``string.Template`` + ``html.escape`` by hand would allow);
- Discord: every interpolation markdown-escaped (and cut to 120 characters), the whole message
  kept within Discord's 2,000.

User text is flattened to one line everywhere (a name cannot forge a line, or a header in the
subject). Times are in the reader's zone with the zone named (formatting.instant), money from
integer minor units (formatting.amount). Links (the exact forms, in one place: Links):

- dashboard ``{dashboard_url}/``; Google Calendar (to reconnect) ``{dashboard_url}/calendar``; a session ``{dashboard_url}/sessions/{session_id}``; a mentor
  (to buy another pack) ``{dashboard_url}/mentors/{mentor_id}``;
- the call page ``{services_url}/video/{session_id}`` (served by the services, issue 11).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from sync.messaging import formatting, invite
from sync.messaging.context import Channel, MessageContext, MessageError

DISCORD_LIMIT = 2000
DISCORD_VALUE_LIMIT = 120
BRAND = "Mentorships"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Links:
    """Every URL a message carries, built from the context's two base URLs."""

    dashboard_url: str
    services_url: str

    @staticmethod
    def _id(value: str) -> str:
        return quote(str(value), safe="")

    @property
    def dashboard(self) -> str:
        return f"{self.dashboard_url.rstrip('/')}/"

    def session(self, session_id: str) -> str:
        return f"{self.dashboard_url.rstrip('/')}/sessions/{self._id(session_id)}"

    def call(self, session_id: str) -> str:
        return f"{self.services_url.rstrip('/')}/video/{self._id(session_id)}"

    def mentor(self, mentor_id: str) -> str:
        return f"{self.dashboard_url.rstrip('/')}/mentors/{self._id(mentor_id)}"

    @property
    def calendar(self) -> str:
        """Where a mentor connects (and reconnects) Google Calendar."""
        return f"{self.dashboard_url.rstrip('/')}/calendar"


@dataclass(frozen=True)
class Rendered:
    """A rendered message. Email: ``subject``, ``text``, ``html``, and for session changes
    ``ics`` (the invite, text/calendar; method in ``ics_method``). Discord: ``content``."""

    kind: str
    channel: Channel
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    content: str | None = None
    ics: bytes | None = None
    ics_method: invite.Method | None = None


LinksOf = Callable[[MessageContext, Links], list[Link]]


def _session_links(ctx: MessageContext, links: Links) -> list[Link]:
    return [
        Link("Your session", links.session(ctx.session_id)),
        Link("Join the call", links.call(ctx.session_id)),
    ]


def _dashboard_links(ctx: MessageContext, links: Links) -> list[Link]:
    return [Link("Your dashboard", links.dashboard)]


def _reconnect_links(ctx: MessageContext, links: Links) -> list[Link]:
    return [Link("Reconnect Google Calendar", links.calendar)]


def _change_links(ctx: MessageContext, links: Links) -> list[Link]:
    return [Link("Choose what to do", links.session(ctx.session_id))]


def _renew_links(ctx: MessageContext, links: Links) -> list[Link]:
    return [
        Link("Buy another pack", links.mentor(ctx.text("mentor_id"))),
        Link("Your dashboard", links.dashboard),
    ]


@dataclass(frozen=True)
class KindTemplate:
    subject: str
    body: str
    links: LinksOf = field(default=_dashboard_links)
    invite: invite.Method | None = None


# The variables every template sees: ctx (the MessageContext), name (the recipient), role
# (student, mentor or admin), channel (email or discord), and functions: other(), mentor(), product(), remaining()
# (look-ups the kind needs: an error naming it when missing), session() (the session's span in
# the reader's zone), when(field) (a payload instant there), utc(field) (for admins), money(field)
# (payload minor units in the payload's currency), field(name) (payload text), sessions(n).
KINDS: dict[str, KindTemplate] = {
    "pack_purchased": KindTemplate(
        subject="""{% if role == "mentor" %}{{ other() }} bought {{ product() }}\
{% else %}Your pack with {{ mentor() }} is ready{% endif %}""",
        body="""
{% if role == "mentor" %}
{{ other() }} bought {{ product() }}: {{ sessions(ctx.integer("sessions")) }} for
{{ money("amount_cents") }}. Their seat with you is theirs until the pack is used up or expires
({{ when("expires_at") }}).
{% else %}
Thank you for buying {{ product() }} with {{ mentor() }}: {{ sessions(ctx.integer("sessions")) }}
for {{ money("amount_cents") }}.

Book your sessions from your dashboard before the pack expires on {{ when("expires_at") }}.
{% endif %}
""",
    ),
    "session_booked": KindTemplate(
        subject="Session booked: {{ session() }}",
        body="""
Your session with {{ other() }} is booked for {{ session() }}.
{% if role == "student" and ctx.remaining_sessions is not none %}

Your pack has {{ sessions(remaining()) }} left to book.
{% endif %}

The call page opens 10 minutes before the start.
{%- if channel == "email" %} The attached invite adds the session to your calendar.{% endif %}
""",
        links=_session_links,
        invite="REQUEST",
    ),
    "session_rescheduled": KindTemplate(
        subject="Session moved: {{ session() }}",
        body="""
Your session with {{ other() }} has moved. It now takes place {{ session() }}.
{% if channel == "email" %}

The attached invite moves it in your calendar.
{% endif %}
""",
        links=_session_links,
        invite="REQUEST",
    ),
    "session_canceled": KindTemplate(
        subject="Session canceled: {{ session() }}",
        body="""
{% set by = ctx.payload.get("canceled_by") %}
Your session with {{ other() }} on {{ session() }} is canceled
{%- if by == "refund" %} because the pack was refunded
{%- elif by == role %} as you asked
{%- elif by == "student" or by == "mentor" %} by the {{ by }}
{%- elif by == "admin" %} by an admin{% endif %}.
{% if role == "student" %}

{% if ctx.payload.get("credit_restored") %}
The session's credit is back in your pack.
{% elif by == "refund" %}
The pack was refunded, so no credit goes back to it.
{% else %}
It was canceled less than 24 hours before the start, so its credit is used.
{% endif %}
{% endif %}
{% if channel == "email" %}

The attached invite removes it from your calendar.
{% endif %}
""",
        invite="CANCEL",
    ),
    "session_reminder_24h": KindTemplate(
        subject="Tomorrow: your session with {{ other() }}",
        body="""
A reminder: your session with {{ other() }} is tomorrow, {{ session() }}.

The call page opens 10 minutes before the start.
""",
        links=_session_links,
    ),
    "session_reminder_1h": KindTemplate(
        subject="In one hour: your session with {{ other() }}",
        body="""
Your session with {{ other() }} starts in one hour: {{ session() }}.

The call page opens 10 minutes before the start.
""",
        links=_session_links,
    ),
    "renewal_reminder": KindTemplate(
        subject="Keep your seat with {{ mentor() }}",
        body="""
Your pack with {{ mentor() }} is nearly used up
{%- if ctx.remaining_sessions is not none %} ({{ sessions(remaining()) }} left){% endif %}.

To keep your seat and go on without a break, buy another pack
{%- if ctx.product_title is not none %} ({{ product() }}){% endif %} before the last session.
""",
        links=_renew_links,
    ),
    "one_session_left": KindTemplate(
        subject="One session left with {{ mentor() }}",
        body="""
Your pack with {{ mentor() }} has {{ sessions(ctx.integer("remaining_sessions")) }} left.

After it, your seat is held for you for a while; buy another pack to keep it.
""",
        links=_renew_links,
    ),
    "grace_started": KindTemplate(
        subject='Your seat with {{ mentor() }} is held until {{ when("grace_ends_at") }}',
        body="""
Your pack with {{ mentor() }} is used up. Your seat is held for you until
{{ when("grace_ends_at") }}.

Buy another pack before then to keep it; after that it goes to the next student.
""",
        links=_renew_links,
    ),
    "grace_warning": KindTemplate(
        subject='Last hours: your seat with {{ mentor() }} is released at {{ when("grace_ends_at") }}',
        body="""
Your seat with {{ mentor() }} is released on {{ when("grace_ends_at") }}.

Buy another pack before then to keep it.
""",
        links=_renew_links,
    ),
    "seat_released": KindTemplate(
        subject="""{% if role == "mentor" %}{{ other() }}'s seat is free again\
{% else %}Your seat with {{ mentor() }} was released{% endif %}""",
        body="""
{% if role == "mentor" %}
The seat {{ other() }} held with you was released: their pack is used up and no new one was
bought. Another student can take it now.
{% else %}
Your seat with {{ mentor() }} was released: your pack is used up and no new one was bought in
time. You are welcome back whenever a seat is free.
{% endif %}
""",
    ),
    "refund_processed": KindTemplate(
        subject="""{% if role == "admin" %}Refund of {{ money("refunded_cents") }} on order {{ field("order_id") }}\
{% else %}Your refund of {{ money("refunded_cents") }}{% endif %}""",
        body="""
{% set full = ctx.payload.get("full") %}
{% if role == "admin" %}
Order {{ field("order_id") }}: {{ money("refunded_cents") }} of {{ money("amount_cents") }} refunded
{%- if full %} in full; the pack is closed
{%- if ctx.payload.get("sessions_canceled") %} and {{ sessions(ctx.integer("sessions_canceled")) }}
canceled{% endif %}{% else %} in part; the pack is unchanged{% endif %}.
{% else %}
We refunded {{ money("refunded_cents") }} of your {{ money("amount_cents") }} payment.
{% if full %}

Your pack is closed
{%- if ctx.payload.get("sessions_canceled") %}; the {{ sessions(ctx.integer("sessions_canceled")) }}
you had booked are canceled{% endif %}.
{% endif %}
{% endif %}
""",
    ),
    "payment_flagged": KindTemplate(
        subject='Payment flagged: {{ field("reason") }}',
        body="""
A payment needs a look: {{ field("reason") }}.
{% if ctx.payload.get("order_id") %}

Order: {{ field("order_id") }}. Nothing was granted for it.
{% endif %}
{% if ctx.payload.get("payment_ref") %}

Payment: {{ field("payment_ref") }}.
{% endif %}
""",
    ),
    "calendar_disconnected": KindTemplate(
        subject="Reconnect your Google Calendar: students cannot book you",
        body="""
Google stopped letting us read your calendar on {{ when("revoked_at") }} (the access was
removed in your Google account, or it expired).

Until you reconnect it, students cannot book you: we cannot see when you are busy, so we offer
none of your times rather than risk a double booking. Your booked sessions stay as they are.
""",
        links=_reconnect_links,
    ),
    "calendar_event_changed": KindTemplate(
        subject="""{% if ctx.payload.get("change") == "moved" %}Moved{% else %}Deleted{% endif %}\
 in Google Calendar: your session with {{ other() }}""",
        body="""
{% if ctx.payload.get("change") == "moved" %}
The Google Calendar event of your session with {{ other() }} on {{ session() }} was moved in
Google Calendar to {{ when("google_starts_at") }}.
{% else %}
The Google Calendar event of your session with {{ other() }} on {{ session() }} was deleted in
Google Calendar.
{% endif %}

The session itself has not changed: {{ other() }} still expects you at its time. Nothing is
canceled unless you say so.

Choose on the session's page: cancel the session (the credit goes back to the student's pack and
they are told), or put the event back in your calendar at the session's time.
""",
        links=_change_links,
    ),
    "delivery_failed": KindTemplate(
        subject='A {{ field("kind") }} message could not be delivered',
        body="""
Message {{ field("notification_id") }} ({{ field("kind") }} by {{ field("channel") }}) to
{{ field("recipient_id") }} failed after {{ ctx.integer("attempts") }} attempts
{%- if ctx.payload.get("error") %}: {{ field("error") }}{% endif %}.

Nobody will retry it.
""",
    ),
}


def _plain(value: Any) -> Any:
    return formatting.one_line(value) if isinstance(value, str) else value


def _discord(value: Any) -> Any:
    if isinstance(value, str):
        return formatting.escape_markdown(formatting.one_line(value, DISCORD_VALUE_LIMIT))
    if value is None:
        return value
    return formatting.escape_markdown(str(value))


def _environment(autoescape: bool, finalize: Callable[[Any], Any]) -> jinja2.Environment:
    return jinja2.Environment(
        autoescape=autoescape,  # noqa: S701 (off only for plain text and Discord, never HTML)
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.lru_cache(maxsize=1024)
def _compiled(environment: jinja2.Environment, source: str) -> jinja2.Template:
    """A template's source compiled once per environment (compiling costs more than rendering)."""
    return environment.from_string(source)


_TEXT = _environment(False, _plain)
_HTML = _environment(True, _plain)
_DISCORD = _environment(False, _discord)


# The HTML page around a body (already escaped paragraphs come in as Markup).
_PAGE = jinja2.Environment(
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
).from_string(
    """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #222222;">
<p>Hello {{ name }},</p>
{% for paragraph in paragraphs %}
<p>{{ paragraph }}</p>
{% endfor %}
{% if links %}
<p>{% for link in links %}<a href="{{ link.url }}">{{ link.label }}</a>{% if not loop.last %} &middot; {% endif %}{% endfor %}</p>
{% endif %}
<p style="color: #777777; font-size: small;">{{ brand }} &middot; <a href="{{ dashboard }}">{{ dashboard }}</a></p>
</body>
</html>
"""
)


def _variables(ctx: MessageContext) -> dict[str, Any]:
    zone = ctx.zone

    def sessions(count: int) -> str:
        return f"{count} session" if count == 1 else f"{count} sessions"

    return {
        "ctx": ctx,
        "name": ctx.recipient_name,
        "role": ctx.recipient_role,
        "channel": ctx.channel,
        "other": lambda: ctx.needed("other_party_name"),
        "mentor": lambda: ctx.needed("mentor_name"),
        "product": lambda: ctx.needed("product_title"),
        "remaining": lambda: ctx.needed("remaining_sessions"),
        "session": lambda: formatting.span(ctx.starts_at, ctx.ends_at, zone),
        "when": lambda name: formatting.instant(ctx.instant(name), zone),
        "utc": lambda name: formatting.utc_stamp(ctx.instant(name)),
        "money": lambda name: formatting.amount(ctx.integer(name), ctx.currency),
        "field": ctx.text,
        "sessions": sessions,
    }


def _paragraphs(rendered: str) -> list[str]:
    """Blank lines separate paragraphs; a paragraph's lines are joined (templates wrap at 100)."""
    blocks = (
        " ".join(line.strip() for line in block.splitlines()) for block in rendered.split("\n\n")
    )
    return [block.strip() for block in blocks if block.strip()]


def _fit_discord(content: str) -> str:
    if len(content) <= DISCORD_LIMIT:
        return content
    cut = content[: DISCORD_LIMIT - 1]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:  # never end on half an escape
        cut = cut[:-1]
    return cut + "\u2026"


def template_for(kind: str) -> KindTemplate:
    try:
        return KINDS[kind]
    except KeyError:
        raise MessageError(f"no template for message kind {kind!r}") from None


def render(ctx: MessageContext) -> Rendered:
    """Renders one message for its channel. Raises MessageError (permanent) for a kind without a
    template, or a payload or context without what its kind needs."""
    template = template_for(ctx.kind)
    variables = _variables(ctx)
    links = Links(ctx.dashboard_url, ctx.services_url)
    offered = template.links(ctx, links)
    try:
        if ctx.channel == "discord":
            subject = _compiled(_DISCORD, template.subject).render(variables)
            body = _paragraphs(_compiled(_DISCORD, template.body).render(variables))
            lines = [f"**{formatting.one_line(subject)}**", *body]
            if offered:
                lines.append("\n".join(f"{link.label}: <{link.url}>" for link in offered))
            return Rendered(ctx.kind, ctx.channel, content=_fit_discord("\n\n".join(lines)))
        subject = formatting.one_line(_compiled(_TEXT, template.subject).render(variables))
        text_body = _paragraphs(_compiled(_TEXT, template.body).render(variables))
        html_body = _paragraphs(_compiled(_HTML, template.body).render(variables))
    except jinja2.UndefinedError as exc:  # a template names a variable that does not exist
        raise MessageError(f"the {ctx.kind} template: {exc.message}") from exc
    name = formatting.one_line(ctx.recipient_name)
    text_lines = [f"Hello {name},", *text_body]
    if offered:
        text_lines.append("\n".join(f"{link.label}: {link.url}" for link in offered))
    text_lines.append(f"-- \n{BRAND} \u00b7 {links.dashboard}")
    html = _PAGE.render(
        subject=subject,
        name=name,
        paragraphs=[Markup(paragraph) for paragraph in html_body],  # noqa: S704 (escaped above)
        links=offered,
        brand=BRAND,
        dashboard=links.dashboard,
    )
    ics = _invite(ctx, template.invite, subject, links) if template.invite else None
    return Rendered(
        ctx.kind,
        ctx.channel,
        subject=subject,
        text="\n\n".join(text_lines) + "\n",
        html=html,
        ics=ics,
        ics_method=template.invite,
    )


def _invite(ctx: MessageContext, method: invite.Method, subject: str, links: Links) -> bytes:
    other = formatting.one_line(ctx.needed("other_party_name"))
    when = formatting.span(ctx.starts_at, ctx.ends_at, ctx.zone)
    verb = "Canceled: session" if method == "CANCEL" else "Session"
    description = (
        f"{verb} with {other}, {when}.\n"
        f"Session: {links.session(ctx.session_id)}\n"
        f"Call: {links.call(ctx.session_id)}"
    )
    return invite.Invite(
        method=method,
        session_id=ctx.session_id,
        sequence=ctx.reschedule_count + (1 if method == "CANCEL" else 0),
        starts_at=ctx.starts_at,
        ends_at=ctx.ends_at,
        stamp=ctx.queued_at,
        summary=f"Mentorship session with {other}",
        description=description,
        url=links.call(ctx.session_id),
        organizer_email=ctx.needed("organizer_email"),
        organizer_name=BRAND,
        attendee_email=ctx.needed("recipient_email"),
        attendee_name=formatting.one_line(ctx.recipient_name),
    ).to_ical()
