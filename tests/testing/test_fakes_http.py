"""The strict fake itself (testing/fakes/http.py): what it must refuse fails the test. A query
string no one declared, a body it cannot read, an exception in a callable answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testing.fakes.http import Request, StrictFake


@pytest.fixture(scope="module")
def server() -> Iterator[StrictFake]:
    f = StrictFake("probe")
    yield f
    f.close()


@pytest.fixture
def fake(server: StrictFake) -> StrictFake:
    """The fake, expecting nothing (as the suite's fixtures hand it to a test)."""
    server.reset()
    return server


def call(fake: StrictFake, method: str, path: str, **kw: Any) -> httpx.Response:
    with httpx.Client(base_url=fake.url, timeout=10) as client:
        return client.request(method, path, **kw)


def raw(fake: StrictFake, head: str, body: bytes) -> bytes:
    """Sends the request as written (CRLF line ends), closes its side, reads the whole answer."""
    host, port = fake.url.removeprefix("http://").split(":")
    request = head.strip().replace("\n", "\r\n").encode() + b"\r\n\r\n" + body
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def verify_fails(fake: StrictFake) -> str:
    with pytest.raises(AssertionError) as info:
        fake.verify()
    return str(info.value)


# The query string -------------------------------------------------------------------------------


def test_a_call_declared_without_a_query_string_refuses_one(fake: StrictFake) -> None:
    fake.expect("GET", "/v1/things", response={"data": []})
    response = call(fake, "GET", "/v1/things", params={"expand[]": "owner"})
    assert response.status_code == 400
    assert "unexpected query string 'expand%5B%5D=owner'" in verify_fails(fake)


def test_a_call_declared_without_a_query_string_passes_without_one(fake: StrictFake) -> None:
    fake.expect("GET", "/v1/things", response={"data": []})
    assert call(fake, "GET", "/v1/things").json() == {"data": []}
    fake.verify()


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("limit=3", None),
        ("limit=3&starting_after=obj_1", "query: expected {'limit': '3'}"),
        ("limit=4", "query: expected {'limit': '3'}"),
        ("", "query: expected {'limit': '3'}, got ''"),
        ("limit=3&limit=3", "query has a repeated field"),
    ],
)
def test_a_declared_query_string_matches_exactly(
    fake: StrictFake, query: str, problem: str | None
) -> None:
    fake.expect("GET", "/v1/things", query={"limit": "3"}, response={"data": []})
    response = call(fake, "GET", f"/v1/things?{query}" if query else "/v1/things")
    if problem is None:
        assert response.status_code == 200
        fake.verify()
    else:
        assert response.status_code == 400
        assert problem in verify_fails(fake)


# The body ---------------------------------------------------------------------------------------


def test_a_chunked_body_is_read(fake: StrictFake) -> None:
    fake.expect("POST", "/v1/things", json={"name": "chunked"}, response={"id": "thing_1"})
    response = call(fake, "POST", "/v1/things", content=iter([b'{"name": ', b'"chunked"}']))
    assert response.json() == {"id": "thing_1"}
    fake.verify()
    assert fake.requests[0].headers["transfer-encoding"] == "chunked"


def test_a_chunked_body_with_extensions_and_trailers_is_read(fake: StrictFake) -> None:
    fake.expect("POST", "/v1/things", form={"a": "1", "b": "2"})
    answer = raw(
        fake,
        """
        POST /v1/things HTTP/1.1
        Host: fake
        Transfer-Encoding: chunked
        Connection: close
        """.replace("        ", ""),
        b"4;name=value\r\na=1&\r\n3\r\nb=2\r\n0\r\nX-Trailer: yes\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    fake.verify()


HEAD = "POST /v1/things HTTP/1.1\nHost: fake\nConnection: close\n"


@pytest.mark.parametrize(
    ("headers", "body", "problem"),
    [
        pytest.param(
            "Content-Length: 40",
            b'{"name": "short"}',
            "40 bytes announced, 17 came",
            id="cut-short",
        ),
        pytest.param(
            "Content-Length: many", b"", "Content-Length 'many'", id="length-not-a-number"
        ),
        pytest.param(
            "Content-Length: 17\nContent-Length: 18",
            b'{"name": "short"}',
            "Content-Length '17, 18'",
            id="two-lengths",
        ),
        pytest.param(
            "Transfer-Encoding: chunked",
            b"zz\r\n{}\r\n0\r\n\r\n",
            "chunk size b'zz'",
            id="bad-size",
        ),
        pytest.param(
            "Transfer-Encoding: chunked",
            b"2\r\n{}}\r\n0\r\n\r\n",
            "a chunk longer than its size",
            id="chunk-too-long",
        ),
        pytest.param(
            "Transfer-Encoding: chunked",
            b"11\r\n" + b'{"name": "short"}' + b"\r\n",
            "chunk size: b'' is not a CRLF-ended line",
            id="no-last-chunk",
        ),
        pytest.param(
            "Transfer-Encoding: gzip, chunked",
            b"0\r\n\r\n",
            "Transfer-Encoding 'gzip, chunked'",
            id="gzip",
        ),
        pytest.param(
            "Transfer-Encoding: chunked\nContent-Length: 5",
            b"0\r\n\r\n",
            "both Transfer-Encoding and Content-Length",
            id="chunked-and-length",
        ),
    ],
)
def test_a_body_it_cannot_read_fails_the_test(
    fake: StrictFake, headers: str, body: bytes, problem: str
) -> None:
    # What a Content-Length reader that stops at the end of the stream would accept.
    fake.expect("POST", "/v1/things", json={"name": "short"}, at_least=0)
    answer = raw(fake, HEAD + headers, body)
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b"Connection: close" in answer
    assert f"POST /v1/things: cannot read the body: {problem}" in verify_fails(fake)
    assert fake.requests == []


# An exception while answering -------------------------------------------------------------------


class Boom(Exception):
    pass


def explode(request: Request) -> dict[str, Any]:
    raise Boom(f"no answer for {request.path}")


def test_an_exception_in_a_callable_response_fails_the_test_with_it(fake: StrictFake) -> None:
    fake.expect("POST", "/v1/things", json={"name": "x"}, response=explode)
    response = call(fake, "POST", "/v1/things", json={"name": "x"})
    assert response.status_code == 500
    body = response.json()
    assert body["name"] == "FAKE_RAISED"
    assert "Boom('no answer for /v1/things')" in body["message"]
    with pytest.raises(Boom, match="no answer for /v1/things") as info:
        fake.verify()
    assert "probe fake: raised by the response of POST /v1/things" in (info.value.__notes__ or [])
    fake.reset()
    fake.verify()  # reset forgets it


def test_an_exception_in_a_callable_expectation_fails_the_test_with_it(fake: StrictFake) -> None:
    def form() -> dict[str, str]:
        raise Boom("the order is not known yet")

    fake.expect("POST", "/v1/things", form=form)
    response = call(fake, "POST", "/v1/things", data={"a": "1"})
    assert response.status_code == 500
    assert response.json()["name"] == "FAKE_RAISED"
    with pytest.raises(Boom, match="the order is not known yet"):
        fake.verify()


def test_an_answer_that_is_not_json_fails_the_test_with_the_error(fake: StrictFake) -> None:
    fake.expect("GET", "/v1/things", response={"when": object()})
    assert call(fake, "GET", "/v1/things").status_code == 500
    with pytest.raises(TypeError, match="not JSON serializable"):
        fake.verify()
