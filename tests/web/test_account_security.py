"""Issue 16, account security (OWASP ASVS 5.0 L2): the second factor, API tokens and sessions,
sign-in abuse and password strength. Each test failed before its fix."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import select

from service import db
from service.admin import service as admin_service
from service.auth import service as auth_service
from service.config import Settings
from service.main import create_app
from service.models import ApiToken, LoginAttempt, RecoveryCode, User, utcnow
from service.security import token_hash
from tests.builders import PASSWORD, World, csrf_from, login, post_form, submit_mini
from tests.conftest import make_settings


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaaaa", "repeats"),
        ("abcdefghijklm", "sequence"),
        ("123456789012", "common"),
        ("qwertyuiop123", "common"),
        ("Password12345", "common"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    problem = auth_service.password_problem(password)
    assert problem is not None, password
    assert why in problem.lower()


@pytest.mark.parametrize(
    "password",
    ["violet tractor lantern", "orchid canyon ledger", "Tr0ub4dor&3 quill"],
)
def test_strong_passwords_pass(password: str) -> None:
    assert auth_service.password_problem(password) is None


def test_a_password_made_of_the_email_is_refused() -> None:
    problem = auth_service.password_problem("jane.doe.2026", email="jane.doe@example.ca")
    assert problem is not None


def test_the_password_page_says_why_a_weak_password_is_refused(
    client: TestClient, world: World
) -> None:
    with db.new_session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        token = admin_service.new_account_link(
            s, user_id=world.officer_a.id, purpose="reset", actor=None
        )
    url = f"/account/set-password/{token}"
    for lang, message in (
        ("en", "repeats characters (like aaa)"),
        ("fr", "répète des caractères"),
    ):
        client.cookies.clear()
        page = client.get(url, headers={"Accept-Language": lang})
        refused = client.post(
            url,
            data={
                "csrf_token": csrf_from(page.text),
                "password": "aaaaaaaaaaaa",
                "confirm": "aaaaaaaaaaaa",
            },
            headers={"Accept-Language": lang},
        )
        assert refused.status_code == 422
        assert message in refused.text


# --- The second factor ----------------------------------------------------------------------


def _engine(client: TestClient) -> Any:
    return client.app.state.engine  # type: ignore[attr-defined]


def _enrol(client: TestClient, user: User) -> pyotp.TOTP:
    """Give ``user`` an authenticator app (straight in the database)."""
    secret = pyotp.random_base32()
    with db.new_session(_engine(client)) as s, db.writing(s):
        row = s.get(User, user.id)
        assert row is not None
        row.totp_secret = secret
    return pyotp.TOTP(secret)


def _password_step(client: TestClient, email: str) -> str:
    page = client.get("/login")
    step = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert step.status_code == 303
    assert step.headers["location"].startswith("/login/code")
    return str(step.headers["location"])


def _code_step(client: TestClient, location: str, code: str) -> Any:
    page = client.get(location)
    return client.post(
        "/login/code",
        data={"csrf_token": csrf_from(page.text), "code": code, "next": "/assessments/"},
        follow_redirects=False,
    )


def _sign_in_with_code(client: TestClient, email: str, code: str) -> Any:
    return _code_step(client, _password_step(client, email), code)


def test_a_totp_code_is_accepted_only_once(client: TestClient, world: World) -> None:
    app_code = _enrol(client, world.officer_a)
    code = app_code.now()
    assert _sign_in_with_code(client, world.officer_a.email, code).status_code == 303
    other = TestClient(client.app)
    replay = _sign_in_with_code(other, world.officer_a.email, code)
    assert replay.status_code == 422
    # An older code (the step before) is refused too; the next one is accepted.
    older = app_code.at(time.time() - 30)
    assert _sign_in_with_code(other, world.officer_a.email, older).status_code == 422
    newer = app_code.at(time.time() + 30)
    assert _sign_in_with_code(other, world.officer_a.email, newer).status_code == 303


def test_the_api_refuses_a_user_who_must_enrol_until_they_do(
    client: TestClient, world: World
) -> None:
    with db.new_session(_engine(client)) as s:
        secret = auth_service.create_api_token(session=s, user=world.reviewer_on, name="t")
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/review/inbox", headers=headers).status_code == 200
        admin_service.set_required_totp_roles(s, world.admin, ["reviewer"])
    refused = client.get("/api/v1/review/inbox", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_factor_required"
    assert "authenticator app" in refused.json()["detail"]
    _enrol(client, world.reviewer_on)
    assert client.get("/api/v1/review/inbox", headers=headers).status_code == 200


def _secret_of(client: TestClient, user: User) -> str | None:
    with db.new_session(_engine(client)) as s:
        row = s.get(User, user.id)
        assert row is not None
        return row.totp_secret


def test_removing_or_replacing_the_second_factor_asks_for_password_and_code(
    client: TestClient, world: World
) -> None:
    app_code = _enrol(client, world.officer_a)
    before = _secret_of(client, world.officer_a)
    assert _sign_in_with_code(client, world.officer_a.email, app_code.now()).status_code == 303
    next_code = app_code.at(time.time() + 30)
    # Removal: without the password, with a wrong one, without a code: refused.
    for data in (
        {"remove": "1"},
        {"remove": "1", "password": "wrong password!", "current_code": next_code},
        {"remove": "1", "password": PASSWORD},
    ):
        r = post_form(client, "/account/security", "/account/totp", data)
        assert r.status_code == 422, data  # type: ignore[attr-defined]
        assert _secret_of(client, world.officer_a) == before
    # Replacement: a new key confirmed with its code, but no password: refused.
    new = pyotp.TOTP(pyotp.random_base32())
    r = post_form(
        client, "/account/totp", "/account/totp", {"secret": new.secret, "code": new.now()}
    )
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert _secret_of(client, world.officer_a) == before
    r = post_form(
        client,
        "/account/security",
        "/account/totp",
        {"remove": "1", "password": PASSWORD, "current_code": next_code},
    )
    assert r.status_code == 303  # type: ignore[attr-defined]
    assert _secret_of(client, world.officer_a) is None


def _codes_on(html: str) -> list[str]:
    return re.findall(r'<li class="code">([a-z0-9]{5}-[a-z0-9]{5})</li>', html)


def test_recovery_codes_are_shown_once_and_each_works_once(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    page = client.get("/account/totp")
    secret = re.search(r'name="secret" value="([A-Z2-7]+)"', page.text)
    assert secret
    enrolled = client.post(
        "/account/totp",
        data={
            "csrf_token": csrf_from(page.text),
            "secret": secret.group(1),
            "code": pyotp.TOTP(secret.group(1)).now(),
        },
    )
    assert enrolled.status_code == 200
    codes = _codes_on(enrolled.text)
    assert len(codes) == len(set(codes)) == 10
    assert _codes_on(client.get("/account/security").text) == []  # shown once
    with db.new_session(_engine(client)) as s:
        stored = s.exec(select(RecoveryCode).where(RecoveryCode.user_id == world.officer_a.id))
        assert all(len(row.code_hash) == 64 and row.code_hash not in codes for row in stored)
    phone_lost = TestClient(client.app)
    assert _sign_in_with_code(phone_lost, world.officer_a.email, codes[0]).status_code == 303
    again = TestClient(client.app)
    assert _sign_in_with_code(again, world.officer_a.email, codes[0]).status_code == 422
    assert (
        _sign_in_with_code(again, world.officer_a.email, codes[1].upper().replace("-", " "))
    ).status_code == 303
    # New codes need the password and a current code; the old ones stop working.
    refused = post_form(
        client, "/account/security", "/account/recovery-codes", {"password": PASSWORD}
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    fresh = post_form(
        client,
        "/account/security",
        "/account/recovery-codes",
        {"password": PASSWORD, "current_code": codes[2]},
    )
    assert fresh.status_code == 200  # type: ignore[attr-defined]
    new_codes = _codes_on(fresh.text)  # type: ignore[attr-defined]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(codes)
    late = TestClient(client.app)
    assert _sign_in_with_code(late, world.officer_a.email, codes[3]).status_code == 422
    assert _sign_in_with_code(late, world.officer_a.email, new_codes[0]).status_code == 303


# --- API tokens and sessions ----------------------------------------------------------------


def _new_token(client: TestClient, data: dict[str, str]) -> str:
    page = client.get("/account/tokens")
    r = client.post("/account/tokens", data={"csrf_token": csrf_from(page.text), **data})
    assert r.status_code == 200, r.text
    return str(r.text.split('id="new-token">')[1].split("<")[0])


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _token_row(client: TestClient, secret: str) -> ApiToken:
    with db.new_session(_engine(client)) as s:
        row = s.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).one()
        s.expunge(row)
        return row


def test_tokens_expire_have_a_scope_and_show_when_last_used(
    client: TestClient, world: World
) -> None:
    login(client, world.officer_a.email)
    reader = _new_token(client, {"name": "reader", "scope": "read", "days": "30"})
    writer = _new_token(client, {"name": "writer", "scope": "write"})
    row = _token_row(client, writer)
    assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)  # the default
    assert _token_row(client, reader).expires_at - utcnow() <= timedelta(days=30)
    new = {"questionnaire": "web-mini", "program": "API program"}
    assert client.get("/api/v1/assessments", headers=_bearer(reader)).status_code == 200
    refused = client.post("/api/v1/assessments", json=new, headers=_bearer(reader))
    assert refused.status_code == 403
    assert refused.json()["code"] == "read_only_token"
    assert client.post("/api/v1/assessments", json=new, headers=_bearer(writer)).status_code == 201
    page = client.get("/account/tokens").text
    assert "Last used" in page
    assert _token_row(client, reader).last_used_at is not None
    assert "Read only" in page
    assert "Expires" in page
    # Past its expiry, a token stops working.
    with db.new_session(_engine(client)) as s, db.writing(s):
        stored = s.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(reader))).one()
        stored.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get("/api/v1/assessments", headers=_bearer(reader)).status_code == 401


def test_sign_out_everywhere_revokes_api_tokens(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    secret = _new_token(client, {"name": "script"})
    assert client.get("/api/v1/assessments", headers=_bearer(secret)).status_code == 200
    post_form(client, "/account/security", "/account/sign-out-everywhere", {})
    assert client.get("/api/v1/assessments", headers=_bearer(secret)).status_code == 401


def test_a_password_change_revokes_api_tokens(client: TestClient, world: World) -> None:
    with db.new_session(_engine(client)) as s:
        secret = auth_service.create_api_token(session=s, user=world.officer_a, name="t")
        auth_service.set_password(
            session=s, user_id=world.officer_a.id, password="orchid canyon ledger"
        )
    assert client.get("/api/v1/assessments", headers=_bearer(secret)).status_code == 401


def test_tokens_of_a_deactivated_user_do_not_come_back_on_reactivation(
    client: TestClient, world: World
) -> None:
    with db.new_session(_engine(client)) as s:
        secret = auth_service.create_api_token(session=s, user=world.officer_a, name="t")
        admin_service.update_user(s, world.admin, world.officer_a.id, active=False)
        assert client.get("/api/v1/assessments", headers=_bearer(secret)).status_code == 401
        admin_service.update_user(s, world.admin, world.officer_a.id, active=True)
    assert client.get("/api/v1/assessments", headers=_bearer(secret)).status_code == 401


def test_authenticated_responses_are_not_stored(client: TestClient, world: World) -> None:
    login(client, world.officer_a.email)
    base = submit_mini(client)
    secret = _new_token(client, {"name": "script"})
    pages = [
        "/assessments/",
        base + "/",
        base + "/result",
        base + "/report.html",
        base + "/report.pdf",
        base + "/export",
        "/account/tokens",
        "/account/security",
    ]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        assert "no-store" in r.headers.get("cache-control", ""), url
    api = client.get("/api/v1/assessments", headers=_bearer(secret))
    assert "no-store" in api.headers.get("cache-control", "")
    # Static files may still be cached.
    assert "no-store" not in client.get("/report.css").headers.get("cache-control", "")


def test_production_cookies_are_secure_and_https_is_required(sqlite_url: str) -> None:
    with pytest.raises(ValidationError, match="POLICYGAP_BEHIND_TLS_PROXY"):
        make_settings(sqlite_url, env="production")
    settings = make_settings(sqlite_url, env="production", behind_tls_proxy=True)
    assert settings.secure_cookies
    with TestClient(create_app(settings)) as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()
        assert "max-age=31536000" in page.headers["strict-transport-security"]
    assert not make_settings(sqlite_url).secure_cookies  # development and tests: plain HTTP


# --- Sign-in abuse --------------------------------------------------------------------------


def _sign_in(client: TestClient, email: str, password: str) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )


def _age_attempts(client: TestClient, seconds: int) -> None:
    with db.new_session(_engine(client)) as s, db.writing(s):
        for attempt in s.exec(select(LoginAttempt)):
            attempt.at = attempt.at - timedelta(seconds=seconds)


def test_wrong_passwords_slow_an_account_down_but_do_not_lock_it(
    client: TestClient, world: World
) -> None:
    attacker = TestClient(client.app, client=("203.0.113.9", 5000))
    for _ in range(5):
        assert _sign_in(attacker, world.officer_a.email, "wrong password!").status_code == 422
    # Right after, even the owner waits a few seconds (and is told how long)...
    owner = TestClient(client.app, client=("198.51.100.7", 5000))
    waiting = _sign_in(owner, world.officer_a.email, PASSWORD)
    assert waiting.status_code == 429
    assert re.search(r"Wait \d+ seconds", waiting.text)
    # ...but not 15 minutes: once the delay has passed, the right password works.
    _age_attempts(client, 20)
    assert _sign_in(owner, world.officer_a.email, PASSWORD).status_code == 303


def test_the_delay_grows_with_each_failure_and_is_capped(
    client: TestClient, world: World, settings: Settings
) -> None:
    delays = [auth_service.sign_in_delay(failures, settings) for failures in range(0, 30)]
    assert (
        delays[: settings.login_delay_after_failures] == [0] * settings.login_delay_after_failures
    )
    assert delays == sorted(delays)
    assert max(delays) == settings.login_max_delay_seconds


def test_one_client_is_limited_across_accounts(client: TestClient, world: World) -> None:
    sprayer = TestClient(client.app, client=("203.0.113.9", 5000))
    limit = client.app.state.settings.login_max_failures_per_address  # type: ignore[attr-defined]
    for n in range(limit):
        assert _sign_in(sprayer, f"user{n}@example.test", "wrong password!").status_code == 422
    refused = _sign_in(sprayer, world.officer_b.email, PASSWORD)
    assert refused.status_code == 429
    assert "from your address" in refused.text
    # Another client is not affected.
    assert _sign_in(TestClient(client.app), world.officer_b.email, PASSWORD).status_code == 303


def _app_raising(settings: Settings, error: Exception) -> TestClient:
    """The app with two extra routes that raise ``error`` (a page and an API route)."""
    app = create_app(settings)

    def refuse() -> None:
        raise error

    app.add_api_route("/limited-page", refuse)
    app.add_api_route("/api/v1/limited", refuse)
    return TestClient(app)


@pytest.mark.parametrize(
    ("lang", "seconds", "expected"),
    [
        ("en", 40, "Too many attempts. Wait 40 seconds, then try again"),
        ("en", 1, "Too many attempts. Wait 1 second, then try again"),
        ("en", 300, "Too many attempts. Wait 5 minutes, then try again"),
        ("fr", 40, "Trop de tentatives. Attendez 40 secondes, puis réessayez"),
        ("fr", 1, "Trop de tentatives. Attendez 1 seconde, puis réessayez"),
        ("fr", 300, "Trop de tentatives. Attendez 5 minutes, puis réessayez"),
    ],
)
def test_the_rate_limited_error_says_the_real_wait(
    sqlite_url: str, lang: str, seconds: int, expected: str
) -> None:
    """The sign-in lock of 15 minutes became progressive delays: the error says how long the
    limiter really asks to wait (on a page, in the visitor's language, and in the API)."""
    settings = make_settings(sqlite_url, default_language=lang)
    error = auth_service.RateLimited(seconds=seconds, limit="account")
    with _app_raising(settings, error) as client:
        page = client.get("/limited-page")
        assert page.status_code == 429
        assert expected in page.text
        assert page.headers["retry-after"] == str(seconds)
        assert "15 minutes" not in page.text
        if lang == "en":
            api = client.get("/api/v1/limited")
            assert api.status_code == 429
            assert api.json()["detail"] == expected
            assert api.headers["retry-after"] == str(seconds)
