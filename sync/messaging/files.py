"""The file transport (local mode: a channel without a provider key) and reading its folder back
(`mentorships mail`).

One file per message, named from its dedupe key (``<readable part>-<sha256 prefix>``): an email
is a real RFC 5322 message (``.eml``: From, To, Subject, Date, Message-ID, text and HTML
alternatives, the invite attached as ``text/calendar; method=...``), a Discord message a JSON
object (``.json``: to, content, nonce, notification id). A file is written to a temporary name
and linked into place, which fails when the name exists: a message delivered twice (claimed
again after a worker died) stays one file, the first, and answers the same id, ``file:<name>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.charset import QP, Charset
from email.encoders import encode_base64
from email.header import Header
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.policy import compat32
from email.utils import (
    format_datetime,
    formataddr,
    parseaddr,
    parsedate_to_datetime,
)
from pathlib import Path
from typing import Any

from sync.messaging.context import Channel
from sync.messaging.formatting import unescape_markdown
from sync.messaging.transport import Outgoing

EXTENSIONS: dict[Channel, str] = {"email": ".eml", "discord": ".json"}
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
_URL = re.compile(r"https?://[^\s<>\"')]+")


def file_stem(dedupe_key: str) -> str:
    """A safe file name for a dedupe key: its letters and digits (to read) and a hash (to be
    unique)."""
    readable = _UNSAFE.sub("-", dedupe_key).strip("-")[:60] or "message"
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:16]
    return f"{readable}-{digest}"


def discord_nonce(dedupe_key: str) -> str:
    """A nonce of Discord's size (at most 25 characters) derived from the dedupe key."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:25]


def _utf8_qp() -> Charset:
    charset = Charset("utf-8")
    charset.body_encoding = QP  # readable in the file, 7-bit on the wire
    return charset


_UTF8 = _utf8_qp()
_WIRE = compat32.clone(linesep="\r\n", max_line_length=998)


def _header(value: str, name: str) -> Any:
    """A header value; RFC 2047 encoded words (a Header) when it is not ASCII."""
    return value if value.isascii() else Header(value, _UTF8, header_name=name)


def _text(body: str, subtype: str) -> MIMEText:
    return MIMEText(body, subtype, _UTF8)  # type: ignore[arg-type]


def email_bytes(message: Outgoing, sender: str) -> bytes:
    """The message as an RFC 5322 email (what Resend would be asked to send). Built with the
    compat32 MIME classes: a fifth of EmailMessage's time, the same message to a reader."""
    r = message.rendered
    body = MIMEMultipart("alternative")
    body.attach(_text(r.text or "", "plain"))
    if r.html is not None:
        body.attach(_text(r.html, "html"))
    mail = body
    if r.ics is not None:
        mail = MIMEMultipart("mixed")
        mail.attach(body)
        invite = MIMEBase("text", "calendar", method=r.ics_method or "REQUEST", charset="utf-8")
        invite.set_payload(r.ics)
        encode_base64(invite)  # the invite's bytes exactly (iCalendar wants its CRLFs)
        invite.add_header("Content-Disposition", "attachment", filename="invite.ics")
        mail.attach(invite)
    mail["From"] = formataddr(parseaddr(sender), charset="utf-8")
    to = (
        formataddr((message.to_name, message.to), charset="utf-8")
        if message.to_name
        else message.to
    )
    mail["To"] = to
    mail["Subject"] = _header(r.subject or "", "Subject")
    mail["Date"] = format_datetime((message.queued_at or datetime.now(UTC)).astimezone(UTC))
    domain = sender.rsplit("@", 1)[-1].rstrip(">").strip() or "mentorships.local"
    mail["Message-ID"] = (
        f"<{hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:32]}@{domain}>"
    )
    mail["X-Mentorships-Notification-Id"] = str(message.notification_id)
    mail["X-Mentorships-Kind"] = message.kind
    for name, value in message.headers.items():
        mail[name] = _header(value, name)
    return mail.as_bytes(policy=_WIRE)


