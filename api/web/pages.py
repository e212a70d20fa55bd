"""What every web page shares: templates rendered in the person's language, the signed-in
person (a session cookie, `PageUser`), CSRF on every form (`PageForm`), error pages, and
the security headers.

Pages are server-rendered with Jinja2 (autoescaped) from this package's templates and
assets (no CDN, no build step). A page needs a session: without one a person is sent to
the sign-in page (303, and back afterwards); with another role they get a 403 page. Every
form POST carries the session's CSRF token (and the sign-in form a token of its own,
double-submitted in a cookie); one without it is refused with 403. Cookies are HttpOnly and
SameSite=Strict, and Secure over https (or when `SAKU_WEB_SECURE_COOKIES` says so). The
content security policy allows the package's own scripts and styles only, and no framing.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.types import Scope

from activities.web_sessions import SESSION_COOKIE, WebSession
from api.deps import WebSessionsDep
from api.web.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, duration, t
from core.monitoring.explain import number
from core.security import Role
from core.settings import Settings

HERE = Path(__file__).resolve().parent
ASSETS_URL = "/web-assets"
SIGN_IN_URL = "/sign-in"
SIGN_IN_CSRF_COOKIE = "saku_sign_in_csrf"
LANGUAGE_COOKIE = "saku_lang"
# every path the web pages own (besides "/"); the JSON API's auth tests leave them to the
# pages' own (tests/integration/test_web_auth.py)
PAGE_PREFIXES = (
    "/sign-in",
    "/sign-out",
    "/language",
    "/console",
    "/office",
    "/guardian",
    ASSETS_URL,
)
# times are shown where the schools are
DISPLAY_ZONE = ZoneInfo("Asia/Jakarta")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # pages show people's cases and money: never kept by a shared computer's browser cache
    "Cache-Control": "no-store",
}


def is_page(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


def when(at: datetime | None) -> str:
    """A moment as the pages show it: local to the schools, to the minute."""
    if at is None:
        return "-"
    return at.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M WIB")


_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = when
_env.filters["number"] = number


def language(request: Request) -> str:
    """The page's language, decided here for every page: the person's choice (the cookie
    the language switch sets, on the sign-in page too, so it follows them to the pages they
    land on), else the page area's own default (`request.state.page_language`: Bahasa
    Indonesia on the sign-in page, the guardian portal and the school office), else their
    browser's (the operators' console), else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    area_default = getattr(request.state, "page_language", None)
    if area_default in LANGUAGES:
        return str(area_default)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (never another site's address), else default."""
    if (
        not target
        or len(target) > 1000
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(c in target for c in "\r\n\\")
    ):
        return default
    return target


AnyResponse = TypeVar("AnyResponse", bound=Response)


def with_headers(response: AnyResponse) -> AnyResponse:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(
    request: Request,
    template: str,
    *,
    session: WebSession | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = language(request)
    session = session or getattr(request.state, "web_session", None)

    def text(key: str, **values: object) -> str:
        return t(key, lang, **values)

    html = _env.get_template(template).render(
        t=text,
        lang=lang,
        languages=LANGUAGE_NAMES,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        session=session,
        csrf=session.csrf_token if session else "",
        assets=ASSETS_URL,
        areas=areas(session.principal.role) if session else [],
        duration=lambda span: duration(span, lang),
        now=datetime.now(UTC),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
    return with_headers(response)


def redirect(target: str) -> Response:
    return with_headers(RedirectResponse(target, status_code=303))


# --- where each role goes ----------------------------------------------------------------

CONSOLE_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})
OFFICE_ROLES = frozenset({Role.SCHOOL_STAFF})


def areas(role: Role) -> list[tuple[str, str]]:
    """The page areas this role may open: (path, catalogue key of its name)."""
    found = []
    if role in CONSOLE_ROLES:
        found.append(("/console/cases", "console"))
    if role in OFFICE_ROLES:
        found.append(("/office", "office"))
    if role is Role.GUARDIAN:
        found.append(("/guardian", "guardian_portal"))
    return found


def home_of(role: Role) -> str:
    found = areas(role)
    return found[0][0] if found else "/"


# --- errors ------------------------------------------------------------------------------


class SignInRequired(Exception):
    """No live session: the person signs in, then comes back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageError(Exception):
    """An answer as a page: its status, and a reason in words (already translated, or a
    catalogue key for the standard text of the status)."""

    def __init__(self, status_code: int, reason: str = "") -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


@contextmanager
def as_page() -> Iterator[None]:
    """An HTTPException (from what the JSON API shares) becomes an error page."""
    try:
        yield
    except HTTPException as err:
        raise PageError(err.status_code, str(err.detail)) from err


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return redirect(f"{SIGN_IN_URL}?next={quote(local_path(exc.next_path), safe='/')}")


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return render(
        request, "error.html", status_code=exc.status_code, code=exc.status_code, reason=exc.reason
    )


def install_errors(app: Any) -> None:
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(PageError, _page_error)


# --- the signed-in person, and their forms -----------------------------------------------


async def current_session(request: Request, sessions: WebSessionsDep) -> WebSession | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    session = await sessions.get(session_id) if session_id else None
    request.state.web_session = session
    return session


class PageUser:
    """A page for these roles: the signed-in person's session; no session sends them to
    sign in, another role gets a 403 page."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("name at least one role")
        self.roles = frozenset(roles)

    async def __call__(self, request: Request, sessions: WebSessionsDep) -> WebSession:
        session = await current_session(request, sessions)
        if session is None:
            query = f"?{request.url.query}" if request.url.query else ""
            # a form posted without a session comes back to the page it was on, not to
            # the form's address
            back = request.url.path + query if request.method == "GET" else "/"
            raise SignInRequired(back)
        if session.principal.role not in self.roles:
            raise PageError(403, "")
        return session


@dataclass(frozen=True)
class SubmittedForm:
    session: WebSession
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()


class PageForm(PageUser):
    """A form POST by these roles: the session (as `PageUser`) and the form's fields, once
    its CSRF token matches the session's (403 otherwise)."""

    async def __call__(  # type: ignore[override]
        self, request: Request, sessions: WebSessionsDep
    ) -> SubmittedForm:
        session = await super().__call__(request, sessions)
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        if not hmac.compare_digest(fields.get("csrf_token", ""), session.csrf_token):
            raise PageError(403, "form_expired")
        return SubmittedForm(session, fields)


def set_cookie(
    response: Response,
    request: Request,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    path: str = "/",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=settings.web_secure_cookies or request.url.scheme == "https",
    )


class Assets(StaticFiles):
    """The pages' stylesheet and scripts, from this package."""

    def __init__(self) -> None:
        super().__init__(directory=HERE / "static")

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
