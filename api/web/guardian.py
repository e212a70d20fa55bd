"""The guardian portal: a guardian, signed in, looks after their own children. Every child
on one page (balance, spending against the limits, low balance), each child's itemised
history (filterable, as CSV too), the child's settings (limits, category blocks and daily
limits, low-balance threshold, the bank transfer details and auto top-up, fingerprint
consent, the kiosk PIN), money moved between siblings, and the notifications received.

A guardian sees only the children their sign-in names (the same scope as the API's
tokens): any other student is not found (404). Other roles get the 403 page. Changes are
audited by the stores (`activities.wallet.portal`, `Directory`), and limits and blocks are
read by the authorisation at the child's next payment.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request, Response

from activities.wallet.directory import CategoryControl, Controls, DirectoryError
from activities.wallet.portal import (
    HISTORY_KINDS,
    AutoTopUp,
    HistoryRow,
    Notice,
    Portal,
    PortalRefused,
)
from activities.web_sessions import WebSession
from api.bounds import MAX_MONEY
from api.deps import (
    ConsentsDep,
    DirectoryDep,
    PortalDep,
    ResourcesDep,
    SettingsDep,
    TemplateVaultDep,
    WebSessionsDep,
)
from api.routes.biometrics import start_erasure
from api.routes.kiosk_payments import pin_failures_key
from api.web.i18n import coded, t
from api.web.pages import (
    DISPLAY_ZONE,
    PageError,
    PageForm,
    PageUser,
    SubmittedForm,
    language,
    redirect,
    render,
    with_headers,
)
from core.biometrics.consent import Decision
from core.biometrics.types import ErasureRequest
from core.security import Principal, Role


class FamilyPage(PageUser):
    """A guardian's page (`PageUser`): once the guardian is known, it speaks Bahasa
    Indonesia unless they choose English."""

    async def __call__(self, request: Request, sessions: WebSessionsDep) -> WebSession:
        session = await super().__call__(request, sessions)
        request.state.page_language = "id"
        return session


class FamilyForm(PageForm):
    """A guardian's form (`PageForm`), answered in Bahasa Indonesia by default."""

    async def __call__(  # type: ignore[override]
        self, request: Request, sessions: WebSessionsDep
    ) -> SubmittedForm:
        form = await super().__call__(request, sessions)
        request.state.page_language = "id"
        return form


