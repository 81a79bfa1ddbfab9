"""Sign in, sign out, the language switch and personal API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.account import security_pages as account_security
from service.auth import policy
from service.auth import service as auth_service
from service.auth.policy import Permission
from service.errors import RateLimited
from service.security import safe_next
from service.web.i18n import LANGUAGES
from service.web.page import PageContextDep, PageContextForm, PublicPageDep, PublicPageForm

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/login", name="show_login")
def show_login(page: PublicPageDep, next: str | None = None) -> Response:
    if page.visitor.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return page.render(
        "account/login.html", {"next": safe_next(next), "email": "", "form_errors": []}
    )


@router.post("/login", name="login")
def login(page: PublicPageDep, form: PublicPageForm) -> Response:
    _ = page._
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    errors: list[tuple[str, str]] = []
    if not email:
        errors.append(("email", _("Enter your email address")))
    if not password:
        errors.append(("password", _("Enter your password")))
    status = 422
    if not errors:
        request = page.request
        ip = request.client.host if request.client else ""
        try:
            user = auth_service.authenticate(
                session=page.session, settings=page.settings, email=email, password=password, ip=ip
            )
        except RateLimited as refused:
            user = None
            status = 429
            minutes = refused.detail.get("minutes", 15)
            if refused.detail.get("limit") == "address":
                message = _(
                    "Too many attempts from your address. Wait {minutes} minutes, then try again",
                    minutes=minutes,
                )
            else:
                message = _(
                    "Too many attempts for this account. Wait {minutes} minutes, then try again",
                    minutes=minutes,
                )
            errors.append(("email", message))
        else:
            if user is None:
                errors.append(("email", _("Enter a correct email address and password")))
        if user is not None:
            if user.totp_secret is not None:
                return account_security.ask_second_factor(page, user=user, target=target)
            return account_security.signed_in(page, user=user, target=target)
    return page.render(
        "account/login.html",
        {"next": target, "email": email, "form_errors": errors},
        status_code=status,
        errors=True,
    )


@router.post("/logout", name="logout")
def logout(page: PublicPageDep, form: PublicPageForm) -> Response:
    if page.visitor.web_session is not None:
        auth_service.end_session(session=page.session, session_id=page.visitor.web_session.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(page.settings.session_cookie_name, path="/")
    return response


@router.post("/language", name="set_language")
def set_language(page: PublicPageDep, form: PublicPageForm) -> Response:
    lang = str(form.get("lang") or "")
    if lang in LANGUAGES:
        auth_service.set_language(
            session=page.session,
            web_session=page.visitor.web_session,
            user=page.visitor.user,
            language=lang,
        )
    return RedirectResponse(safe_next(str(form.get("next") or ""), "/"), status_code=303)


@router.get("/account/tokens", name="show_tokens")
def show_tokens(page: PageContextDep) -> HTMLResponse:
    policy.check(page.user, Permission.account_tokens)
    tokens = auth_service.list_api_tokens(session=page.session, user=page.user)
    return page.render("account/tokens.html", {"tokens": tokens, "new_token": None})


@router.post("/account/tokens", name="create_token")
def create_token(page: PageContextDep, form: PageContextForm) -> Response:
    policy.check(page.user, Permission.account_tokens)
    revoke = str(form.get("revoke") or "")
    if revoke:
        try:
            token_id = uuid.UUID(revoke)
        except ValueError:
            token_id = None
        if token_id is not None:
            auth_service.revoke_api_token(session=page.session, user=page.user, token_id=token_id)
        return RedirectResponse("/account/tokens", status_code=303)
    name = str(form.get("name") or "").strip() or "API token"
    secret = auth_service.create_api_token(session=page.session, user=page.user, name=name)
    tokens = auth_service.list_api_tokens(session=page.session, user=page.user)
    return page.render("account/tokens.html", {"tokens": tokens, "new_token": secret})
