"""Receipts as e-mail: rendering from the templates, building the message, and the two transports.

With `KP_NOTIFY_SMTP_HOST` set, mail goes to that SMTP server; otherwise each message is written as
an .eml file, which is what the embedded default and the tests read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined

from notify.domain.model import (
    Delivery,
    DeliveryKind,
    Receipt,
    StatusNotice,
    mail_file_name,
    message_id,
    receipt_language,
    single_line,
    status_label,
)
from notify.settings import NotifySettings


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


class ReceiptRenderer:
    """Renders the receipt templates (`receipt.<lang>.txt` and `receipt.<lang>.subject.txt`)."""

    def __init__(self) -> None:
        # Plain text, not HTML: escaping would show "&amp;" to the reader instead of protecting anything.
        self._env = Environment(
            loader=PackageLoader("notify", "templates"), autoescape=False, undefined=StrictUndefined,
            keep_trailing_newline=True, trim_blocks=True,
        )

    def render(self, receipt: Receipt) -> RenderedMail:
        """The subject and body in the receipt's language."""
        language = receipt_language(receipt.language)
        context = {"name": single_line(receipt.recipient_name), "reference": receipt.reference, "title": receipt.title}
        subject = self._env.get_template(f"receipt.{language}.subject.txt").render(context)
        body = self._env.get_template(f"receipt.{language}.txt").render(context)
        return RenderedMail(subject=single_line(subject), body=body)

    def render_notice(self, notice: StatusNotice) -> RenderedMail:
        """A status notice's subject and body in the proposer's language, with the revise link when there is one."""
        language = receipt_language(notice.language)
        context = {
            "name": single_line(notice.recipient_name), "reference": notice.reference, "title": notice.title,
            "status_label": status_label(notice.status, language), "note": notice.note.strip(),
            "revise_url": notice.revise_url,
        }
        subject = self._env.get_template(f"status_notice.{language}.subject.txt").render(context)
        body = self._env.get_template(f"status_notice.{language}.txt").render(context)
        return RenderedMail(subject=single_line(subject), body=body)


def sender_domain(mail_from: str) -> str:
    """The domain of the sender's address, used to make Message-IDs globally unique."""
    _local, at, domain = parseaddr(mail_from)[1].rpartition("@")
    return domain if at and domain else "localhost"


def build_receipt_message(
    receipt: Receipt, rendered: RenderedMail, delivery_id: str, mail_from: str, now: datetime | None = None
) -> EmailMessage:
    """The receipt as an RFC 5322 message whose Message-ID is fixed by the delivery."""
    return _message(receipt, rendered, message_id(delivery_id, sender_domain(mail_from)), mail_from, now)


def build_notice_message(
    notice: StatusNotice, rendered: RenderedMail, delivery_id: str, mail_from: str, now: datetime | None = None
) -> EmailMessage:
    """A status notice as an RFC 5322 message whose Message-ID is fixed by the delivery."""
    identifier = message_id(delivery_id, sender_domain(mail_from), DeliveryKind.STATUS_NOTICE.value)
    return _message(notice, rendered, identifier, mail_from, now)


def _message(
    to: Receipt | StatusNotice, rendered: RenderedMail, identifier: str, mail_from: str, now: datetime | None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = Address(display_name=single_line(to.recipient_name), addr_spec=to.recipient_email)
    message["Subject"] = rendered.subject
    message["Date"] = now or datetime.now(UTC)
    message["Message-ID"] = identifier
    # RFC 3834: out-of-office replies must not answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.body)
    # After set_content, which clears every Content-* header set before it.
    message["Content-Language"] = receipt_language(to.language)
    return message


class MailTransport(Protocol):
    async def send(self, message: EmailMessage, *, delivery_name: str) -> None:
        """Hand the message over; `delivery_name` is the same every time this delivery is (re)sent."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temp file in the same directory, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file readable by the owner only, which suits a message holding an address.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    # The rename is durable only once the directory entry itself is on disk.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class FileTransport:
    """Writes each message to `<directory>/<delivery_name>`; sending it again replaces the same file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, *, delivery_name: str) -> None:
        """Write the message as an .eml file, atomically."""
        await asyncio.to_thread(write_atomically, self.directory / delivery_name, message.as_bytes())


class SmtpTransport:
    """Sends through an SMTP server with aiosmtplib."""

    def __init__(
        self, host: str, port: int, *, username: str = "", password: str = "", starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    async def send(self, message: EmailMessage, *, delivery_name: str) -> None:
        """Submit the message; an SMTP error propagates, so the event is retried later."""
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username or None,
            password=self.password or None,
            start_tls=self.starttls,
            timeout=self.timeout,
        )


def mail_transport(settings: NotifySettings) -> MailTransport:
    """SMTP when a host is configured, otherwise .eml files under `mail_dir`."""
    if settings.smtp_host:
        return SmtpTransport(
            settings.smtp_host, settings.smtp_port, username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(), starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    return FileTransport(settings.mail_dir or settings.common.var_dir / "mail")


class ReceiptMailer:
    """Renders a receipt and hands it to the transport, named by its delivery."""

    def __init__(self, transport: MailTransport, mail_from: str, renderer: ReceiptRenderer | None = None) -> None:
        self.transport = transport
        self.mail_from = mail_from
        self.renderer = renderer or ReceiptRenderer()

    async def send(self, delivery: Delivery, receipt: Receipt) -> None:
        """Send the receipt for this delivery."""
        message = build_receipt_message(receipt, self.renderer.render(receipt), delivery.id, self.mail_from)
        await self.transport.send(message, delivery_name=mail_file_name(receipt.reference, delivery.id))

    async def send_notice(self, delivery: Delivery, notice: StatusNotice) -> None:
        """Send the status notice for this delivery."""
        message = build_notice_message(notice, self.renderer.render_notice(notice), delivery.id, self.mail_from)
        await self.transport.send(message, delivery_name=mail_file_name(notice.reference, delivery.id))
