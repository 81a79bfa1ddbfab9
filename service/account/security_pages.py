"""Account security pages: the second factor at sign-in and its enrolment, sign out everywhere,
and the one-time link (invitation or reset) that sets a password."""

from __future__ import annotations

from urllib.parse import quote

import segno
from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from starlette.datastructures import FormData

from service import db
from service.admin import service as admin_service
from service.auth import service as auth_service
from service.auth import totp
from service.errors import NotFound, RateLimited
from service.i18n import LANGUAGES
from service.models import LoginAttempt, User, WebSession, utcnow
from service.security import safe_next
from service.web.page import (
    PageContext,
    PageContextDep,
    PageContextForm,
    PublicPageDep,
    PublicPageForm,
)
from service.web.templating import set_session_cookie

router = APIRouter(tags=["pages"], include_in_schema=False)


def signed_in(page: PageContext, *, user: User, target: str) -> Response:
    """Start the user's session (a new id: no fixation), end the old one, go to ``target``."""
    session, settings = page.session, page.settings
    old = page.visitor.web_session
    chosen = old.language if old is not None else None  # chosen on the sign-in pages, if at all
    if chosen in LANGUAGES and chosen != user.language:
        auth_service.set_language(session=session, web_session=None, user=user, language=chosen)
    created = auth_service.start_session(
        session=session, settings=settings, user=user, language=page.lang
    )
    if old is not None:
        auth_service.end_session(session=session, session_id=old.id)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(
        response, settings=settings, token=created.token, max_age=settings.session_max_age_seconds
    )
    return response


def ask_second_factor(page: PageContext, *, user: User, target: str) -> Response:
    """The password was right: a new anonymous session remembers the user until the code."""
    session, settings = page.session, page.settings
    old = page.visitor.web_session
    created = auth_service.start_session(
        session=session, settings=settings, user=None, language=old.language if old else None
    )
    with db.writing(session):
        row = session.get(WebSession, created.row.id)
        if row is not None:
            row.pending_user_id = user.id
    if page.visitor.web_session is not None:
        auth_service.end_session(session=session, session_id=page.visitor.web_session.id)
    response = RedirectResponse(f"/login/code?next={quote(target, safe='')}", status_code=303)
    set_session_cookie(
        response,
        settings=settings,
        token=created.token,
        max_age=settings.anonymous_session_max_age_seconds,
    )
    return response


def _pending_user(page: PageContext) -> User | None:
    web_session = page.visitor.web_session
    if web_session is None or web_session.pending_user_id is None:
        return None
    user = page.session.get(User, web_session.pending_user_id)
    return user if user is not None and user.active and user.totp_secret else None


@router.get("/login/code", name="show_login_code")
def show_login_code(page: PublicPageDep, next: str = "/assessments/") -> Response:
    if _pending_user(page) is None:
        return RedirectResponse("/login", status_code=303)
    return page.render("account/login_code.html", {"next": safe_next(next), "form_errors": []})


@router.post("/login/code", name="login_code")
def login_code(page: PublicPageDep, form: PublicPageForm) -> Response:
    _ = page._
    session = page.session
    user = _pending_user(page)
    if user is None or user.totp_secret is None:
        return RedirectResponse("/login", status_code=303)
    target = safe_next(str(form.get("next") or ""))
    code = str(form.get("code") or "")
    ip = page.request.client.host if page.request.client else ""
    status = 422
    which = auth_service.throttled(session=session, settings=page.settings, email=user.email, ip=ip)
    if which is not None:
        status = 429
        error = RateLimited(seconds=which.seconds, limit=which.limit).describe(_)
    elif auth_service.use_second_factor(session=session, user_id=user.id, code=code):
        return signed_in(page, user=user, target=target)
    else:
        with db.writing(session):
            session.add(LoginAttempt(email=user.email, ip=ip[:64], success=False, at=utcnow()))
            auth_service.audit(
                session, action="sign_in_failed", actor_id=user.id, email=user.email, factor="totp"
            )
        error = _(
            "Enter the 6-digit code your authenticator app shows now (each code works once), or one of your recovery codes"
        )
    return page.render(
        "account/login_code.html",
        {"next": target, "form_errors": [("code", error)]},
        status_code=status,
        errors=True,
    )


def _security_page(
    page: PageContext, *, errors: list[tuple[str, str]] | None = None, status_code: int = 200
) -> Response:
    return page.render(
        "account/security.html",
        {
            "signed_out": page.request.query_params.get("done") == "1",
            "recovery_codes_left": auth_service.recovery_codes_left(
                session=page.session, user_id=page.user.id
            ),
            "form_errors": errors or [],
        },
        status_code=status_code,
        errors=bool(errors),
    )


@router.get("/account/security", name="show_security")
def show_security(page: PageContextDep) -> Response:
    return _security_page(page)


