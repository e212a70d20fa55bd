"""Signing in and out of the web pages, the language choice, and "/" (which leads a person
to their pages, or to sign in). Sign-in checks the same users, passwords and lockout as the
token endpoint (`api.sign_in_guard.authenticate`).

The sign-in page speaks Bahasa Indonesia unless the person chooses English in its language
switch; the choice is a cookie (`/language/...`), so it carries over to the pages they land
on after signing in (`api.web.pages.language` decides every page's language)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from activities.web_sessions import SESSION_COOKIE
from api.deps import AccountsDep, ResourcesDep, SettingsDep, WebSessionsDep
from api.sign_in import MAX_PASSWORD, MAX_USERNAME
from api.sign_in_guard import authenticate
from api.web.i18n import LANGUAGES, SIGN_IN_LANGUAGE
from api.web.pages import (
    LANGUAGE_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    SIGN_IN_URL,
    PageForm,
    SubmittedForm,
    current_session,
    home_of,
    local_path,
    redirect,
    render,
    set_cookie,
)
from core.security import Role

router = APIRouter(include_in_schema=False)
anyone_signed_in = PageForm(*Role)


@router.get("/")
async def root(request: Request, sessions: WebSessionsDep) -> Response:
    session = await current_session(request, sessions)
    if session is None:
        return redirect(SIGN_IN_URL)
    home = home_of(session.principal.role)
    if home != "/":
        return redirect(home)
    return render(request, "home.html", session=session)


def _sign_in_page(
    request: Request,
    settings: SettingsDep,
    next_path: str,
    *,
    error: str = "",
    error_values: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    username: str = "",
) -> Response:
    request.state.page_language = SIGN_IN_LANGUAGE
    # the form's own CSRF token, double-submitted: in the form and in a cookie only this
    # site can set (there is no session yet to keep it in)
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "sign_in.html",
        session=None,
        status_code=status_code,
        headers=headers,
        sign_in_csrf=token,
        next_path=next_path,
        error=error,
        error_values=error_values or {},
        username=username,
    )
    set_cookie(response, request, settings, SIGN_IN_CSRF_COOKIE, token, path=SIGN_IN_URL)
    return response


@router.get(SIGN_IN_URL)
async def sign_in_form(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    return _sign_in_page(request, settings, local_path(next))


@router.post(SIGN_IN_URL)
async def sign_in(
    request: Request,
    resources: ResourcesDep,
    accounts: AccountsDep,
    sessions: WebSessionsDep,
    settings: SettingsDep,
) -> Response:
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    next_path = local_path(fields.get("next"))
    username, password = fields.get("username", ""), fields.get("password", "")
    cookie = request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(fields.get("csrf_token", ""), cookie):
        return _sign_in_page(request, settings, next_path, error="form_expired", status_code=403)
    if not username or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        return _sign_in_page(
            request, settings, next_path, error="wrong_credentials", status_code=401
        )
    try:
        user = await authenticate(
            resources.sign_in_throttle,
            resources.password_checks,
            accounts,
            username,
            password,
            request.client.host if request.client else "unknown",
        )
    except HTTPException as err:
        if err.status_code == 429:
            retry = (err.headers or {}).get("Retry-After", "60")
            error, headers, values = "locked_out", {"Retry-After": retry}, {"seconds": retry}
        elif err.status_code == 503:
            error, headers, values = "busy", dict(err.headers or {}), {}
        else:
            error, headers, values = "wrong_credentials", {}, {}
        return _sign_in_page(
            request,
            settings,
            next_path,
            error=error,
            error_values=values,
            status_code=err.status_code,
            headers=headers,
            username=username,
        )
    session_id, _ = await sessions.create(user.principal(), user.username)
    response = redirect(next_path if next_path != "/" else home_of(user.role))
    set_cookie(
        response,
        request,
        settings,
        SESSION_COOKIE,
        session_id,
        max_age=settings.token_ttl_seconds,
    )
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path=SIGN_IN_URL)
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request,
    sessions: WebSessionsDep,
    _: Annotated[SubmittedForm, Depends(anyone_signed_in)],
) -> Response:
    await sessions.end(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(SIGN_IN_URL)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{lang}")
async def choose_language(
    request: Request, lang: str, settings: SettingsDep, next: str = "/"
) -> Response:
    """Remember the person's language (no session needed: the sign-in page has it too)."""
    response = redirect(local_path(next))
    if lang in LANGUAGES:
        set_cookie(response, request, settings, LANGUAGE_COOKIE, lang, max_age=365 * 86_400)
    return response
