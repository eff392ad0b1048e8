"""The renderer of outbox messages (sync/messaging/templates.py): a golden file per kind and
channel, each holding the message rendered in three scenarios: Europe/Berlin and
America/Los_Angeles (the same instants), and Europe/Berlin across the end of summer time (a
session on Sun 25 Oct 2026, the day the clocks go back, at the same UTC time as one the day
before: 09:00 after the change, 10:00 before it).

The goldens are under tests/sync/messaging/golden/; any difference fails. After a deliberate
change, regenerate them and review the diff:

    MENTORSHIPS_UPDATE_GOLDENS=1 .venv/bin/pytest tests/sync/messaging
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from sync.messaging.context import CHANNELS, Channel, MessageContext, MessageError, Role
from sync.messaging.templates import KINDS, Rendered, _fit_discord, render
from testing.messages import ALL_KINDS, SCENARIOS, SESSION, context, payload

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MENTORSHIPS_UPDATE_GOLDENS") == "1"


def golden_text(kind: str, channel: Channel) -> str:
    parts = []
    for scenario in SCENARIOS:
        rendered = render(context(kind, channel, scenario))
        parts.append(f"===== {scenario} =====\n")
        if channel == "discord":
            assert rendered.content is not None
            parts.append(rendered.content + "\n")
            continue
        assert rendered.subject is not None and rendered.html is not None
        parts.append(f"----- subject -----\n{rendered.subject}\n")
        parts.append(f"----- text -----\n{rendered.text}")
        parts.append(f"----- html -----\n{rendered.html}")
        if rendered.ics is not None:
            ics = rendered.ics.decode().replace("\r\n", "\n")
            parts.append(f"----- ics ({rendered.ics_method}) -----\n{ics}")
    return "".join(parts)


def test_every_kind_has_a_template() -> None:
    assert sorted(KINDS) == sorted(ALL_KINDS)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_golden(kind: str, channel: Channel) -> None:
    path = GOLDEN / f"{kind}.{channel}.txt"
    actual = golden_text(kind, channel)
    if UPDATE:
        path.write_text(actual)
    assert path.exists(), f"no golden {path.name}: run with MENTORSHIPS_UPDATE_GOLDENS=1"
    assert actual == path.read_text(), f"{path.name} differs (see the module docstring)"


def test_no_golden_without_a_kind() -> None:
    """A stale golden (a kind renamed) fails too."""
    expected = {f"{kind}.{channel}.txt" for kind in ALL_KINDS for channel in CHANNELS}
    assert {path.name for path in GOLDEN.iterdir()} == expected


def email(kind: str, **overrides: Any) -> Rendered:
    return render(context(kind, "email", **overrides))


# -- escaping ---------------------------------------------------------------------------------------
NASTY = '<script>alert("x")</script> & Co'


def test_html_escapes_user_text_and_text_keeps_it() -> None:
    rendered = email("session_booked", other_party_name=NASTY, recipient_name="Tom & <b>Jerry</b>")
    assert rendered.html is not None and rendered.text is not None and rendered.subject
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html
    assert "Hello Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;," in rendered.html
    assert f"Your session with {NASTY} is booked" in rendered.text
    assert rendered.text.startswith("Hello Tom & <b>Jerry</b>,\n")
    assert "<b>Jerry" not in rendered.html


def test_html_escapes_the_subject_in_its_title() -> None:
    rendered = email("session_reminder_24h", other_party_name=NASTY)
    assert rendered.subject == f"Tomorrow: your session with {NASTY}"
    assert rendered.html is not None
    assert "<title>Tomorrow: your session with &lt;script&gt;" in rendered.html


def test_a_name_cannot_forge_lines_or_headers() -> None:
    rendered = email("session_reminder_1h", other_party_name="Ana\r\nBcc: all@example.org\n\nHi")
    assert rendered.subject == "In one hour: your session with Ana Bcc: all@example.org Hi"
    assert rendered.text is not None and "\nBcc" not in rendered.text


def test_discord_escapes_markdown_and_mentions() -> None:
    name = "**Ana** _the_ `best` ||spoiler|| [link](https://evil.example) @everyone <@123> # h"
    content = render(context("session_booked", "discord", other_party_name=name)).content
    assert content is not None
    assert (
        r"\*\*Ana\*\* \_the\_ \`best\` \|\|spoiler\|\| \[link\]\(https://evil.example\) "
        r"\@everyone \<\@123\> \# h"
    ) in content
    assert "**Ana**" not in content
    # our own markup stays: the bold subject, links in angle brackets (no embeds)
    assert content.startswith("**Session booked: Tue 8 Dec 2026")
    assert f"Join the call: <https://services.example.org/video/{SESSION}>" in content


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_discord_stays_within_2000_characters_with_a_very_long_name(kind: str) -> None:
    huge = "_*" * 5000
    ctx = context(kind, "discord")
    long_payload = {key: huge for key in ("reason", "error", "payment_ref")}
    content = render(
        context(
            kind,
            "discord",
            other_party_name=huge,
            mentor_name=huge,
            product_title=huge,
            recipient_name=huge,
            payload={**ctx.payload, **long_payload}
            if ctx.recipient_role == "admin"
            else ctx.payload,
        )
    ).content
    assert content is not None
    assert len(content) <= 2000
    if "\\_\\*" in content:  # the kind shows a name (or an admin's error text): cut, visibly
        assert "\\_\u2026" in content
        assert content.count("\\_") <= 60 * 5


def test_discord_cuts_a_message_past_the_limit_without_half_an_escape() -> None:
    assert _fit_discord("a" * 2000) == "a" * 2000
    cut = _fit_discord("a" * 1997 + "\\_" * 10)
    assert len(cut) <= 2000 and cut.endswith("\u2026")
    body = cut[:-1]
    assert (len(body) - len(body.rstrip("\\"))) % 2 == 0


# -- errors -----------------------------------------------------------------------------------------
def test_an_unknown_kind_is_an_error_naming_it() -> None:
    with pytest.raises(MessageError, match="no template for message kind 'session_teleported'"):
        render(
            MessageContext(
                **{**context("session_booked", "email").__dict__, "kind": "session_teleported"}
            )
        )


def test_a_payload_without_a_field_its_kind_needs_is_an_error_naming_it() -> None:
    ctx = context("session_booked", "email")
    broken = MessageContext(**{**ctx.__dict__, "payload": {"session_id": SESSION}})
    with pytest.raises(MessageError, match="session_booked message's payload has no 'starts_at'"):
        render(broken)


def test_a_missing_look_up_is_an_error_naming_it() -> None:
    with pytest.raises(MessageError, match="session_booked message needs other_party_name"):
        render(context("session_booked", "discord", other_party_name=None))


def test_an_unknown_zone_or_channel_is_refused() -> None:
    with pytest.raises(MessageError, match="unknown time zone 'Mars/Olympus'"):
        context("session_booked", "email", time_zone="Mars/Olympus")
    with pytest.raises(MessageError, match="unknown channel 'sms'"):
        MessageContext(**{**context("session_booked", "email").__dict__, "channel": "sms"})


# -- money --------------------------------------------------------------------------------------------
def test_money_in_a_zero_decimal_currency() -> None:
    rendered = email(
        "pack_purchased",
        payload=payload("pack_purchased", *SCENARIOS["Europe/Berlin"][1:])
        | {"amount_cents": 150000, "currency": "jpy"},
    )
    assert rendered.text is not None and "4 sessions for 150,000 JPY." in rendered.text


def test_money_in_a_two_decimal_currency() -> None:
    rendered = email(
        "refund_processed",
        payload=payload("refund_processed", *SCENARIOS["Europe/Berlin"][1:])
        | {"refunded_cents": 1005, "amount_cents": 24099, "currency": "usd", "full": False},
    )
    assert rendered.subject == "Your refund of 10.05 USD"
    assert rendered.text is not None and "10.05 USD of your 240.99 USD payment." in rendered.text


def test_money_is_never_a_float() -> None:
    bad = payload("pack_purchased", *SCENARIOS["Europe/Berlin"][1:]) | {"amount_cents": 240.0}
    with pytest.raises(MessageError, match="'amount_cents' is not an integer"):
        email("pack_purchased", payload=bad)


# -- every variant of a kind renders (roles, cancel reasons, partial refunds) ----------------------------
@pytest.mark.parametrize(
    ("kind", "role", "extra", "expected"),
    [
        ("pack_purchased", "mentor", {}, "Ben Ito bought Four portrait sessions: 4 sessions"),
        ("seat_released", "student", {}, "Your seat with Ana Ruiz was released"),
        ("refund_processed", "admin", {"full": False}, "in part; the pack is unchanged."),
        ("refund_processed", "admin", {}, "in full; the pack is closed and 2 sessions canceled."),
        ("session_canceled", "mentor", {}, "is canceled by the student."),
        (
            "session_canceled",
            "student",
            {"canceled_by": "student", "credit_restored": False},
            "less than 24 hours before the start, so its credit is used.",
        ),
        (
            "session_canceled",
            "student",
            {"canceled_by": "refund", "credit_restored": False},
            "because the pack was refunded.",
        ),
        ("session_canceled", "student", {"canceled_by": "admin"}, "is canceled by an admin."),
    ],
)
def test_variants(kind: str, role: Role, extra: dict[str, Any], expected: str) -> None:
    base = payload(kind, *SCENARIOS["Europe/Berlin"][1:])
    other = "Ben Ito" if role == "mentor" else "Ana Ruiz"
    for channel in CHANNELS:
        rendered = render(
            context(
                kind,
                channel,
                recipient_role=role,
                other_party_name=other,
                payload=base | extra,
            )
        )
        body = rendered.text if channel == "email" else rendered.content
        assert body is not None
        flat = body.replace("\n", " ")
        assert expected in (flat if channel == "email" else flat.replace("\\", "")), flat
