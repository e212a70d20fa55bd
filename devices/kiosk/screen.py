"""The kiosk's local screen: the cashier types the amount on a big keypad and picks the
category, the child puts a finger on the sensor (or shows a QR card and confirms it with
the finger, or gives a PIN or QR card, or a staff member vouches for them), and the screen
shows approved with the child's name or declined with a reason the child can read.
Bahasa Indonesia by default, English on a tap.

Served on the kiosk itself, on loopback, by the agent: server-rendered pages (Jinja2) with
the package's own CSS and a little script for the keypad and the keyboard; without the
script the form still works. Every POST carries the screen's CSRF token and only loopback
host names are answered, so no other web page open on the kiosk can pay through it.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import FormData, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from devices.kiosk.agent import KioskAgent, Outcome
from devices.kiosk.texts import TEXTS

HERE = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "localhost")
LANGUAGE_COOKIE = "saku_kiosk_lang"
# the finger first, then the fallbacks: the QR card confirmed by the finger (verify mode),
# the PIN, the QR card alone, a staff member's word
METHODS = ("fingerprint", "qr_finger", "pin", "qr", "override")
MAX_AMOUNT = Decimal(10_000_000)  # what Saku accepts for one payment
STUDENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CATEGORY_ID = re.compile(r"[a-z0-9_-]{1,64}")
MAX_STAFF_NAME = 64
PIN = re.compile(r"[0-9]{4,8}")
REMEMBERED_SALES = 50  # decided sales kept to answer a form sent twice
# where the cursor goes after a decline: the field to correct (the amount, by default)
DECLINE_FOCUS = {
    "wrong_pin": "pin",
    "override_needs_staff": "staff",
    "unknown_student": "student",
    "other_school": "student",
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """The same strict headers on every answer: only the screen's own files run or load."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Sale:
    """What the cashier and the child typed (never the PIN: it is not shown again)."""

    amount: str = ""
    category: str = ""
    method: str = "fingerprint"
    student: str = ""
    staff: str = ""

    @classmethod
    def of(cls, form: FormData) -> Sale:
        method = str(form.get("method") or "fingerprint")
        return cls(
            amount=str(form.get("amount") or "").strip(),
            category=str(form.get("category") or ""),
            method=method if method in METHODS else "fingerprint",
            student=str(form.get("student") or "").strip(),
            staff=str(form.get("staff") or "").strip(),
        )


@dataclass(frozen=True)
class Problem:
    """A form the screen cannot send to the agent: what to fix, and where."""

    code: str
    field: str


def parse_amount(typed: str) -> Decimal | Problem:
    """Rupiah as typed: digits, with or without thousands separators or "Rp"."""
    digits = re.sub(r"[\s.,]|^Rp", "", typed, flags=re.IGNORECASE)
    if not re.fullmatch(r"[0-9]{1,12}", digits) or int(digits) == 0:
        return Problem("amount_missing", "amount")
    amount = Decimal(int(digits))
    return Problem("amount_too_large", "amount") if amount > MAX_AMOUNT else amount


def check_sale(sale: Sale, pin: str) -> Problem | None:
    """What Saku would refuse as malformed, said at the screen in the child's words: the
    category, and on the QR, PIN and override paths the student (and PIN, staff name)."""
    if sale.category and not CATEGORY_ID.fullmatch(sale.category):
        return Problem("unknown_category", "amount")
    if sale.method == "fingerprint":
        return None
    if not sale.student:
        return Problem("student_missing", "student")
    if not STUDENT_ID.fullmatch(sale.student):
        return Problem("student_invalid", "student")
    if sale.method == "pin" and not pin:
        return Problem("pin_missing", "pin")
    if sale.method == "pin" and not PIN.fullmatch(pin):
        return Problem("pin_invalid", "pin")
    if len(sale.staff) > MAX_STAFF_NAME:
        return Problem("staff_invalid", "staff")
    return None


