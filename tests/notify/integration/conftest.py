"""A freshly migrated notify database, a mail directory, and a real SMTP server on a free port."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notify.app import MIGRATIONS
from shared.db import migrate_async


def free_port() -> int:
    """A port nothing listens on right now, chosen by the OS (never a well-known default)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CollectingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelope_recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelope_recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = CollectingHandler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
async def database_url(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'notify.db'}"
    await migrate_async(MIGRATIONS, url)
    return url


@pytest.fixture
def smtp_server():
    """An SMTP server on a free port on 127.0.0.1, not started; the test starts it when it wants it up."""
    server = SmtpServer(free_port())
    yield server
    server.stop()