def _reauthentication_error(page: PageContext, form: FormData) -> list[tuple[str, str]]:
    """Nothing when the form's password (and current code, with a second factor) are right;
    otherwise the error to show. Asked before the second factor changes."""
    _ = page._
    password = str(form.get("password") or "")
    code = str(form.get("current_code") or "")
    if auth_service.reauthenticate(
        session=page.session, user_id=page.user.id, password=password, code=code
    ):
        return []
    if page.user.totp_secret is None:
        return [("password", _("Enter your current password"))]
    return [
        (
            "password",
            _(
                "Enter your current password and a new code from your authenticator app (or a recovery code)"
            ),
        )
    ]


def _recovery_codes_page(page: PageContext, codes: list[str]) -> Response:
    return page.render("account/recovery_codes.html", {"codes": codes})


@router.post("/account/recovery-codes", name="new_recovery_codes")
def new_recovery_codes(page: PageContextDep, form: PageContextForm) -> Response:
    if page.user.totp_secret is None:
        raise NotFound()
    errors = _reauthentication_error(page, form)
    if errors:
        return _security_page(page, errors=errors, status_code=422)
    codes = auth_service.new_recovery_codes(session=page.session, user_id=page.user.id)
    return _recovery_codes_page(page, codes)


@router.post("/account/sign-out-everywhere", name="sign_out_everywhere")
def sign_out_everywhere(page: PageContextDep, form: PageContextForm) -> Response:
    auth_service.end_all_sessions(session=page.session, user_id=page.user.id)
    auth_service.record(page.session, action="sign_out_everywhere", actor_id=page.user.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(page.settings.session_cookie_name, path="/")
    return response


def qr_code(text: str, label: str) -> Markup:
    """``text`` as a QR code in inline SVG (no script, nothing fetched), named ``label`` for
    screen readers, with the standard quiet zone of four modules."""
    svg = segno.make(text, error="m").svg_inline(scale=4, border=4, svgclass="qr-code")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704 - segno's SVG, our escaped label


def _totp_page(
    page: PageContext, *, secret: str, errors: list[tuple[str, str]], status_code: int = 200
) -> Response:
    user = page.user
    uri = totp.provisioning_uri(secret, user.email)
    return page.render(
        "account/totp.html",
        {
            "secret": secret,
            "uri": uri,
            "qr_code": qr_code(uri, page._("QR code of the key for your app")),
            "enrolled": user.totp_secret is not None,
            "required": totp.required_for(page.session, user.role),
            "form_errors": errors,
        },
        status_code=status_code,
        errors=bool(errors),
    )


@router.get("/account/totp", name="show_totp")
def show_totp(page: PageContextDep) -> Response:
    return _totp_page(page, secret=totp.new_secret(), errors=[])


@router.post("/account/totp", name="enrol_totp")
def enrol_totp(page: PageContextDep, form: PageContextForm) -> Response:
    """Set up the authenticator app; removing or replacing one asks for the password and a
    current code first. A new app comes with ten new recovery codes, shown once."""
    _ = page._
    session, user = page.session, page.user
    enrolled = user.totp_secret is not None
    if form.get("remove") and enrolled:
        if totp.required_for(session, user.role):
            raise NotFound()
        errors = _reauthentication_error(page, form)
        if errors:
            return _security_page(page, errors=errors, status_code=422)
        auth_service.remove_totp(session=session, user_id=user.id)
        return RedirectResponse("/account/security", status_code=303)
    secret = str(form.get("secret") or "")
    secret = secret if len(secret) >= 16 else totp.new_secret()
    if enrolled:
        errors = _reauthentication_error(page, form)
        if errors:
            return _totp_page(page, secret=secret, errors=errors, status_code=422)
    codes = auth_service.enrol_totp(
        session=session, user_id=user.id, secret=secret, code=str(form.get("code") or "")
    )
    if codes is None:
        return _totp_page(
            page,
            secret=secret,
            errors=[("code", _("Enter the 6-digit code your authenticator app shows now"))],
            status_code=422,
        )
    return _recovery_codes_page(page, codes)


@router.get("/account/set-password/{token}", name="show_set_password")
def show_set_password(page: PublicPageDep, token: str) -> Response:
    found = admin_service.find_account_token(session=page.session, token=token)
    if found is None:
        raise NotFound("This link is not valid any more. Ask your administrator for a new one")
    return page.render(
        "account/set_password.html", {"token": token, "email": found[1].email, "form_errors": []}
    )


@router.post("/account/set-password/{token}", name="set_password")
def set_password(page: PublicPageDep, token: str, form: PublicPageForm) -> Response:
    _ = page._
    found = admin_service.find_account_token(session=page.session, token=token)
    if found is None:
        raise NotFound("This link is not valid any more. Ask your administrator for a new one")
    _row, user = found
    password = str(form.get("password") or "")
    confirm = str(form.get("confirm") or "")
    error: str | None
    if password != confirm:
        error = _("The two passwords are not the same")
    else:
        problem = auth_service.password_problem(password, email=user.email)
        error = _(problem) if problem else None
    if error is None:
        admin_service.use_account_token(session=page.session, token=token, password=password)
        return RedirectResponse("/login?password=set", status_code=303)
    return page.render(
        "account/set_password.html",
        {"token": token, "email": user.email, "form_errors": [("password", error)]},
        status_code=422,
        errors=True,
    )
