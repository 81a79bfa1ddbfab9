"""E-mail of a notice: the message (plain text with an HTML alternative, in the recipient's
language, titles and links only) and its delivery through the SMTP server of
``POLICYGAP_SMTP_URL``. Only the send job calls ``Mailer``: never a request."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from markupsafe import escape

from service.config import Settings
from service.i18n.catalogue import Translator
from service.notices.text import words

SMTP_TIMEOUT_SECONDS = 30.0


def absolute(settings: Settings, path: str) -> str:
    """The link of a notice (a path of the app) as an address to open from a mail reader."""
    if not path.startswith("/") or path.startswith("//"):
        path = "/notices"
    return settings.public_url.rstrip("/") + path


def message(
    settings: Settings, *, to: str, kind: str, params: dict[str, Any], lang: str
) -> EmailMessage:
    """The e-mail of a notice: the title, the next step and the link, nothing more (the
    content stays behind sign-in)."""
    _ = Translator(lang)
    said = words(kind, params, lang)
    link = absolute(settings, str(params.get("link") or "/notices"))
    settings_link = absolute(settings, "/account/notices")
    open_words = _("Open it in PolicyGap:")
    why = _("You get this e-mail because of your notice settings in PolicyGap. Change them:")
    text = (
        f"{said.title}\n\n{said.next_step}\n\n{open_words} {link}\n\n-- \n{why} {settings_link}\n"
    )
    html = (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(said.title)}</title></head><body>"
        f"<p><strong>{escape(said.title)}</strong></p>"
        f"<p>{escape(said.next_step)}</p>"
        f'<p>{escape(open_words)} <a href="{escape(link)}">{escape(link)}</a></p>'
        f'<hr><p><small>{escape(why)} <a href="{escape(settings_link)}">'
        f"{escape(settings_link)}</a></small></p></body></html>"
    )
    mail = EmailMessage()
    mail["Subject"] = f"PolicyGap: {said.title}"
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Message-ID"] = make_msgid(domain="policygap")
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    mail["Content-Language"] = lang  # after the parts are made (Content-* moves into them)
    return mail


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    tls: bool  # TLS from the first byte (smtps); else STARTTLS when the server offers it
    username: str | None
    password: str | None


def parse_url(url: str) -> Server:
    """``smtp://host:port`` or ``smtps://user:password@host:port`` (ValueError otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("POLICYGAP_SMTP_URL must look like smtp://host:port or smtps://host")
    tls = parts.scheme == "smtps"
    return Server(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def describe(url: str) -> str:
    """The server of ``url`` without its password (for the log)."""
    server = parse_url(url)
    return f"{'smtps' if server.tls else 'smtp'}://{server.host}:{server.port}"


class Mailer:
    """One connection to the SMTP server for a batch of messages."""

    def __init__(self, url: str) -> None:
        self.server = parse_url(url)
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.server
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT_SECONDS)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        if s.username:
            smtp.login(s.username, s.password or "")
        self._smtp = smtp
        return self

    def send(self, mail: EmailMessage) -> None:
        assert self._smtp is not None  # noqa: S101 - used inside ``with``
        self._smtp.send_message(mail)

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None