def rupiah(amount: str | Decimal | None, language: str) -> str:
    """Rp 12.000 in Indonesian, Rp 12,000 in English; whole rupiah ("21000.0000" too)."""
    whole = f"{int(Decimal(amount)) if amount else 0:,}"
    return "Rp " + (whole.replace(",", ".") if language == "id" else whole)


@dataclass
class Shown:
    """The result as the screen words it."""

    approved: bool
    title: str
    reason: str
    reason_lang: str  # the reason's language: Saku's or the sensor's own words are English
    greeting: str = ""
    name: str = ""
    detail: str = ""
    lines: list[str] = field(default_factory=list)


class Screen:
    """The pages and the state of one kiosk's screen."""

    def __init__(self, agent: KioskAgent) -> None:
        self.agent = agent
        self.csrf = secrets.token_urlsafe(32)
        self.last: Outcome | None = None
        # sales already decided, by the form's sale id: a form sent twice (a double tap,
        # a reload) shows the first answer instead of paying again
        self.decided: OrderedDict[str, tuple[Outcome, Sale]] = OrderedDict()
        self.paying = asyncio.Lock()  # one sensor, one sale at a time
        self.pages = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    def language(self, request: Request) -> str:
        return TEXTS.language(request.cookies.get(LANGUAGE_COOKIE))

    def category_label(self, language: str, category: str) -> str:
        key = f"category.{category}"
        if TEXTS.has(key):
            return TEXTS.text(language, key)
        return dict(self.agent.categories or []).get(category, category)

    def shown(self, outcome: Outcome, sale: Sale, language: str) -> Shown:
        t = TEXTS.translator(language)
        code = outcome.code
        if code is not None and TEXTS.has(f"reason.{code}"):
            category = self.category_label(language, sale.category) if sale.category else ""
            reason, reason_lang = t(f"reason.{code}", category=category), language
        else:
            reason, reason_lang = outcome.message, "en"
        result = Shown(
            outcome.approved,
            t("approved" if outcome.approved else "declined"),
            reason,
            reason_lang,
            name=outcome.name or "",
        )
        if code == "sensor":  # the sensor's own words help whoever looks after the kiosk
            result.detail = outcome.message
        if outcome.approved:
            result.greeting = t("thanks_name", name=outcome.name) if outcome.name else t("thanks")
            receipt = outcome.receipt or {}
            paid = receipt.get("amount") or outcome.sold
            if paid:
                result.lines.append(t("paid", amount=rupiah(paid, language)))
            if receipt.get("balance_after"):
                result.lines.append(
                    t("balance_after", amount=rupiah(receipt["balance_after"], language))
                )
            if outcome.offline:
                result.lines.append(t("offline_sale"))
        return result

    def page(
        self,
        request: Request,
        sale: Sale,
        outcome: Outcome | None = None,
        *,
        focus: str = "amount",
        status_code: int = 200,
    ) -> HTMLResponse:
        language = self.language(request)
        t = TEXTS.translator(language)
        amount = parse_amount(sale.amount)
        known = self.agent.categories
        categories = [
            (category, self.category_label(language, category)) for category, _ in known or []
        ]
        if sale.category and sale.category not in dict(categories):
            categories.append((sale.category, self.category_label(language, sale.category)))
        html = self.pages.get_template("screen.html").render(
            t=t,
            lang=language,
            languages=TEXTS.languages,
            csrf=self.csrf,
            sale_id=uuid.uuid4().hex,
            sale=sale,
            result=None if outcome is None else self.shown(outcome, sale, language),
            categories=categories,
            categories_known=known is not None,
            methods=METHODS,
            focus=focus,
            offline=self.agent.offline,
            offline_caps=self.agent.caps is not None,
            amount_shown=rupiah(amount if isinstance(amount, Decimal) else None, language),
        )
        return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})

    def refused(self, request: Request) -> HTMLResponse:
        language = self.language(request)
        html = self.pages.get_template("refused.html").render(
            t=TEXTS.translator(language), lang=language
        )
        return HTMLResponse(html, 403, headers={"Cache-Control": "no-store"})

    def genuine(self, form: FormData) -> bool:
        sent = str(form.get("csrf") or "")
        return hmac.compare_digest(sent.encode(), self.csrf.encode())

    async def index(self, request: Request) -> HTMLResponse:
        return self.page(request, Sale())

    async def pay(self, request: Request) -> HTMLResponse:
        form = await request.form()
        if not self.genuine(form):
            return self.refused(request)
        sale = Sale.of(form)
        pin = str(form.get("pin") or "")
        amount = parse_amount(sale.amount)
        problem = amount if isinstance(amount, Problem) else None
        if problem is None:
            problem = check_sale(sale, pin)
        if problem is not None:
            said = Outcome(False, TEXTS.text("en", f"reason.{problem.code}"), code=problem.code)
            self.last = said
            return self.page(request, sale, said, focus=problem.field, status_code=422)
        assert isinstance(amount, Decimal)
        sale_id = str(form.get("sale") or "") or uuid.uuid4().hex
        async with self.paying:
            if sale_id in self.decided:
                outcome, sale = self.decided[sale_id]
            else:
                outcome = await self.decide(sale, amount, pin)
                self.decided[sale_id] = (outcome, sale)
                while len(self.decided) > REMEMBERED_SALES:
                    self.decided.popitem(last=False)
        self.last = outcome
        if outcome.approved:
            return self.page(request, Sale(), outcome, focus="next")
        if outcome.fallback:  # the finger did not work: the PIN is next
            sale, focus = replace(sale, method="pin"), "pin" if sale.student else "student"
        else:
            focus = DECLINE_FOCUS.get(outcome.code or "", "amount")
        return self.page(request, sale, outcome, focus=focus, status_code=402)

    async def decide(self, sale: Sale, amount: Decimal, pin: str) -> Outcome:
        category = sale.category or None
        if sale.method == "fingerprint":
            return await self.agent.pay_by_fingerprint(amount, category)
        if sale.method == "qr_finger":  # the card names the child, the finger confirms
            return await self.agent.pay_by_verification(sale.student, amount, category)
        pin_given = pin if sale.method == "pin" else None  # the PIN goes only with a PIN sale
        return await self.agent.pay_with_student(
            sale.student, amount, sale.method, category, pin_given, sale.staff or None
        )

    async def choose_language(self, request: Request) -> Response:
        form = await request.form()
        if not self.genuine(form):
            return self.refused(request)
        response = RedirectResponse("/", status_code=303)
        language = TEXTS.language(str(form.get("lang") or ""))
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="strict"
        )
        return response

    async def status(self, request: Request) -> JSONResponse:
        body: dict[str, Any] = {
            "selling_offline": self.agent.offline,
            "offline_caps_known": self.agent.caps is not None,
            "categories_known": self.agent.categories is not None,
        }
        last = self.last
        if last is None:
            return JSONResponse(body | {"state": "ready"})
        return JSONResponse(
            body
            | {
                "state": "approved" if last.approved else "declined",
                "message": last.message,
                "code": last.code,
                "offline": last.offline,
                "fallback": last.fallback,
            }
        )


def create_screen(agent: KioskAgent, *, hosts: Sequence[str] = LOOPBACK) -> Starlette:
    """The screen app. `hosts`: the host names it answers to (a page on a DNS name that
    resolves to 127.0.0.1 must not read the screen's CSRF token)."""
    screen = Screen(agent)
    return Starlette(
        routes=[
            Route("/", screen.index),
            Route("/pay", screen.pay, methods=["POST"]),
            Route("/lang", screen.choose_language, methods=["POST"]),
            Route("/status", screen.status),
            Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
            Middleware(SecurityHeaders),
        ],
    )
