"""The unsubscribe link (sync/preferences.py) over real HTTP: the services served by uvicorn on the
test stack, a link made by unsubscribe_headers posted as a mail client posts it (RFC 8058), twice;
a GET that only asks; tampered, foreign, missing tokens; a token for a kind that may not be turned
off (the database refuses it); fuzzed tokens never reach a 5xx."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.messaging.unsubscribe import PATH, make_token, unsubscribe_headers
from testing.factories import Scenario
from testing.services import UNSUBSCRIBE_SECRET

SECRET = UNSUBSCRIBE_SECRET.encode()
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


def preferences(conn: psycopg.Connection, user: uuid.UUID) -> list[tuple[str, str, bool]]:
    return [
        (str(k), str(c), bool(e))
        for k, c, e in conn.execute(
            "select kind::text, channel::text, enabled from public.notification_preferences"
            " where user_id = %s order by 1, 2",
            (user,),
        ).fetchall()
    ]


def link(
    served: str, user: uuid.UUID, kind: str = "session_reminder_24h", channel: str = "email"
) -> str:
    headers = unsubscribe_headers(
        recipient_id=str(user), kind=kind, channel=channel, services_url=served, secret=SECRET
    )
    return headers["List-Unsubscribe"].strip("<>")


def test_one_click_turns_the_kind_off_once_and_again(
    served: str, scenario: Scenario, conn: psycopg.Connection
) -> None:
    student = scenario.person("student")
    url = link(served, student)
    for _ in range(2):  # a second click (or a retrying mail client) is fine
        response = httpx.post(url, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "user_id": str(student),
            "kind": "session_reminder_24h",
            "channel": "email",
            "enabled": False,
        }
    assert preferences(conn, student) == [("session_reminder_24h", "email", False)]
    # the switch is the person's own row: it shows in their listing too
    listing = scenario.api(student).rpc("my_notification_preferences").json()
    assert {(r["kind"], r["channel"]) for r in listing if not r["enabled"]} == {
        ("session_reminder_24h", "email")
    }


def test_a_get_asks_and_changes_nothing(
    served: str, scenario: Scenario, conn: psycopg.Connection
) -> None:
    student = scenario.person("student")
    url = link(served, student, "renewal_reminder", "discord")
    for _ in range(3):  # a mail scanner fetching the link
        page = httpx.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "Stop reminders to renew your pack on Discord?" in page.text
        assert '<form method="post" action="?token=' in page.text
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert preferences(conn, student) == []
    # the page's button: a browser's form POST, answered with a page
    token = url.split("token=", 1)[1]
    clicked = httpx.post(
        f"{served}{PATH}?token={token}",
        data={"List-Unsubscribe": "One-Click"},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert clicked.status_code == 200, clicked.text
    assert "You are unsubscribed" in clicked.text
    assert preferences(conn, student) == [("renewal_reminder", "discord", False)]


def test_the_click_voids_the_reminder_already_queued(
    served: str, scenario: Scenario, conn: psycopg.Connection
) -> None:
    student = scenario.person("student")
    key = f"test-prefs:{uuid.uuid4()}"
    conn.execute("select private.notify(array[%s]::uuid[], 'one_session_left', %s)", (student, key))
    response = httpx.post(link(served, student, "one_session_left"), headers=ONE_CLICK)
    assert response.status_code == 200, response.text
    row = conn.execute(
        "select status::text from public.notifications where dedupe_key like %s", (f"{key}:%",)
    ).fetchone()
    assert row == ("voided",)


def _refused(response: httpx.Response, status: int, code: str, details: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message", "details", "hint"}
    assert (body["code"], body["details"]) == (code, details), body
    message: str = body["message"]
    return message


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "token: it is missing (the link carries it as ?token=...)"),
        ("nonsense", "token: it is not an unsubscribe token of these services"),
        ("tampered", "token: its signature does not match (it was changed or not issued here)"),
        ("foreign", "token: it was signed with a key these services no longer have"),
    ],
)
def test_a_bad_token_is_a_400_for_the_post_and_a_page_for_the_get(
    served: str, scenario: Scenario, conn: psycopg.Connection, token: str | None, message: str
) -> None:
    student = scenario.person("student")
    good = make_token(
        recipient_id=str(student), kind="session_reminder_1h", channel="email", secret=SECRET
    )
    other = scenario.person("student")
    forged_payload = make_token(
        recipient_id=str(other), kind="session_reminder_1h", channel="email", secret=SECRET
    ).split(".")[2]
    given_token = {
        None: None,
        "nonsense": "nonsense",
        "tampered": ".".join([*good.split(".")[:2], forged_payload, good.split(".")[3]]),
        "foreign": make_token(
            recipient_id=str(student),
            kind="session_reminder_1h",
            channel="email",
            secret=b"someone-elses-secret-0123456789abcdef",
        ),
    }[token]
    url = f"{served}{PATH}" + ("" if given_token is None else f"?token={quote(given_token)}")
    post = httpx.post(url, content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert _refused(post, 400, "SV400", "token") == message
    assert post.json()["hint"].startswith("Use the link exactly as it came")
    page = httpx.get(url)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "This unsubscribe link does not work" in page.text
    assert message.removeprefix("token: ") in page.text.replace("&#x27;", "'")
    assert preferences(conn, student) == [] and preferences(conn, other) == []


def test_a_signed_token_for_a_kind_that_may_not_be_turned_off_is_the_databases_422(
    served: str, scenario: Scenario, conn: psycopg.Connection
) -> None:
    """unsubscribe_headers never makes one; if one were made, the database still says no."""
    student = scenario.person("student")
    token = make_token(
        recipient_id=str(student), kind="session_booked", channel="email", secret=SECRET
    )
    response = httpx.post(f"{served}{PATH}?token={token}", headers=ONE_CLICK)
    assert (
        _refused(response, 422, "PT422", "kind")
        == "kind: session_booked messages may not be turned off"
    )
    assert preferences(conn, student) == []


def test_a_person_who_is_gone_is_a_404(served: str) -> None:
    nobody = uuid.uuid4()
    response = httpx.post(link(served, nobody), headers=ONE_CLICK)
    assert _refused(response, 404, "PT404", "user_id") == f"no profile with id {nobody}"


def test_other_methods_are_a_405(served: str, scenario: Scenario) -> None:
    response = httpx.delete(link(served, scenario.person("student")))
    assert response.status_code == 405
    assert response.json()["code"] == "SV405"
    assert sorted(response.headers["allow"].split(", ")) == ["GET", "POST"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_fuzzed_tokens_never_reach_a_5xx(served: str, method: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as client:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.text(max_size=400))
        def call(token: str) -> None:
            response = client.request(method, PATH, params={"token": token})
            assert response.status_code < 500, response.text
            assert token not in "\n".join(response.headers.values()) or len(token) < 4
            if method == "POST":
                assert response.status_code == 400
                assert set(response.json()) == {"code", "message", "details", "hint"}
            else:
                assert response.status_code == 400 and "does not work" in response.text

        call()
