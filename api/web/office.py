"""The school office: school staff run their school's canteen day in the browser. The canteen
today (sales by kiosk and category, declines by reason, kiosks online or offline with their
journal), the students (search; status, wallet, fingerprints and consent; marking one as
leaving, which erases their fingerprints and pays their balance back to a guardian; the
payout's answer from the bank, and sending a rejected payout again), the payments (refund
or void with a reason) and the kiosks (add one; register, rotate and revoke its keys).

Only `school_staff` of a school open these pages, and only for their own school: another
school's student or kiosk is not found. Every change goes through what the JSON API uses
(the same stores and starters), so the rules are the API's. Bahasa Indonesia unless the
person chose English, in their words and in every refusal: the pages' own checks say why
from the catalogue, and what the stores refuse is worded by the refusal's code
(`refusal_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from activities.wallet.directory import Conflict, NotFound
from activities.wallet.kiosk_keys import KioskKeyConflict, KioskKeyNotFound
from activities.web_sessions import WebSession
from api.deps import (
    ConsentsDep,
    DirectoryDep,
    KioskKeysDep,
    PayoutsDep,
    RefundsDep,
    ResourcesDep,
    SchoolOfficeDep,
    SettingsDep,
    StatementsDep,
)
from api.starters.leaving import send_payout_again, student_leaves
from api.web.i18n import coded, t
from api.web.pages import (
    PageError,
    PageForm,
    PageUser,
    SubmittedForm,
    language,
    redirect,
    render,
    when,
)
from core.kiosk_signing import decode_public_key
from core.refusals import Refusal
from core.security import Role

router = APIRouter(prefix="/office", include_in_schema=False)
HOME = "/office/today"
OFFICE_LANGUAGE = "id"  # schools' staff read Bahasa Indonesia first
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
REASON_MIN, REASON_MAX = 3, 300
KIOSK_NAME_MAX = 200
STUDENTS_SHOWN = 50
REJECTED_SHOWN = 20
PAYMENTS_SHOWN = 100
MAX_QUERY = 100
STATUSES = ("active", "suspended", "left")
DONE = frozenset(
    {
        "left",
        "left_already",
        "sent_again",
        "sent_again_already",
        "refunded",
        "voided",
        "kiosk_added",
        "kiosk_exists",
        "key_registered",
        "key_rotated",
        "key_revoked",
    }
)


def _school(session: WebSession) -> str:
    school = session.principal.school
    if not school:  # a staff account must belong to a school; this one does not
        raise PageError(403, "")
    return school


async def _office(request: Request, session: WebSession) -> str:
    """The staff member's school; the pages from here on speak the office's language (a
    403 before this point speaks the sign-in's, as every page's does)."""
    school = _school(session)
    request.state.page_language = OFFICE_LANGUAGE
    return school


viewers = PageUser(Role.SCHOOL_STAFF)
workers = PageForm(Role.SCHOOL_STAFF)
Viewer = Annotated[WebSession, Depends(viewers)]
Worker = Annotated[SubmittedForm, Depends(workers)]


def rupiah(amount: Decimal | None, lang: str) -> str:
    """An amount as the school reads it: "Rp 12.500" (Indonesian grouping) or "Rp 12,500"."""
    if amount is None:
        return "-"
    whole = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    if lang == "id":
        whole = whole.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"Rp {whole}"


def _page(request: Request, template: str, session: WebSession, **context: Any) -> Response:
    lang = language(request)
    done = request.query_params.get("done", "")
    return render(
        request,
        template,
        session=session,
        money=lambda amount: rupiah(amount, lang),
        done=done if done in DONE else "",
        **context,
    )


def _text(request: Request, key: str, **values: object) -> str:
    return t(key, language(request), **values)


def _reason(request: Request, form: SubmittedForm) -> str:
    reason = form.get("reason")
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise PageError(422, _text(request, "office_error_reason", min=REASON_MIN, max=REASON_MAX))
    return reason


def _id(
    request: Request, value: str, field: Literal["guardian", "payout", "kiosk", "canteen"]
) -> str:
    if not re.fullmatch(ID_PATTERN, value):
        name = _text(request, f"office_field_{field}")
        raise PageError(422, _text(request, "office_error_id", field=name))
    return value


def _guardian(request: Request, form: SubmittedForm) -> str | None:
    """The guardian the form names, if any (the student's only guardian otherwise)."""
    guardian = form.get("guardian_id") or None
    return None if guardian is None else _id(request, guardian, "guardian")


def refusal_text(refused: ValueError, lang: str) -> str:
    """Why a store refused, in the page's language: the catalogue's text under the
    refusal's code, with the values it names as the pages show them (amounts in rupiah,
    times local, a status in words); English pages show the store's own words (`coded`). A
    refusal without a code reads as the catalogue's general one."""
    code = refused.code if isinstance(refused, Refusal) and refused.code else "other"
    values = refused.values if isinstance(refused, Refusal) else {}
    shown = {name: _shown(name, value, lang) for name, value in values.items()}
    return coded(f"office_refused_{code}", lang, str(refused), **shown)


def _shown(name: str, value: object, lang: str) -> object:
    if isinstance(value, Decimal):
        return rupiah(value, lang)
    if isinstance(value, datetime):
        return when(value)
    if name.endswith("_status"):  # payout_status "paid" reads as the catalogue's payout_paid
        return t(f"{name.removesuffix('_status')}_{value}", lang)
    return value


@contextmanager
def refused_as_page(request: Request) -> Iterator[None]:
    """What the stores refuse (DirectoryError, KioskKeyError, the ledger's LedgerError: each
    a ValueError) as an error page in the page's language: 404 for what is not found, 409
    for what cannot be done now, 400 otherwise."""
    try:
        yield
    except ValueError as err:
        if isinstance(err, NotFound | KioskKeyNotFound):
            status = 404
        elif isinstance(err, Conflict | KioskKeyConflict):
            status = 409
        else:
            status = 400
        raise PageError(status, refusal_text(err, language(request))) from err


def _public_key(request: Request, form: SubmittedForm) -> bytes:
    try:
        return decode_public_key(form.get("public_key"))
    except ValueError as err:
        text = coded("office_refused_public_key", language(request), str(err))
        raise PageError(400, text) from err


def _student_url(student_id: str) -> str:
    return f"/office/students/{quote(student_id, safe='')}"


# --- the canteen today -------------------------------------------------------------------


@router.get("")
async def office(request: Request, session: Viewer) -> Response:
    await _office(request, session)
    return redirect(HOME)


@router.get("/today")
async def today(request: Request, session: Viewer, office: SchoolOfficeDep) -> Response:
    school = await _office(request, session)
    tenant = session.principal.tenant
    return _page(
        request,
        "office/today.html",
        session,
        school_name=await office.school_name(tenant, school) or school,
        day=await office.canteen_day(tenant, school),
    )


# --- students ----------------------------------------------------------------------------


@router.get("/students")
async def students(
    request: Request,
    session: Viewer,
    office: SchoolOfficeDep,
    consents: ConsentsDep,
    payouts: PayoutsDep,
    q: str = "",
    status: str = "",
) -> Response:
    school = await _office(request, session)
    if len(q) > MAX_QUERY:
        raise PageError(422, _text(request, "office_error_search", max=MAX_QUERY))
    if status and status not in STATUSES:
        statuses = ", ".join(_text(request, f"student_{s}") for s in STATUSES)
        raise PageError(422, _text(request, "office_error_status", statuses=statuses))
    rows = await office.students(
        session.principal.tenant, school, q.strip(), status, STUDENTS_SHOWN
    )
    return _page(
        request,
        "office/students.html",
        session,
        rows=rows,
        consent=await consents.statuses(session.principal.tenant, [r.id for r in rows]),
        query=q,
        status=status,
        statuses=STATUSES,
        limit=STUDENTS_SHOWN,
        student_url=_student_url,
        rejected=await payouts.to_send_again(session.principal.tenant, school, REJECTED_SHOWN),
    )


@router.get("/students/{student_id}")
async def student(
    request: Request,
    student_id: str,
    session: Viewer,
    office: SchoolOfficeDep,
    payouts: PayoutsDep,
    consents: ConsentsDep,
) -> Response:
    school = await _office(request, session)
    tenant = session.principal.tenant
    found = await office.student(tenant, school, student_id)
    if found is None:
        raise PageError(404, "")
    return _page(
        request,
        "office/student.html",
        session,
        student=found,
        guardians=await payouts.guardians(tenant, student_id),
        consent=await consents.status(tenant, student_id),
        payouts=await payouts.of_student(tenant, student_id),
        student_url=_student_url(student_id),
        reason_limits=(REASON_MIN, REASON_MAX),
    )


@router.post("/students/{student_id}/leave")
async def leave(
    request: Request,
    student_id: str,
    form: Worker,
    payouts: PayoutsDep,
    resources: ResourcesDep,
) -> Response:
    school = await _office(request, form.session)
    reason = _reason(request, form)
    guardian = _guardian(request, form)
    with refused_as_page(request):
        leaving = await student_leaves(
            await resources.temporal(),
            resources.settings.task_queue,
            payouts,
            form.session.principal,
            school,
            student_id,
            reason,
            guardian,
        )
    done = "left_already" if leaving.already_left else "left"
    return redirect(f"{_student_url(student_id)}?done={done}")


@router.post("/payouts/{payout_id}/send-again")
async def send_again(
    request: Request,
    payout_id: str,
    form: Worker,
    payouts: PayoutsDep,
    resources: ResourcesDep,
) -> Response:
    school = await _office(request, form.session)
    _id(request, payout_id, "payout")
    guardian = _guardian(request, form)
    with refused_as_page(request):
        again = await send_payout_again(
            await resources.temporal(),
            resources.settings.task_queue,
            payouts,
            form.session.principal,
            school,
            payout_id,
            guardian,
        )
    done = "sent_again" if again.created else "sent_again_already"
    return redirect(f"{_student_url(again.payout.student_id)}?done={done}#payouts")


# --- payments: refunds and voids ---------------------------------------------------------


@router.get("/payments")
async def payments(request: Request, session: Viewer, statements: StatementsDep) -> Response:
    school = await _office(request, session)
    rows = await statements.school_payments(session.principal.tenant, school, PAYMENTS_SHOWN)
    return _page(
        request,
        "office/payments.html",
        session,
        rows=rows,
        limit=PAYMENTS_SHOWN,
        reason_limits=(REASON_MIN, REASON_MAX),
    )


async def _reverse(
    request: Request,
    action: Literal["refund", "void"],
    kiosk_id: str,
    kiosk_tx_id: str,
    form: SubmittedForm,
    refunds: RefundsDep,
) -> Response:
    school = await _office(request, form.session)
    principal = form.session.principal
    reason = _reason(request, form)
    with refused_as_page(request):
        await refunds.reverse(
            principal.tenant,
            school,
            kiosk_id,
            kiosk_tx_id,
            action,
            reason,
            principal.subject,
            principal.role.value,
        )
    done = "refunded" if action == "refund" else "voided"
    return redirect(f"/office/payments?done={done}#payment-{quote(kiosk_tx_id, safe='')}")


@router.post("/payments/{kiosk_id}/{kiosk_tx_id}/refund")
async def refund(
    request: Request, kiosk_id: str, kiosk_tx_id: str, form: Worker, refunds: RefundsDep
) -> Response:
    return await _reverse(request, "refund", kiosk_id, kiosk_tx_id, form, refunds)


@router.post("/payments/{kiosk_id}/{kiosk_tx_id}/void")
async def void(
    request: Request, kiosk_id: str, kiosk_tx_id: str, form: Worker, refunds: RefundsDep
) -> Response:
    return await _reverse(request, "void", kiosk_id, kiosk_tx_id, form, refunds)


# --- kiosks and their keys ---------------------------------------------------------------


@router.get("/kiosks")
async def kiosks(
    request: Request, session: Viewer, office: SchoolOfficeDep, keys: KioskKeysDep
) -> Response:
    school = await _office(request, session)
    tenant = session.principal.tenant
    states = await office.kiosks(tenant, school)
    return _page(
        request,
        "office/kiosks.html",
        session,
        kiosks=[(k, await keys.list(tenant, k.id)) for k in states],
        merchants=await office.merchants(tenant, school),
        reason_limits=(REASON_MIN, REASON_MAX),
    )


@router.post("/kiosks")
async def add_kiosk(request: Request, form: Worker, directory: DirectoryDep) -> Response:
    school = await _office(request, form.session)
    kiosk_id = _id(request, form.get("kiosk_id"), "kiosk")
    merchant_id = _id(request, form.get("merchant_id"), "canteen")
    name = form.get("name")
    if not 1 <= len(name) <= KIOSK_NAME_MAX:
        raise PageError(422, _text(request, "office_error_kiosk_name", max=KIOSK_NAME_MAX))
    with refused_as_page(request):
        created = await directory.create_kiosk(
            form.session.principal.tenant, school, merchant_id, kiosk_id, name
        )
    return redirect(f"/office/kiosks?done={'kiosk_added' if created else 'kiosk_exists'}")


async def _school_kiosk(keys: KioskKeysDep, tenant: str, school: str, kiosk_id: str) -> None:
    info = await keys.kiosk(tenant, kiosk_id)
    if info is None or info.school_id != school:
        raise PageError(404, "")


@router.post("/kiosks/{kiosk_id}/keys")
async def register_key(
    request: Request, kiosk_id: str, form: Worker, keys: KioskKeysDep
) -> Response:
    school = await _office(request, form.session)
    principal = form.session.principal
    public_key = _public_key(request, form)
    await _school_kiosk(keys, principal.tenant, school, kiosk_id)
    with refused_as_page(request):
        await keys.register(principal.tenant, kiosk_id, public_key, principal)
    return redirect(f"/office/kiosks?done=key_registered#kiosk-{quote(kiosk_id, safe='')}")


@router.post("/kiosks/{kiosk_id}/keys/rotate")
async def rotate_key(
    request: Request,
    kiosk_id: str,
    form: Worker,
    keys: KioskKeysDep,
    settings: SettingsDep,
) -> Response:
    school = await _office(request, form.session)
    principal = form.session.principal
    public_key = _public_key(request, form)
    await _school_kiosk(keys, principal.tenant, school, kiosk_id)
    reason = _reason(request, form)
    with refused_as_page(request):
        await keys.rotate(
            principal.tenant,
            kiosk_id,
            public_key,
            principal,
            settings.kiosk_key_grace_s,
            reason=reason,
        )
    return redirect(f"/office/kiosks?done=key_rotated#kiosk-{quote(kiosk_id, safe='')}")


@router.post("/kiosks/{kiosk_id}/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, kiosk_id: str, key_id: str, form: Worker, keys: KioskKeysDep
) -> Response:
    school = await _office(request, form.session)
    principal = form.session.principal
    reason = _reason(request, form)
    await _school_kiosk(keys, principal.tenant, school, kiosk_id)
    with refused_as_page(request):
        await keys.revoke(principal.tenant, kiosk_id, key_id, principal, reason)
    return redirect(f"/office/kiosks?done=key_revoked#kiosk-{quote(kiosk_id, safe='')}")