def discord_bytes(message: Outgoing) -> bytes:
    return (
        json.dumps(
            {
                "notification_id": message.notification_id,
                "dedupe_key": message.dedupe_key,
                "nonce": discord_nonce(message.dedupe_key),
                "kind": message.kind,
                "to": message.to,
                "to_name": message.to_name,
                "queued_at": message.queued_at.isoformat() if message.queued_at else None,
                "content": message.rendered.content or "",
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    ).encode()


def write_once(path: Path, data: bytes) -> bool:
    """Writes path unless it exists (atomically: a reader never sees half a file); False when
    it was there already."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(data)}.tmp")
    try:
        # A failed write (a full disk) removes its temporary file too: left behind, every retry's
        # would keep the disk full after space came back.
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if another delivery of the same message got there first
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return True


class FileTransport:
    """Delivers one channel's messages to files in `folder` (see the module's docstring)."""

    name = "file"

    def __init__(self, channel: Channel, folder: Path, *, sender: str) -> None:
        self.channel = channel
        self.folder = folder
        self.sender = sender

    def __repr__(self) -> str:
        return f"file ({self.folder})"

    async def send(self, message: Outgoing) -> str:
        name = file_stem(message.dedupe_key) + EXTENSIONS[self.channel]
        data = (
            email_bytes(message, self.sender) if self.channel == "email" else discord_bytes(message)
        )
        await asyncio.to_thread(write_once, self.folder / name, data)
        return f"file:{name}"

    async def aclose(self) -> None:
        return None


# --- reading the folder back --------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """One delivered message as `mentorships mail` shows it."""

    path: Path
    channel: Channel
    at: datetime
    to: str
    kind: str
    subject: str
    text: str
    links: list[str]
    invite: str | None  # the invite's method (REQUEST, CANCEL), or None

    @property
    def key(self) -> str:
        return self.path.stem


def _read_email(path: Path) -> Delivered:
    mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(mail, EmailMessage)
    body = mail.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    invite = None
    for part in mail.walk():
        if part.get_content_type() == "text/calendar":
            invite = str(part.get_param("method") or "REQUEST")
    return Delivered(
        path=path,
        channel="email",
        at=parsedate_to_datetime(str(mail["Date"])).astimezone(UTC),
        to=str(mail["To"]),
        kind=str(mail["X-Mentorships-Kind"] or ""),
        subject=str(mail["Subject"] or ""),
        text=text,
        links=list(dict.fromkeys(_URL.findall(text))),
        invite=invite,
    )


def _read_discord(path: Path) -> Delivered:
    data = json.loads(path.read_text())
    content = str(data.get("content") or "")
    first = content.splitlines()[0] if content else ""
    queued = data.get("queued_at")
    at = (
        datetime.fromisoformat(queued)
        if queued
        else datetime.fromtimestamp(path.stat().st_mtime, UTC)
    )
    return Delivered(
        path=path,
        channel="discord",
        at=at.astimezone(UTC),
        to=f"{data.get('to_name') or ''} (Discord {data.get('to')})".strip(),
        kind=str(data.get("kind") or ""),
        subject=unescape_markdown(first.strip("*")),
        text=content,
        links=list(dict.fromkeys(link.rstrip(">") for link in _URL.findall(content))),
        invite=None,
    )


def read_folder(folder: Path) -> list[Delivered]:
    """Every message in the folder, newest first (by the instant it was queued); a file that
    cannot be read is skipped."""
    found: list[Delivered] = []
    if not folder.is_dir():
        return found
    for path in folder.iterdir():
        if path.name.startswith("."):
            continue
        try:
            if path.suffix == ".eml":
                found.append(_read_email(path))
            elif path.suffix == ".json":
                found.append(_read_discord(path))
        except (OSError, ValueError, TypeError, AssertionError):
            continue
    found.sort(key=lambda d: (d.at, d.path.name), reverse=True)
    return found
