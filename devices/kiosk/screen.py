"""The kiosk's local screen: the cashier types the amount, the child puts a finger on the
sensor (or gives a PIN or QR card), and the screen shows approved or declined with the
reason. Served on the kiosk itself, on localhost, by the agent."""

from __future__ import annotations

import html
from decimal import Decimal, InvalidOperation

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from devices.kiosk.agent import KioskAgent, Outcome

PAGE = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Kantin — Saku</title>
<style>
body {{ font-family: sans-serif; max-width: 32rem; margin: 2rem auto; font-size: 1.3rem; }}
.approved {{ background: #d7f5dd; padding: 1rem; border-radius: .5rem; }}
.declined {{ background: #fde2e1; padding: 1rem; border-radius: .5rem; }}
input, select, button {{ font-size: 1.3rem; margin: .3rem 0; }}
</style></head>
<body>
<h1>Kantin</h1>
{status}
<form method="post" action="/pay">
  <label>Amount (Rp) <input name="amount" inputmode="numeric" required autofocus></label><br>
  <label>Category <select name="category">
    <option value="">—</option><option value="meals">Meals</option>
    <option value="snacks">Snacks</option><option value="drinks">Drinks</option>
    <option value="sugary-drinks">Sugary drinks</option></select></label><br>
  <button name="method" value="fingerprint">Pay by fingerprint</button>
  <fieldset><legend>No fingerprint?</legend>
    <label>Student <input name="student"></label>
    <label>PIN <input name="pin" type="password" inputmode="numeric"></label>
    <button name="method" value="pin">Pay by PIN</button>
    <button name="method" value="qr">Pay by QR card</button>
    <label>Staff <input name="staff"></label>
    <button name="method" value="override">Staff override</button>
  </fieldset>
</form>
</body></html>"""


def _status(outcome: Outcome | None) -> str:
    if outcome is None:
        return "<p>Ready.</p>"
    kind = "approved" if outcome.approved else "declined"
    title = "Approved" if outcome.approved else "Declined"
    return (
        f'<div class="{kind}" role="status"><strong>{title}</strong><br>'
        f"{html.escape(outcome.message)}</div>"
    )


def create_screen(agent: KioskAgent) -> Starlette:
    state: dict[str, Outcome | None] = {"last": None}

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.format(status=_status(state["last"])))

    async def pay(request: Request) -> HTMLResponse:
        form = await request.form()
        try:
            amount = Decimal(str(form.get("amount", "")).replace(".", "").replace(",", ""))
        except InvalidOperation:
            amount = Decimal(0)
        category = str(form.get("category") or "") or None
        method = str(form.get("method") or "fingerprint")
        if amount <= 0:
            outcome = Outcome(False, "Type the amount first.")
        elif method == "fingerprint":
            outcome = await agent.pay_by_fingerprint(amount, category)
        else:
            student = str(form.get("student") or "").strip()
            pin = str(form.get("pin") or "") or None
            staff = str(form.get("staff") or "").strip() or None
            outcome = (
                await agent.pay_with_student(student, amount, method, category, pin, staff)
                if student
                else Outcome(False, "Type the student's number, or scan the QR card.")
            )
        state["last"] = outcome
        code = 200 if outcome.approved else 402
        return HTMLResponse(PAGE.format(status=_status(outcome)), status_code=code)

    async def status(request: Request) -> JSONResponse:
        last = state["last"]
        if last is None:
            return JSONResponse({"state": "ready"})
        return JSONResponse(
            {
                "state": "approved" if last.approved else "declined",
                "message": last.message,
                "offline": last.offline,
                "fallback": last.fallback,
            }
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/pay", pay, methods=["POST"]),
            Route("/status", status),
        ]
    )
