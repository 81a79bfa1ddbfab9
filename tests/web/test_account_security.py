"""Issue 16, account security (OWASP ASVS 5.0 L2): the second factor, API tokens and sessions,
sign-in abuse and password strength. Each test failed before its fix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service import db
from service.admin import service as admin_service
from service.auth import service as auth_service
from tests.builders import World, csrf_from


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
