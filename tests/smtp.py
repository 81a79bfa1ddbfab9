"""A real SMTP server for the notices tests (aiosmtpd on 127.0.0.1 and a free port) that keeps
what it receives, parsed."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.builders import free_port


@dataclass
class Inbox:
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def subjects(self, address: str) -> list[str]:
        """The subjects ``address`` received, unfolded (a long one is folded on the wire)."""
        return [subject(m) for m in self.to(address)]


def subject(message: EmailMessage) -> str:
    return " ".join(str(message["Subject"]).split())


@contextmanager
def running_smtp() -> Iterator[tuple[Inbox, str]]:
    """The inbox and the server's ``smtp://`` URL while it runs."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()