router = APIRouter(prefix="/guardian", include_in_schema=False)
guardians = FamilyPage(Role.GUARDIAN)
guardian_forms = FamilyForm(Role.GUARDIAN)
HOME = "/guardian"
HISTORY_LIMIT = 500
MAX_ID = 64
AMOUNT = re.compile(r"^(\d{1,15}|\d{1,3}([.,]\d{3}){1,4})$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CONSENT_CHOICES = (Decision.CONSENT, Decision.OBJECT, Decision.WITHDRAW)


def child_url(student_id: str, page: str = "") -> str:
    return f"{HOME}/children/{quote(student_id, safe='')}" + (f"/{page}" if page else "")


def _own_child(session: WebSession, student_id: str) -> str:
    """The student, if the signed-in guardian looks after them; not found otherwise (a
    guardian learns nothing about other children, not even that they exist)."""
    if len(student_id) > MAX_ID or student_id not in session.principal.students:
        raise PageError(404, "")
    return student_id


def _text(request: Request, key: str, **values: object) -> str:
    return t(key, language(request), **values)


def _money(
    request: Request, form: SubmittedForm, name: str, cap: Decimal, *, required: bool = False
) -> Decimal | None:
    """An amount the guardian typed (whole rupiah, "10000" or "10.000"): None when left
    empty (and allowed), 422 with the reason otherwise."""
    raw = form.get(name).replace(" ", "")
    label = _text(request, f"field_{name}")
    if not raw:
        if required:
            raise PageError(422, _text(request, "amount_required", field=label))
        return None
    # whole rupiah: digits, grouped by thousands with dots or commas if the guardian likes
    if len(raw) > 20 or not AMOUNT.match(raw):
        raise PageError(422, _text(request, "amount_invalid", field=label))
    value = Decimal(raw.replace(".", "").replace(",", ""))
    if value > min(cap, MAX_MONEY):
        raise PageError(422, _text(request, "amount_above_cap", field=label, cap=f"{cap:,.0f}"))
    return value


def rupiah(amount: Decimal | None, lang: str) -> str:
    """An amount as people in Indonesia write it: "Rp 12.500" (English: "Rp 12,500")."""
    if amount is None:
        return "-"
    shown = f"{amount:,.0f}"
    return "Rp " + (shown.replace(",", ".") if lang == "id" else shown)


def _page(request: Request, template: str, session: WebSession, **context: Any) -> Response:
    lang = language(request)
    return render(
        request,
        template,
        session=session,
        rp=lambda amount: rupiah(amount, lang),
        child_url=child_url,
        home=HOME,
        **context,
    )


def notice_text(
    notice: Notice, name: str, lang: str, categories: Mapping[str, str] | None = None
) -> str:
    """A notification as the guardian reads it (a decline's reason by its code, `told`;
    `categories` names the categories a reason may name)."""
    payload = notice.payload

    def amount(key: str) -> str:
        value = payload.get(key)
        return rupiah(Decimal(str(value)), lang) if value is not None else "-"

    values = {
        "name": name,
        "amount": amount("amount"),
        "balance": amount("balance"),
        "threshold": amount("threshold"),
        "debt": amount("debt"),
        "reason": told(
            str(payload.get("reasonCode") or ""),
            str(payload.get("reason") or ""),
            lang,
            (categories or {}).get(str(payload.get("categoryId") or "")),
        ),
        "kind": notice.kind,
    }
    key = f"notice_{notice.kind}"
    return t(key if t(key, lang) != key else "notice_other", lang, **values)


def told(code: str | None, words: str, lang: str, category: str | None) -> str:
    """Why a payment or top-up was declined, in the page's language: the words the child
    was told (English), else their text in the catalogue by the decline's code."""
    return coded(f"told_{code}", lang, words, **({"category": category} if category else {}))


def reason_text(row: HistoryRow, lang: str) -> str:
    """Why a movement was declined, in the page's language (`told`)."""
    if not row.reason:
        return ""
    return told(row.reason_code, row.reason, lang, row.category)


def refusal_text(refused: PortalRefused, lang: str) -> str:
    """Why the portal refused a change, in the page's language (by the refusal's code)."""
    values = {
        name: rupiah(value, lang) if isinstance(value, Decimal) else value
        for name, value in refused.values.items()
    }
    return coded(f"refused_{refused.code}", lang, str(refused), **values)


def _done(url: str, key: str) -> Response:
    return redirect(f"{url}?done={key}")


async def _guardian_record(request: Request, portal: Portal, principal: Principal) -> str:
    """The guardian record the signed-in account is linked to (409 if there is none)."""
    guardian = await portal.guardian_of(principal.tenant, principal.subject)
    if guardian is None:
        raise PageError(409, _text(request, "no_guardian_record"))
    return guardian[0]


@dataclass(frozen=True)
class OwnChildForm:
    """A guardian's form about one of their own children: the form (session, role and CSRF
    checked) and the child, who is the guardian's."""

    form: SubmittedForm
    student_id: str

    @property
    def principal(self) -> Principal:
        return self.form.session.principal

    def done(self, key: str) -> Response:
        """Back to the child's settings, saying what was done."""
        return _done(child_url(self.student_id, "settings"), key)


class ChildForm(FamilyForm):
    """A guardian's form about one of their own children (`FamilyForm`, then the child in
    the path: theirs, or not found)."""

    async def __call__(  # type: ignore[override]
        self, request: Request, sessions: WebSessionsDep, student_id: str
    ) -> OwnChildForm:
        form = await super().__call__(request, sessions)
        return OwnChildForm(form, _own_child(form.session, student_id))


ChildChange = Annotated[OwnChildForm, Depends(ChildForm(Role.GUARDIAN))]


# --- every child on one page ---------------------------------------------------------------


@router.get("")
async def overview(
    request: Request,
    session: Annotated[WebSession, Depends(guardians)],
    portal: PortalDep,
) -> Response:
    principal = session.principal
    children = await portal.children(principal.tenant, principal.students)
    guardian = await portal.guardian_of(principal.tenant, principal.subject)
    unread = await portal.unread(principal.tenant, guardian[0]) if guardian else 0
    return _page(
        request,
        "guardian/overview.html",
        session,
        children=children,
        unread=unread,
    )


# --- history -------------------------------------------------------------------------------


def _day(request: Request, value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        raise PageError(400, _text(request, "date_invalid", field=name)) from None
    return datetime.combine(day, time(0), DISPLAY_ZONE)


async def _history(
    request: Request,
    session: WebSession,
    portal: Portal,
    student_id: str,
    kind: str,
    since: str,
    until: str,
) -> tuple[str, list[HistoryRow], dict[str, str]]:
    student_id = _own_child(session, student_id)
    if kind and kind not in HISTORY_KINDS:
        raise PageError(400, _text(request, "kind_invalid"))
    start, end = _day(request, since, "since"), _day(request, until, "until")
    rows = await portal.history(
        session.principal.tenant,
        student_id,
        kind=kind or None,
        since=start,
        until=end + timedelta(days=1) if end else None,
        limit=HISTORY_LIMIT,
    )
    return student_id, rows, {"kind": kind, "since": since[:10], "until": until[:10]}


@router.get("/children/{student_id}/history")
async def history(
    request: Request,
    student_id: str,
    session: Annotated[WebSession, Depends(guardians)],
    portal: PortalDep,
    kind: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    student_id, rows, chosen = await _history(
        request, session, portal, student_id, kind, since, until
    )
    children = await portal.children(session.principal.tenant, (student_id,))
    return _page(
        request,
        "guardian/history.html",
        session,
        child=children[0] if children else None,
        rows=rows,
        reason=lambda row: reason_text(row, language(request)),
        kinds=HISTORY_KINDS,
        chosen=chosen,
        csv_url=child_url(student_id, "history.csv")
        + ("?" + urlencode({k: v for k, v in chosen.items() if v}) if any(chosen.values()) else ""),
    )


@router.get("/children/{student_id}/history.csv")
async def history_csv(
    request: Request,
    student_id: str,
    session: Annotated[WebSession, Depends(guardians)],
    portal: PortalDep,
    kind: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    student_id, rows, _ = await _history(request, session, portal, student_id, kind, since, until)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "time",
            "kind",
            "reference",
            "amount",
            "status",
            "reason",
            "kiosk",
            "category",
            "offline",
            "debt",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.at.astimezone(DISPLAY_ZONE).isoformat(timespec="seconds"),
                row.kind,
                _cell(row.reference),
                f"{row.amount:f}",
                row.status,
                _cell(row.reason or ""),
                _cell(row.kiosk or ""),
                _cell(row.category or ""),
                "yes" if row.offline else "no",
                f"{row.debt:f}",
            ]
        )
    name = f"saku-{re.sub(r'[^A-Za-z0-9_-]', '_', student_id)}.csv"
    response = Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return with_headers(response)


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- a child's settings --------------------------------------------------------------------


@router.get("/children/{student_id}/settings")
async def settings_page(
    request: Request,
    student_id: str,
    session: Annotated[WebSession, Depends(guardians)],
    portal: PortalDep,
    directory: DirectoryDep,
    consents: ConsentsDep,
    vault: TemplateVaultDep,
    done: str = "",
) -> Response:
    student_id = _own_child(session, student_id)
    tenant = session.principal.tenant
    children = await portal.children(tenant, (student_id,))
    if not children:
        raise PageError(404, "")
    controls, category_controls = await directory.controls(tenant, student_id)
    by_category = {c.category_id: c for c in category_controls}
    consent = await consents.status(tenant, student_id)
    fingers = await vault.fingers(tenant, student_id)
    return _page(
        request,
        "guardian/settings.html",
        session,
        child=children[0],
        controls=controls,
        categories=[
            (cid, name, by_category.get(cid)) for cid, name in await directory.categories(tenant)
        ],
        auto=await portal.auto_topup(tenant, student_id),
        asked=await portal.topups_asked(tenant, student_id),
        consent=consent,
        fingers=fingers,
        choices=CONSENT_CHOICES,
        done=done[:40],
    )


@router.post("/children/{student_id}/limits")
async def set_limits(
    request: Request, change: ChildChange, directory: DirectoryDep, settings: SettingsDep
) -> Response:
    cap = settings.balance_cap_decimal
    controls = Controls(
        daily_limit=_money(request, change.form, "daily_limit", cap),
        weekly_limit=_money(request, change.form, "weekly_limit", cap),
        low_balance_threshold=_money(request, change.form, "low_balance_threshold", cap),
    )
    principal = change.principal
    await directory.set_controls(
        principal.tenant,
        change.student_id,
        controls,
        principal.subject,
        actor_role=principal.role.value,
    )
    return change.done("limits")


@router.post("/children/{student_id}/categories/{category_id}")
async def set_category(
    request: Request,
    category_id: str,
    change: ChildChange,
    directory: DirectoryDep,
    settings: SettingsDep,
) -> Response:
    principal, student_id = change.principal, change.student_id
    categories = dict(await directory.categories(principal.tenant))
    if category_id not in categories:
        raise PageError(404, "")
    blocked = change.form.get("blocked") == "1"
    limit = _money(request, change.form, "category_limit", settings.balance_cap_decimal)
    if not blocked and limit is None:
        await directory.clear_category_control(
            principal.tenant,
            student_id,
            category_id,
            by=principal.subject,
            actor_role=principal.role.value,
        )
    else:
        try:
            await directory.set_category_control(
                principal.tenant,
                student_id,
                CategoryControl(category_id, blocked, limit),
                by=principal.subject,
                actor_role=principal.role.value,
            )
        except DirectoryError as err:
            # the store's words name its own ids; the guardian reads the category's name
            raise PageError(
                422, _text(request, "category_invalid", name=categories[category_id])
            ) from err
    return change.done("category")


@router.post("/children/{student_id}/auto-topup")
async def set_auto_topup(
    request: Request, change: ChildChange, portal: PortalDep, settings: SettingsDep
) -> Response:
    principal = change.principal
    cap = settings.balance_cap_decimal
    if change.form.get("off") == "1":
        setting = None
    else:
        below = _money(request, change.form, "below", cap, required=True)
        amount = _money(request, change.form, "topup_amount", cap, required=True)
        assert below is not None and amount is not None
        if below <= 0 or amount <= 0:
            raise PageError(422, _text(request, "auto_positive"))
        setting = AutoTopUp(below, amount)
    await portal.set_auto_topup(
        principal.tenant, change.student_id, setting, principal.subject, principal.role.value
    )
    return change.done("auto_topup")


@router.post("/children/{student_id}/consent")
async def record_consent(
    request: Request,
    change: ChildChange,
    portal: PortalDep,
    consents: ConsentsDep,
    vault: TemplateVaultDep,
    resources: ResourcesDep,
    settings: SettingsDep,
) -> Response:
    """The guardian's own decision on fingerprints; one that ends consent erases the child's
    fingerprints everywhere (the same erasure workflow as the API's)."""
    principal, student_id = change.principal, change.student_id
    choice = change.form.get("decision")
    if choice not in {c.value for c in CONSENT_CHOICES}:
        raise PageError(422, _text(request, "decision_invalid"))
    guardian_id = await _guardian_record(request, portal, principal)
    now = await consents.record(
        principal.tenant, student_id, f"guardian:{guardian_id}", Decision(choice), principal.subject
    )
    if not now.allowed and await vault.fingers(principal.tenant, student_id):
        erasure = ErasureRequest(principal.tenant, student_id, now.reason, principal.subject)
        await start_erasure(await resources.temporal(), settings.task_queue, erasure)
        return change.done("erasing")
    return change.done("consent")


@router.post("/children/{student_id}/pin")
async def reset_pin(
    request: Request, change: ChildChange, portal: PortalDep, resources: ResourcesDep
) -> Response:
    principal, student_id = change.principal, change.student_id
    pin, again = change.form.get("pin"), change.form.get("pin_again")
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise PageError(422, _text(request, "pin_invalid"))
    if pin != again:
        raise PageError(422, _text(request, "pin_mismatch"))
    await portal.reset_pin(
        principal.tenant, student_id, pin, principal.subject, principal.role.value
    )
    # a child locked out by wrong tries can pay with the new PIN at once
    await resources.valkey.delete(pin_failures_key(principal.tenant, student_id))
    return change.done("pin")


# --- between siblings ----------------------------------------------------------------------


@router.get("/transfer")
async def transfer_page(
    request: Request,
    session: Annotated[WebSession, Depends(guardians)],
    portal: PortalDep,
    done: str = "",
) -> Response:
    principal = session.principal
    return _page(
        request,
        "guardian/transfer.html",
        session,
        children=await portal.children(principal.tenant, principal.students),
        request_id=uuid.uuid4().hex,
        done=done[:40],
    )


@router.post("/transfer")
async def transfer(
    request: Request,
    form: Annotated[SubmittedForm, Depends(guardian_forms)],
    portal: PortalDep,
    settings: SettingsDep,
) -> Response:
    session = form.session
    principal = session.principal
    source = _own_child(session, form.get("from"))
    target = _own_child(session, form.get("to"))
    request_id = form.get("request_id")
    if not REQUEST_ID.match(request_id):
        raise PageError(400, _text(request, "request_id_invalid"))
    amount = _money(request, form, "amount", settings.balance_cap_decimal, required=True)
    assert amount is not None
    if amount <= 0:
        raise PageError(422, _text(request, "amount_invalid", field=_text(request, "field_amount")))
    guardian_id = await _guardian_record(request, portal, principal)
    try:
        await portal.move(
            principal.tenant, guardian_id, request_id, source, target, amount, principal.subject
        )
    except PortalRefused as err:
        raise PageError(409, refusal_text(err, language(request))) from err
    return _done(f"{HOME}/transfer", "moved")


# --- notifications -------------------------------------------------------------------------


@router.get("/notifications")
async def notifications(
    request: Request,
    session: Annotated[WebSession, Depends(guardians)],
    portal: PortalDep,
    directory: DirectoryDep,
) -> Response:
    principal = session.principal
    guardian = await portal.guardian_of(principal.tenant, principal.subject)
    notices = await portal.inbox(principal.tenant, guardian[0]) if guardian else []
    children = await portal.children(principal.tenant, principal.students)
    names = {c.student_id: c.display_name for c in children}
    categories = dict(await directory.categories(principal.tenant)) if notices else {}
    lang = language(request)
    return _page(
        request,
        "guardian/notifications.html",
        session,
        notices=[
            (n, notice_text(n, names.get(n.student_id, n.student_id), lang, categories))
            for n in notices
        ],
    )


@router.post("/notifications/read")
async def mark_notifications(
    request: Request,
    form: Annotated[SubmittedForm, Depends(guardian_forms)],
    portal: PortalDep,
) -> Response:
    principal = form.session.principal
    raw = form.get("id")
    if raw and not (raw.isdigit() and len(raw) <= 18):
        raise PageError(400, _text(request, "notice_invalid"))
    guardian = await portal.guardian_of(principal.tenant, principal.subject)
    if guardian is not None:
        await portal.mark(
            principal.tenant, guardian[0], int(raw) if raw else None, read=form.get("read") != "0"
        )
    return redirect(f"{HOME}/notifications")
