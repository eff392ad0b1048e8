"""ResendTransport through Resend's real library over real HTTP to the strict fake of Resend's
API: every kind of message with its exact body, the invite parsed back, exactly once per dedupe
key, the verdict of each error answer, 429s waited out as asked, and the rate kept."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from icalendar import Calendar

from sync.messaging.transport import DeliveryFailed, Outgoing
from sync.resend.transport import (
    MAX_WAIT_SECONDS,
    RATE_LIMIT_RETRIES,
    REQUEST_TIMEOUT_SECONDS,
    ResendTransport,
    idempotency_key,
    mailbox,
)
from testing.fakes.resend import API_KEY, SENDER, ResendFake
from testing.messages import ALL_KINDS
from testing.outgoing import ADDRESS, UNSUBSCRIBE, outgoing

T = TypeVar("T")
INVITES = {
    "session_booked": "REQUEST",
    "session_rescheduled": "REQUEST",
    "session_canceled": "CANCEL",
}


def using(
    fake: ResendFake,
    work: Callable[[ResendTransport], Awaitable[T]],
    *,
    rate: float = 1000.0,
    api_key: str = API_KEY,
    api_base: str | None = None,
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
) -> T:
    """Runs ``work`` with a transport pointed at the fake, closed afterwards."""

    async def main() -> T:
        transport = ResendTransport(
            api_key=api_key,
            api_base=api_base or fake.url,
            sender=SENDER,
            rate_per_second=rate,
            timeout_seconds=timeout_seconds,
        )
        try:
            return await work(transport)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def expected_body(message: Outgoing) -> dict[str, Any]:
    """What POST /emails must carry for a message, written out here on its own."""
    rendered = message.rendered
    body: dict[str, Any] = {
        "from": SENDER,
        "to": [f"Ben Ito <{ADDRESS}>"],
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "headers": UNSUBSCRIBE,
    }
    if message.kind in INVITES:
        assert rendered.ics is not None
        body["attachments"] = [
            {
                "filename": "invite.ics",
                "content": base64.b64encode(rendered.ics).decode(),
                "content_type": f"text/calendar; method={INVITES[message.kind]}",
            }
        ]
    return body


def failure(fake: ResendFake, message: Outgoing, **kw: Any) -> DeliveryFailed:
    async def work(transport: ResendTransport) -> DeliveryFailed:
        with pytest.raises(DeliveryFailed) as caught:
            await transport.send(message)
        return caught.value

    return using(fake, work, **kw)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_goes_as_one_email_with_its_exact_body(
    resend_api: ResendFake, kind: str
) -> None:
    message = outgoing(kind, "email")
    email_id = using(resend_api, lambda t: t.send(message))
    [delivery] = resend_api.deliveries
    assert delivery.id == email_id
    assert delivery.key == message.dedupe_key
    assert delivery.body == expected_body(message)


@pytest.mark.parametrize("kind", sorted(INVITES))
def test_the_invite_parses_back_from_the_attachment(resend_api: ResendFake, kind: str) -> None:
    using(resend_api, lambda t: t.send(outgoing(kind, "email")))
    [attachment] = resend_api.deliveries[0].body["attachments"]
    calendar = Calendar.from_ical(base64.b64decode(attachment["content"]))
    assert str(calendar["METHOD"]) == INVITES[kind]
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]).startswith("session-")
    assert event.decoded("DTSTART").isoformat() == "2026-12-08T08:00:00+00:00"


def test_the_same_dedupe_key_is_delivered_once_and_answered_the_same_id(
    resend_api: ResendFake,
) -> None:
    message = outgoing("session_booked", "email")

    async def work(transport: ResendTransport) -> list[str]:
        first = await transport.send(message)
        again = await asyncio.gather(*(transport.send(message) for _ in range(5)))
        return [first, *again]

    ids = using(resend_api, work)
    assert len(set(ids)) == 1
    assert resend_api.delivered(message.dedupe_key) == 1
    assert len(resend_api.requests) == 6


def test_a_message_changed_under_the_same_key_is_not_sent_twice(resend_api: ResendFake) -> None:
    using(resend_api, lambda t: t.send(outgoing("session_booked", "email")))
    changed = outgoing("session_booked", "email", to_name="Benjamin Ito")
    failed = failure(resend_api, changed)
    assert failed.permanent
    assert "invalid_idempotent_request" in failed.reason
    assert len(resend_api.deliveries) == 1


def test_a_dedupe_key_longer_than_resend_takes_becomes_a_stable_digest(
    resend_api: ResendFake,
) -> None:
    long_key = "session:" + "x" * 300
    message = outgoing("session_booked", "email", dedupe_key=long_key)
    key = idempotency_key(long_key)
    assert key.startswith("sha256:") and len(key) == 71
    assert idempotency_key("session:1:booked:2:email") == "session:1:booked:2:email"

    async def twice(transport: ResendTransport) -> tuple[str, str]:
        return await transport.send(message), await transport.send(message)

    first, second = using(resend_api, twice)
    assert first == second
    assert resend_api.delivered(key) == 1


def test_a_name_with_specials_is_quoted() -> None:
    assert mailbox('Ito, Ben "B."', "ben@example.org") == '"Ito, Ben \\"B.\\"" <ben@example.org>'
    assert mailbox("  Zoë\n Ito ", "zoe@example.org") == "Zoë Ito <zoe@example.org>"
    assert mailbox("", "ben@example.org") == "ben@example.org"


def test_a_recipient_with_a_quoted_name_arrives_as_sent(resend_api: ResendFake) -> None:
    message = outgoing("grace_started", "email", to_name="Ito, Ben")
    using(resend_api, lambda t: t.send(message))
    assert resend_api.deliveries[0].body["to"] == ['"Ito, Ben" <ben@example.org>']


@pytest.mark.parametrize(
    ("status", "name", "message"),
    [
        (
            422,
            "validation_error",
            "Invalid `to` field. The email address needs to follow the `email@example.com` format.",
        ),
        (422, "missing_required_field", "Missing `to` field."),
        (422, "invalid_attachment", "Attachment must have either a `content` or `path`."),
        (451, "security_error", "We may have found a security issue with the request."),
    ],
)
def test_errors_of_the_message_itself_are_permanent(
    resend_api: ResendFake, status: int, name: str, message: str
) -> None:
    resend_api.refuse(ADDRESS, status, name, message)
    failed = failure(resend_api, outgoing("session_booked", "email"))
    assert failed.permanent
    assert failed.reason.startswith(f"resend {status} {name}: ")
    assert resend_api.deliveries == []


@pytest.mark.parametrize(
    ("status", "name", "message"),
    [
        (401, "restricted_api_key", "This API key is restricted to only send emails."),
        (401, "validation_error", "API key is invalid"),
        (
            403,
            "validation_error",
            "The example.org domain is not verified. Please, add and verify your domain.",
        ),
        (422, "invalid_from_address", "Invalid `from` field."),
    ],
)
def test_errors_of_the_configuration_are_temporary_and_loud(
    resend_api: ResendFake,
    caplog: pytest.LogCaptureFixture,
    status: int,
    name: str,
    message: str,
) -> None:
    resend_api.refuse(ADDRESS, status, name, message)
    with caplog.at_level(logging.ERROR, logger="sync.resend"):
        failed = failure(resend_api, outgoing("session_booked", "email"))
    assert not failed.permanent
    assert failed.retry_after is None
    assert [r.levelno for r in caplog.records if r.name == "sync.resend"] == [logging.ERROR]
    assert "MENTORSHIPS_RESEND_API_KEY" in caplog.records[-1].getMessage()


def test_a_wrong_api_key_fails_no_message_for_good(
    resend_api: ResendFake, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sync.resend"):
        failed = failure(resend_api, outgoing("session_booked", "email"), api_key="re_wrong")
    assert not failed.permanent
    assert "invalid_api_key" in failed.reason
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    assert resend_api.deliveries == []


@pytest.mark.parametrize(
    ("status", "name"),
    [(500, "application_error"), (500, "internal_server_error"), (503, "service_unavailable")],
)
def test_server_errors_are_temporary(resend_api: ResendFake, status: int, name: str) -> None:
    resend_api.refuse(ADDRESS, status, name, "Something went wrong.")
    failed = failure(resend_api, outgoing("session_booked", "email"))
    assert not failed.permanent
    assert len(resend_api.requests) == 1


def test_a_network_error_is_temporary(resend_api: ResendFake) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    failed = failure(
        resend_api, outgoing("session_booked", "email"), api_base=f"http://127.0.0.1:{closed_port}"
    )
    assert not failed.permanent
    assert "HttpClientError" in failed.reason


def test_a_resend_that_does_not_answer_holds_a_send_no_longer_than_its_time_limit(
    resend_api: ResendFake,
) -> None:
    resend_api.outage(30, status=504, delay=10)
    started = time.monotonic()
    failed = failure(resend_api, outgoing("session_booked", "email"), timeout_seconds=1.5)
    took = time.monotonic() - started
    assert 1.5 <= took < 3, took
    assert not failed.permanent
    assert "no answer within 1.5 s" in failed.reason
    assert resend_api.outage_answers == 1


def test_a_daily_quota_is_temporary_and_not_waited_for(resend_api: ResendFake) -> None:
    resend_api.refuse(
        ADDRESS, 429, "daily_quota_exceeded", "You have reached your daily email sending quota."
    )
    failed = failure(resend_api, outgoing("session_booked", "email"))
    assert not failed.permanent
    assert len(resend_api.requests) == 1


def test_a_429_storm_delays_but_loses_nothing(resend_api: ResendFake) -> None:
    """20 sends at once; the first 30 requests are answered 429 (wait 0.2 s): every message
    still goes exactly once, none is reported failed, and nothing went through before the first
    429's wait was over (all 20 sends were in flight at most when it came, and it was one of 30)."""
    resend_api.rate_limit(30, retry_after=0.2)
    messages = [outgoing("session_booked", "email", notification_id=i) for i in range(20)]
    started = time.monotonic()
    ids = using(resend_api, lambda t: asyncio.gather(*(t.send(m) for m in messages)))
    elapsed = time.monotonic() - started
    assert len(set(ids)) == 20
    assert all(resend_api.delivered(m.dedupe_key) == 1 for m in messages)
    assert resend_api.rate_limited == 30
    first_429 = min(resend_api.rate_limited_at)
    assert min(d.arrived_at for d in resend_api.deliveries) >= first_429 + 0.2
    assert elapsed >= 0.2  # no upper bound: the machine may be busy


