"""Small builders for the web, API and database tests."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from service import db
from service.auth import service as auth_service
from service.models import Organisation, Role, User

ROOT = Path(__file__).resolve().parents[1]
QUESTIONNAIRES = ROOT / "tests" / "data_web" / "questionnaires"
PASSWORD = "correct horse battery staple"
QUESTIONNAIRE = "web-mini"


@lru_cache
def password_hash() -> str:
    return auth_service.hash_password(PASSWORD)


def make_org(
    session: Session,
    *,
    slug: str,
    kind: str = "agency",
    body_type: str | None = "municipal",
    province: str | None = "ON",
    agency_id: uuid.UUID | None = None,
) -> Organisation:
    return auth_service.get_or_create_organisation(
        session=session,
        slug=slug,
        kind=kind,
        name_en=slug.replace("-", " ").title(),
        name_fr=slug.replace("-", " ").title() + " (fr)",
        body_type=body_type,
        province=province,
        agency_id=agency_id,
    )


def make_user(
    session: Session, *, role: Role, org: Organisation | None, email: str | None = None
) -> User:
    return auth_service.create_user(
        session=session,
        email=email or f"{role.value}-{uuid.uuid4().hex[:6]}@example.test",
        password=PASSWORD,
        full_name=f"Test {role.value}",
        role=role,
        organisation_id=org.id if org else None,
        password_hash=password_hash(),
    )


@dataclass
class World:
    """Two agencies in Ontario, their regulator, the federal regulator, a board, one user per role."""

    agency_a: Organisation
    agency_b: Organisation
    officer_a: User
    officer_b: User
    reviewer_on: User
    reviewer_fed: User
    board_a: User
    admin: User


def make_world(engine: Engine) -> World:
    with db.new_session(engine) as s:
        a = make_org(s, slug="agency-a")
        b = make_org(s, slug="agency-b")
        on = make_org(s, slug="ipc-on", kind="regulator", body_type=None, province="ON")
        fed = make_org(s, slug="opc", kind="regulator", body_type=None, province=None)
        board = make_org(
            s, slug="board-a", kind="board", body_type=None, province="ON", agency_id=a.id
        )
        return World(
            agency_a=a,
            agency_b=b,
            officer_a=make_user(s, role=Role.officer, org=a, email="officer-a@example.test"),
            officer_b=make_user(s, role=Role.officer, org=b, email="officer-b@example.test"),
            reviewer_on=make_user(s, role=Role.reviewer, org=on, email="reviewer-on@example.test"),
            reviewer_fed=make_user(
                s, role=Role.reviewer, org=fed, email="reviewer-fed@example.test"
            ),
            board_a=make_user(s, role=Role.board, org=board, email="board-a@example.test"),
            admin=make_user(s, role=Role.admin, org=None, email="admin@example.test"),
        )


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_UNANSWERED = re.compile(r'name="unanswered" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def version_from(html: str) -> str:
    match = _VERSION.search(html)
    assert match, "no version field on the page"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(page.text),
            "next": "/assessments/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def post_form(client: TestClient, page_url: str, url: str, data: dict[str, object]) -> object:
    """GET ``page_url`` for its CSRF token (and version), then POST ``data`` to ``url``."""
    page = client.get(page_url)
    payload: dict[str, object] = {"csrf_token": csrf_from(page.text)}
    version = _VERSION.search(page.text)
    if version:
        payload["version"] = version.group(1)
    unanswered = _UNANSWERED.findall(page.text)  # hidden inputs: a browser sends them too
    if unanswered:
        payload["unanswered"] = unanswered
    payload.update(data)
    return client.post(url, data=payload, follow_redirects=False)  # type: ignore[arg-type]


def start_assessment(client: TestClient, program: str = "Mugshot search") -> str:
    """Start an assessment of the test questionnaire; returns its base URL."""
    response = post_form(
        client,
        "/assessments/new",
        "/assessments/",
        {"questionnaire": QUESTIONNAIRE, "program": program},
    )
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    location: str = response.headers["location"]  # type: ignore[attr-defined]
    return location.rstrip("/")


def submit_mini(
    client: TestClient, base: str | None = None, *, governance: dict[str, str] | None = None
) -> str:
    """Answer and submit the mini questionnaire through the pages, as an officer would: both
    sections answered and marked completed, then check your answers and submit. Starts an
    assessment unless ``base`` is given; returns the assessment's base URL. ``governance``
    replaces the answers of the second section (by default a PIA done on 2021-01-02)."""
    base = base or start_assessment(client)
    scope, governance_url = base + "/sections/scope", base + "/sections/governance"
    post_form(
        client,
        scope,
        scope,
        {"body_type": "federal", "uses": "live", "searches": "3", "action": "continue"},
    )
    post_form(client, scope + "/check", scope + "/check", {"completed": "yes"})
    answers = governance or {"pia_done": "yes", "pia_date": "2021-01-02"}
    post_form(client, governance_url, governance_url, {**answers, "action": "continue"})
    post_form(client, governance_url + "/check", governance_url + "/check", {"completed": "yes"})
    done = post_form(
        client, base + "/check-your-answers", base + "/check-your-answers", {"confirm": "yes"}
    )
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    return base


class PageParser(HTMLParser):
    """Collects ids, the title, error-summary links and field values of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.title = ""
        self._in_title = False
        self.summary_links: list[str] = []
        self._in_summary = False
        self.inputs: dict[str, list[dict[str, str | None]]] = {}
        self.textareas: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "title":
            self._in_title = True
        if "error-summary" in (a.get("class") or "").split():
            self._in_summary = True
        if tag == "a" and self._in_summary and a.get("href", "").startswith("#"):  # type: ignore[union-attr]
            self.summary_links.append(str(a["href"])[1:])
        if tag == "input" and a.get("name"):
            self.inputs.setdefault(str(a["name"]), []).append(a)
        if tag == "textarea" and a.get("name"):
            self._textarea = str(a["name"])
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "ul":
            self._in_summary = False
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._textarea:
            self.textareas[self._textarea] += data


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    database_url: str, **env_overrides: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {
        **os.environ,
        "POLICYGAP_DATABASE_URL": database_url,
        "POLICYGAP_ENV": "test",
        "POLICYGAP_SECRET_KEY": "test-secret",
        "POLICYGAP_QUESTIONNAIRES_DIR": str(QUESTIONNAIRES),
        "POLICYGAP_REPORT_PRERENDER": "false",
        **env_overrides,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-proxy-headers",  # as deployed: the app reads X-Forwarded-For itself
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode() if proc.stderr else ""
            proc.kill()
            raise RuntimeError(f"server did not start: {err}")
        time.sleep(0.1)
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr:
            proc.stderr.close()
