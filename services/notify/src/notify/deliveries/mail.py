"""Receipts and status notices as e-mail: rendering in the proposer's language, the message, and the transports.

Each kind has one plain-text template (`templates/<kind>.txt`) whose words come from notify's gettext catalogue
(`t('notify.…')`) and whose state labels come from the contracts' catalogue (`proposal.state.<code>`), so a mail
reads the same as intake's pages, in Bokmål, Nynorsk or English.

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
from typing import Any, Protocol

import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined

from notify.deliveries.model import (
    Delivery,
    Receipt,
    StatusNotice,
    mail_file_name,
    mail_language,
    message_id,
    single_line,
)
from notify.settings import NotifySettings
from shared.i18n import translate, translate_plural


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


def status_label(status: str, language: str) -> str:
    """The state's label from the contracts' catalogue; a code no catalogue knows yet is shown as itself."""
    return translate(f"proposal.state.{status}", language, default=status)


class MailRenderer:
    """Renders `<kind>.txt`: its `subject()` macro is the Subject line, the rest of it is the body."""

    def __init__(self) -> None:
        # Plain text, not HTML: escaping would show "&amp;" to the reader instead of protecting anything.
        self._env = Environment(
            loader=PackageLoader("notify.deliveries", "templates"), autoescape=False, undefined=StrictUndefined,
            keep_trailing_newline=True, trim_blocks=True, extensions=["jinja2.ext.i18n"],
        )

    def _render(self, template: str, language: str, context: dict[str, Any]) -> RenderedMail:
        def t(key: str, **params: Any) -> str:
            return translate(key, language, **params)

        def tn(key: str, count: int, **params: Any) -> str:
            return translate_plural(key, count, language, **params)

        # `gettext`/`ngettext` serve jinja2.ext.i18n's {% trans %} blocks; `t`/`tn` are the short forms.
        translations = {"t": t, "tn": tn, "gettext": t, "ngettext": lambda key, _plural, n, **p: tn(key, n, **p)}
        module = self._env.get_template(template).make_module({**context, **translations})
        subject = vars(module)["subject"]()  # the template's exported `subject` macro
        return RenderedMail(subject=single_line(str(subject)), body=str(module))

    def render_receipt(self, receipt: Receipt) -> RenderedMail:
        """The receipt's subject and body in the proposer's language."""
        context = {"name": single_line(receipt.recipient_name), "reference": receipt.reference, "title": receipt.title}
        return self._render("receipt.txt", mail_language(receipt.language), context)

    def render_status_notice(self, notice: StatusNotice) -> RenderedMail:
        """A status notice's subject and body in the proposer's language, with the revise link when there is one."""
        language = mail_language(notice.language)
        context = {
            "name": single_line(notice.recipient_name), "reference": notice.reference, "title": notice.title,
            "status_label": status_label(notice.status, language), "note": notice.note.strip(),
            "revise_url": notice.revise_url,
        }
        return self._render("status_notice.txt", language, context)


def sender_domain(mail_from: str) -> str:
    """The domain of the sender's address, used to make Message-IDs globally unique."""
    _local, at, domain = parseaddr(mail_from)[1].rpartition("@")
    return domain if at and domain else "localhost"


def build_message(
    delivery: Delivery, to: Receipt | StatusNotice, rendered: RenderedMail, mail_from: str,
    now: datetime | None = None,
) -> EmailMessage:
    """The mail as an RFC 5322 message whose Message-ID is fixed by the delivery (`<kind>-<id>@<domain>`)."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = Address(display_name=single_line(to.recipient_name), addr_spec=to.recipient_email)
    message["Subject"] = rendered.subject
    message["Date"] = now or datetime.now(UTC)
    message["Message-ID"] = message_id(delivery.id, sender_domain(mail_from), delivery.kind.value)
    # RFC 3834: out-of-office replies must not answer an automatic message.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.body)
    # After set_content, which clears every Content-* header set before it.
    message["Content-Language"] = mail_language(to.language)
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


class EmailMailer:
    """Renders a receipt or status notice and hands it to the transport, named by its delivery."""

    def __init__(self, transport: MailTransport, mail_from: str, renderer: MailRenderer | None = None) -> None:
        self.transport = transport
        self.mail_from = mail_from
        self.renderer = renderer or MailRenderer()

    async def send_receipt(self, delivery: Delivery, receipt: Receipt) -> None:
        """Send the receipt for this delivery."""
        message = build_message(delivery, receipt, self.renderer.render_receipt(receipt), self.mail_from)
        await self.transport.send(message, delivery_name=mail_file_name(receipt.reference, delivery.id))

    async def send_status_notice(self, delivery: Delivery, notice: StatusNotice) -> None:
        """Send the status notice for this delivery."""
        message = build_message(delivery, notice, self.renderer.render_status_notice(notice), self.mail_from)
        await self.transport.send(message, delivery_name=mail_file_name(notice.reference, delivery.id))