def test_a_429_that_does_not_end_reports_the_wait(resend_api: ResendFake) -> None:
    resend_api.rate_limit(100, retry_after=0.05)
    failed = failure(resend_api, outgoing("session_booked", "email"))
    assert not failed.permanent
    assert failed.retry_after == 0.05
    assert resend_api.rate_limited == RATE_LIMIT_RETRIES + 1
    assert resend_api.deliveries == []


def test_a_429_asking_too_long_a_wait_is_reported_at_once(resend_api: ResendFake) -> None:
    resend_api.rate_limit(1, retry_after=MAX_WAIT_SECONDS * 2)
    failed = failure(resend_api, outgoing("session_booked", "email"))
    assert failed.retry_after == MAX_WAIT_SECONDS * 2
    assert len(resend_api.requests) == 1


def test_the_token_bucket_keeps_the_requests_under_the_rate(resend_api: ResendFake) -> None:
    rate = 20.0
    messages = [outgoing("one_session_left", "email", notification_id=i) for i in range(30)]
    using(resend_api, lambda t: asyncio.gather(*(t.send(m) for m in messages)), rate=rate)
    arrivals = sorted(resend_api.requests)
    assert len(arrivals) == 30
    # 30 requests one slot (1/20 s) apart span 29 slots (some slack for the network's jitter) ...
    assert arrivals[-1] - arrivals[0] >= 29 / rate * 0.9
    # ... and no second holds more than rate + 1 of them (+ 2 for jitter).
    assert max(sum(1 for t in arrivals if s <= t < s + 1.0) for s in arrivals) <= rate + 3


def test_a_second_transport_with_another_key_is_refused_while_one_is_open(
    resend_api: ResendFake,
) -> None:
    async def work(transport: ResendTransport) -> None:
        with pytest.raises(ValueError, match="one API key and base URL per process"):
            ResendTransport(
                api_key="re_other", api_base=resend_api.url, sender=SENDER, rate_per_second=1
            )
        same = ResendTransport(
            api_key=API_KEY, api_base=resend_api.url, sender=SENDER, rate_per_second=1
        )
        await same.aclose()

    using(resend_api, work)
    # Closed, the library may be set again.
    using(resend_api, lambda t: t.send(outgoing("seat_released", "email")), api_key=API_KEY)


def test_a_message_that_is_not_an_email_is_refused_without_a_request(
    resend_api: ResendFake,
) -> None:
    failed = failure(resend_api, outgoing("session_booked", "discord"))
    assert failed.permanent
    assert resend_api.requests == []


def test_a_sender_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ValueError, match="is not an address"):
        ResendTransport(
            api_key=API_KEY, api_base="http://x", sender="Mentorships", rate_per_second=1
        )
