"""The call page over HTTP: its headers (a strict Content-Security-Policy, no referrer, no
store), no inline script, session ids checked; the asset route (content types, a long cache,
gzip, only the files it knows, no path traversal); and the answer when Agora's SDK is missing:
the services start, the page says so (503) and the log does too."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient

from mentorships.stack import Stack, call_sdk_missing
from sync.app import create_app
from sync.call_page import CALL_DIR, CONTENT_SECURITY_POLICY, DEFAULT_SDK_DIR, SDK_FILE
from sync.settings import ServiceSettings
from testing.fakes.http import StrictFake
from testing.services import changed, serving

SESSION = "0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b"
SDK_VERSION = "4.24.8"  # sync/call/package-lock.json


def test_the_page_carries_a_strict_policy_and_no_inline_script(service: TestClient) -> None:
    response = service.get(f"/video/{SESSION}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    policy = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"

    html = response.text
    assert f"<code>{SESSION}</code>" in html and f'data-session-id="{SESSION}"' in html
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts == ["", ""]  # both loaded from a src, none inline
    assert f'src="/video/assets/{SDK_FILE}?v={SDK_VERSION}"' in html
    assert re.search(r'src="/video/assets/call\.js\?v=[0-9a-f]{16}"', html)
    assert re.search(r'href="/video/assets/call\.css\?v=[0-9a-f]{16}"', html)
    assert "<style" not in html and " style=" not in html and " on" not in html.replace(" one", "")
    assert "https://" not in html  # nothing from a CDN


def test_a_session_id_in_capitals_is_shown_in_its_canonical_form(service: TestClient) -> None:
    html = service.get(f"/video/{SESSION.upper()}").text
    assert f'data-session-id="{SESSION}"' in html


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        SESSION[:-1],
        SESSION + "0",
        SESSION.replace("-", ""),
        "{" + SESSION + "}",
        "urn:uuid:" + SESSION,
        '"><img src=x onerror=alert(1)>',
        "\r\nSet-Cookie: a=b",
        "x" * 500,
    ],
)
def test_anything_but_a_uuid_is_a_404_in_the_error_shape(service: TestClient, text: str) -> None:
    response = service.get("/video/" + quote(text, safe=""))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == "SV404"
    assert body["details"] == "session_id"
    assert body["message"].startswith('there is no call page "/video/')
    assert body["message"].endswith('": session ids are UUIDs')
    assert len(body["message"]) < 120
    assert "\r" not in body["message"] and "\n" not in body["message"]
    assert "Set-Cookie" not in " ".join(f"{k}: {v}" for k, v in response.headers.items())
    assert "/video/0b7e59a4-5f1c-4b4e-9b1a-3c2d1e0f9a8b" in body["hint"]


def test_get_of_the_token_endpoint_is_still_a_405(service: TestClient) -> None:
    response = service.get("/video/token")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "code": "SV405",
        "message": '"/video/token" does not take GET',
        "details": None,
        "hint": "Use POST.",
    }


@pytest.mark.parametrize(
    ("name", "media_type", "source"),
    [
        (SDK_FILE, "text/javascript; charset=utf-8", DEFAULT_SDK_DIR / SDK_FILE),
        ("call.js", "text/javascript; charset=utf-8", CALL_DIR / "call.js"),
        ("call.css", "text/css; charset=utf-8", CALL_DIR / "call.css"),
    ],
)
def test_the_pages_files_are_served_with_their_type_and_a_long_cache(
    service: TestClient, name: str, media_type: str, source: Path
) -> None:
    plain = service.get(f"/video/assets/{name}", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == media_type
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers
    assert plain.content == source.read_bytes()

    packed = service.get(f"/video/assets/{name}?v=1", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert int(packed.headers["content-length"]) < len(plain.content)
    assert packed.content == source.read_bytes()  # httpx decompressed it


def test_head_of_the_sdk_answers_without_a_body(service: TestClient) -> None:
    response = service.head(f"/video/assets/{SDK_FILE}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"


@pytest.mark.parametrize(
    "name",
    [
        "AgoraRTC_N-production.full.js",
        "package.json",
        "call.html",
        "call.JS",
        "call.js%20",
        "%00call.js",
        "...",
    ],
)
def test_only_the_pages_files_are_served(service: TestClient, name: str) -> None:
    response = service.get(f"/video/assets/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == "SV404"
    assert "AgoraRTC_N-production.js, call.css, call.js" in (body["hint"] or "")
    assert b"import " not in response.content and b"def " not in response.content


def _raw_get(base: str, path: str) -> bytes:
    """A request line sent as written (HTTP clients would resolve the dots themselves)."""
    address = urlsplit(base)
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "path",
    [
        "/video/assets/../call_page.py",
        "/video/assets/../../sync/settings.py",
        "/video/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/video/assets/..%2f..%2fpyproject.toml",
        "/video/assets/..%2Fcall_page.py",
        "/video/assets/%2e%2e",
        "/video/assets/call.js/../../app.py",
        "/video/assets//etc/passwd",
    ],
)
def test_no_path_leaves_the_pages_files(served: str, path: str) -> None:
    answer = _raw_get(served, path)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n"), head
    assert b'"code":"SV404"' in body.replace(b" ", b"")
    assert b"[tool" not in body and b"import" not in body and b"root:" not in body


# --- without Agora's SDK ----------------------------------------------------------------------


@pytest.fixture
def without_sdk(
    service_settings: ServiceSettings,
    stack: Stack,
    tmp_path: Path,
    stripe_api: StrictFake,
    paypal_api: StrictFake,
    discord_api: StrictFake,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[TestClient]:
    """The services where the SDK folder is missing (a deploy that did not run npm)."""
    settings = changed(service_settings, call_sdk_dir=str(tmp_path / "not-installed"))
    caplog.set_level(logging.WARNING, logger="sync.app")
    with TestClient(create_app(settings)) as client:
        yield client


def test_without_the_sdk_the_services_run_and_the_page_says_it(
    without_sdk: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert without_sdk.get("/health").json() == {"status": "ok"}
    page = without_sdk.get(f"/video/{SESSION}")

    assert page.status_code == 503
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "The call software is not installed on this server." in page.text
    assert "<script" not in page.text
    assert str(tmp_path) not in page.text  # where it looked is for the log, not the visitor

    sdk = without_sdk.get(f"/video/assets/{SDK_FILE}")
    assert sdk.status_code == 503
    assert sdk.json()["code"] == "SV503"
    assert "not installed" in sdk.json()["message"]
    assert "make setup" in sdk.json()["hint"]
    assert without_sdk.get("/video/assets/call.css").status_code == 200

    logged = [r.getMessage() for r in caplog.get_records("setup") if r.name == "sync.app"]
    missing = str(tmp_path / "not-installed" / SDK_FILE)
    assert any("not installed" in m and missing in m and "make setup" in m for m in logged)


def test_a_sdk_installed_after_the_start_is_served_without_a_restart(
    without_sdk: TestClient, tmp_path: Path
) -> None:
    assert without_sdk.get(f"/video/{SESSION}").status_code == 503
    folder = tmp_path / "not-installed"
    folder.mkdir()
    (folder / SDK_FILE).write_bytes(b"window.AgoraRTC = {};\n")
    (folder / "package.json").write_text('{"version": "9.9.9"}')

    page = without_sdk.get(f"/video/{SESSION}")
    assert page.status_code == 200
    assert f"/video/assets/{SDK_FILE}?v=9.9.9" in page.text
    assert without_sdk.get(f"/video/assets/{SDK_FILE}").content == b"window.AgoraRTC = {};\n"


def test_the_page_is_in_the_services_documented_api(service: TestClient) -> None:
    paths = service.get("/openapi.json").json()["paths"]
    assert "get" in paths["/video/{session_id}"]
    assert not any(p.startswith("/video/assets") for p in paths)


def test_status_says_when_the_services_lack_the_sdk(
    service_settings: ServiceSettings, served: str, stack: Stack, tmp_path: Path
) -> None:
    """`mentorships status` asks the running services (HEAD of the SDK: 503 when missing)."""
    assert not call_sdk_missing(served)
    with serving(create_app(changed(service_settings, call_sdk_dir=str(tmp_path)))) as url:
        assert call_sdk_missing(url)
    stack.services.start()  # a no-op when running, as the stack fixture left it
    row = next(r for r in stack.status() if r.name == "services")
    assert row.healthy and "not installed" not in row.detail
