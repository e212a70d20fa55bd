"""The kiosk agent: enrol at the kiosk, keep the sensor's library in step with Saku, and
take payments by fingerprint (identify 1:N on the sensor) or by PIN/QR when a student has
no fingerprint or the sensor fails.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from devices.kiosk.client import KioskClient, SakuError
from devices.kiosk.journal import Journal
from devices.kiosk.sensor import Sensor, SensorError
from devices.kiosk.slots import SlotMap


@dataclass(frozen=True)
class Outcome:
    """What the kiosk screen shows."""

    approved: bool
    message: str  # the reason a child can read, or "Thank you, <name>"
    student_id: str | None = None
    receipt: dict[str, Any] | None = None
    fallback: bool = False  # offer PIN / QR instead
    offline: bool = False  # sold into the offline journal, synced later
    # a stable code for `message` that a screen translates (Saku's reason codes, or the
    # agent's own below); None: only the message, as Saku or the sensor worded it
    code: str | None = None
    # the student's display name: from Saku's receipt, or offline from the kiosk's roster
    name: str | None = None
    sold: Decimal | None = None  # offline: what the journal sold (no receipt comes yet)


# Saku's refusals of a PIN payment (HTTP 403), by the start of their reason
_PIN_REFUSALS = {
    "Wrong PIN": "wrong_pin",
    "Too many wrong PINs": "pin_locked",
    "No PIN is set": "no_pin",
}


def refusal_code(err: SakuError) -> str | None:
    if err.status == 403:
        for start, code in _PIN_REFUSALS.items():
            if err.reason.startswith(start):
                return code
    return None


# Saku's refusals to hand a student's templates to the kiosk (verify mode)
_TEMPLATE_REFUSALS = {
    "no fingerprint": "no_fingerprint",
    "student of another school": "other_school",
}


def template_refusal_code(err: SakuError) -> str | None:
    if err.status == 404:
        return "unknown_student"
    if err.status == 403:
        for start, code in _TEMPLATE_REFUSALS.items():
            if err.reason.startswith(start):
                return code
    return None


OFFLINE_LIMIT = "Offline limit reached. Please pay when the kiosk is back online."
NEVER_CONFIGURED = "This kiosk has never reached Saku, so it cannot sell offline yet."
NO_MATCH = "Fingerprint does not match. Please use your PIN."
NO_FINGERPRINT = "No fingerprint is enrolled for this student. Please use your PIN."
CHECK_PAGE = 1000  # synced sales asked about in one request (Saku's bound)


class KioskAgent:
    def __init__(
        self, client: KioskClient, sensor: Sensor, slots: SlotMap, journal: Journal
    ) -> None:
        self.client = client
        self.sensor = sensor
        self.slots = slots
        self.journal = journal
        # the school's offline caps, refreshed whenever Saku answers and kept in the journal
        # (a kiosk restarted offline sells within them); none known: no offline sales (a
        # kiosk never sells offline on caps it has not been told)
        self.caps: tuple[Decimal, Decimal] | None = None
        # (id, name) for the screen; None: Saku never told this kiosk its categories
        self.categories: list[tuple[str, str]] | None = None
        remembered = journal.remembered_config()
        if remembered is not None:
            self.caps, self.categories = remembered
        # the restore of Saku's database Saku last reported (None: never restored)
        self.restore_epoch: str | None = None

    @property
    def offline(self) -> bool:
        """Saku did not answer the last request: sales go to the journal, within caps."""
        return self.client.reachable is False

    async def refresh_config(self) -> None:
        config = await self.client.config(self.journal.unsynced())
        caps = Decimal(config["offline_student_cap"]), Decimal(config["offline_kiosk_cap"])
        categories = [(c["id"], c["name"]) for c in config.get("categories", [])]
        if (caps, categories) != (self.caps, self.categories):
            self.journal.remember_config(caps, categories)
            self.caps, self.categories = caps, categories
        self.restore_epoch = config.get("restore_epoch")
        roster = config.get("roster_version")
        if roster is not None and roster != self.journal.roster_version():
            await self.refresh_roster()

    async def refresh_roster(self) -> int:
        """Fetch the school's display names into the journal (for sales made offline,
        which get no receipt to take the name from); returns how many."""
        roster = await self.client.roster()
        names = [(str(s["id"]), str(s["display_name"])) for s in roster["students"]]
        self.journal.replace_roster(str(roster["version"]), names)
        return len(names)

    async def catch_up_after_restore(self) -> int:
        """If Saku reports a restore of its database this kiosk has not caught up with,
        find the synced sales it lost (`check_synced`); returns how many."""
        epoch = self.restore_epoch
        if epoch is None or epoch == self.journal.restore_epoch():
            return 0
        lost = await self.check_synced()
        self.journal.caught_up_with(epoch)
        return lost

    async def check_synced(self) -> int:
        """Ask Saku which synced sales it does not hold, and mark those unsynced: the next
        sync sends them again (Saku posts each once, so this is harmless at any time)."""
        lost, after = 0, 0
        while page := self.journal.synced(after, CHECK_PAGE):
            missing = await self.client.missing_sales([tx for _, tx in page])
            self.journal.mark_unsynced(missing)
            lost += len(missing)
            after = page[-1][0]
        return lost

    async def sync_offline(self) -> int:
        """Send the journal's unsynced sales; Saku replays them (each once)."""
        pending = self.journal.pending()
        if pending:
            await self.client.offline_sales(pending)
            self.journal.mark_synced([e["kiosk_tx_id"] for e in pending])
        return len(pending)

    async def sync_sensor(self) -> int:
        """Carry out Saku's pending sensor commands (load or delete), confirming each."""
        done = 0
        for command in await self.client.sensor_commands():
            student, finger = command["student_id"], int(command["finger"])
            old = self.slots.slot_of(student, finger)
            if old is not None:  # a reload replaces, a delete removes: either way, out
                await asyncio.to_thread(self.sensor.delete, old)
                self.slots.remove(old)
            if command["action"] == "load":
                template = base64.b64decode(command["template"])
                slot = await asyncio.to_thread(self.sensor.store, template)
                self.slots.put(slot, student, finger)
            await self.client.command_done(int(command["id"]))
            done += 1
        return done

    async def enrol(
        self, student_id: str, finger: int, operator: str, prompt: Callable[[], None] | None = None
    ) -> None:
        """Two reads of the finger on this kiosk's sensor; Saku encrypts and distributes it
        (this kiosk included: it loads it at its next sync)."""
        template = await asyncio.to_thread(self.sensor.capture_template, prompt)
        await self.client.enrol(student_id, finger, template, operator)

    async def pay_by_fingerprint(self, amount: Decimal, category: str | None = None) -> Outcome:
        try:
            match = await asyncio.to_thread(self.sensor.identify)
        except SensorError as err:
            return Outcome(False, str(err), fallback=True, code="sensor")
        if match is None:
            return Outcome(
                False,
                "Fingerprint not recognised. Try again or use your PIN.",
                fallback=True,
                code="not_recognised",
            )
        owner = self.slots.student_at(match.slot)
        if owner is None:  # a slot the kiosk does not know: stale; sync will clean it up
            return Outcome(
                False,
                "Fingerprint not recognised. Please use your PIN.",
                fallback=True,
                code="not_recognised",
            )
        return await self._pay(owner[0], amount, category, "fingerprint", match.score)

    async def pay_by_verification(
        self, student_id: str, amount: Decimal, category: str | None = None
    ) -> Outcome:
        """Verify (1:1) mode: the student names themselves (QR card or number), the sensor
        compares the finger with just their templates, fetched from Saku; the sensor's
        library is not used, unless Saku cannot be reached (`_verify_on_library`)."""
        try:
            templates = await self.client.templates(student_id)
        except (httpx.TransportError, SakuError) as err:
            if isinstance(err, SakuError) and err.status < 500:
                code = template_refusal_code(err)
                fallback = code != "unknown_student"  # a PIN would not help: who is it?
                return Outcome(False, err.reason, student_id, fallback=fallback, code=code)
            return await self._verify_on_library(student_id, amount, category)
        if not templates:
            return Outcome(False, NO_FINGERPRINT, student_id, fallback=True, code="no_fingerprint")
        for template in templates:
            try:
                score = await asyncio.to_thread(self.sensor.verify, template)
            except SensorError as err:
                return Outcome(False, str(err), student_id, fallback=True, code="sensor")
            if score > 0:
                return await self._pay(student_id, amount, category, "fingerprint", score)
        return Outcome(False, NO_MATCH, student_id, fallback=True, code="no_match")

    async def _verify_on_library(
        self, student_id: str, amount: Decimal, category: str | None
    ) -> Outcome:
        """Verify mode while Saku is unreachable: the finger is looked up in the sensor's
        own library (the school's enrolled fingers) and must be the named student's."""
        try:
            match = await asyncio.to_thread(self.sensor.identify)
        except SensorError as err:
            return Outcome(False, str(err), student_id, fallback=True, code="sensor")
        owner = None if match is None else self.slots.student_at(match.slot)
        if match is None or owner is None or owner[0] != student_id:
            return Outcome(False, NO_MATCH, student_id, fallback=True, code="no_match")
        return await self._pay(student_id, amount, category, "fingerprint", match.score)

    async def pay_with_student(
        self,
        student_id: str,
        amount: Decimal,
        method: str,
        category: str | None = None,
        pin: str | None = None,
        operator: str | None = None,
    ) -> Outcome:
        """The PIN / QR card path, or a staff override (`operator` names the staff member,
        whose overrides monitoring counts): the student is named, not matched. Saku checks
        the PIN; it never goes into the offline journal."""
        if method == "override" and not operator:
            return Outcome(
                False,
                "A staff override needs the staff member's name.",
                student_id,
                code="override_needs_staff",
            )
        return await self._pay(student_id, amount, category, method, None, pin, operator)

    async def _pay(
        self,
        student: str,
        amount: Decimal,
        category: str | None,
        method: str,
        score: int | None,
        pin: str | None = None,
        operator: str | None = None,
    ) -> Outcome:
        body: dict[str, Any] = {
            "kiosk_tx_id": uuid.uuid4().hex,  # the same id is re-sent if the answer is lost
            "student_id": student,
            "amount": str(amount),
            "auth_method": method,
        }
        if category is not None:
            body["category_id"] = category
        if score is not None:
            body["match_score"] = score
        if operator is not None:
            body["operator_id"] = operator
        try:
            receipt = await self.client.pay(body | ({"pin": pin} if pin else {}))
        except (httpx.TransportError, SakuError) as err:
            if isinstance(err, SakuError) and err.status < 500:
                return Outcome(False, err.reason, student, code=refusal_code(err))
            return self._sell_offline(body)
        name = receipt.get("display_name")
        if receipt["status"] == "approved":
            return Outcome(True, "Thank you!", student, receipt, code="approved", name=name)
        return Outcome(
            False,
            str(receipt["reason"]),
            student,
            receipt,
            code=receipt.get("reason_code"),
            name=name,
        )

    def _sell_offline(self, sale: dict[str, Any]) -> Outcome:
        """Saku is unreachable: sell within the caps into the signed journal."""
        student, amount = sale["student_id"], Decimal(sale["amount"])
        if self.caps is None:
            return Outcome(False, NEVER_CONFIGURED, student, code="offline_never_configured")
        name = self.journal.display_name(student)  # no receipt: the roster has the name
        student_cap, kiosk_cap = self.caps
        if (
            self.journal.spent_today(student) + amount > student_cap
            or self.journal.unsynced_total() + amount > kiosk_cap
        ):
            return Outcome(False, OFFLINE_LIMIT, student, code="offline_limit", name=name)
        self.journal.record(sale)
        return Outcome(
            True,
            "Approved (offline)",
            student,
            offline=True,
            code="approved_offline",
            name=name,
            sold=amount,
        )
