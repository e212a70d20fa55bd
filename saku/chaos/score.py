"""What Saku did about each operation, read from PostgreSQL, and one scorecard row per fault.

Effects are counted by the operation's own identity: evaluations by (tenant, message id),
decisions (`topups`, `payments`) by the bank's or the kiosk's id, ledger postings by
idempotency key. Those tables are unique on these keys, so a duplicate that slipped past
them could only show up as money moved twice under other keys: every wallet is therefore
also reconciled with the decisions recorded for it, besides `Ledger.verify`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from activities.wallet.ledger import Ledger
from core.db import Pool
from saku.chaos.tally import KAFKA_KINDS, KIOSK, OFFLINE, STREAM, TOPUP_HTTP, TOPUP_KAFKA, Operation

MOVED = frozenset({"credited", "approved", "refunded", "voided"})  # decisions that post money


@dataclass(frozen=True)
class Effect:
    decisions: int = 0  # rows in `topups` / `payments` (the stream: rows in `evaluations`)
    status: str | None = None
    postings: int = 0
    evaluations: int = 0

    @property
    def seen(self) -> bool:
        return self.decisions > 0

    @property
    def duplicated(self) -> bool:
        return self.decisions > 1 or self.postings > 1 or self.evaluations > 1

    @property
    def complete(self) -> bool:
        """Decided once, and money posted exactly when the decision moves it."""
        return self.decisions == 1 and self.postings == (1 if self.status in MOVED else 0)


def _posting_key(op: Operation) -> str:
    # the ledger's idempotency key, also the evaluation's message id (core.wallet.types)
    return f"topup:{op.key}" if op.kind in (TOPUP_KAFKA, TOPUP_HTTP) else f"kiosk:{op.key}"


async def effects(pool: Pool, tenant: str, ops: list[Operation]) -> dict[int, Effect]:
    """Each operation's effect (by `id(op)`)."""
    stream = [op.key for op in ops if op.kind == STREAM]
    topups = [op.key for op in ops if op.kind in (TOPUP_KAFKA, TOPUP_HTTP)]
    sales = [op.key for op in ops if op.kind in (KIOSK, OFFLINE)]
    wallet_keys = [_posting_key(op) for op in ops if op.kind != STREAM]
    async with pool.connection() as conn:

        async def counted(query: str, keys: list[str]) -> dict[str, tuple[int, str | None]]:
            cur = await conn.execute(query, (tenant, keys))
            return {r["key"]: (int(r["n"]), r["status"]) for r in await cur.fetchall()}

        evaluations = await counted(
            "SELECT msg_id AS key, count(*) AS n, NULL AS status FROM evaluations "
            "WHERE tenant_id = %s AND msg_id = ANY(%s) GROUP BY msg_id",
            stream + wallet_keys,
        )
        decided_topups = await counted(
            "SELECT id AS key, count(*) AS n, min(status) AS status FROM topups "
            "WHERE tenant_id = %s AND id = ANY(%s) GROUP BY id",
            topups,
        )
        decided_sales = await counted(
            "SELECT kiosk_id || ':' || kiosk_tx_id AS key, count(*) AS n, min(status) AS status "
            "FROM payments WHERE tenant_id = %s AND kiosk_id || ':' || kiosk_tx_id = ANY(%s) "
            "GROUP BY 1",
            sales,
        )
        postings = await counted(
            "SELECT idempotency_key AS key, count(*) AS n, NULL AS status FROM postings "
            "WHERE tenant_id = %s AND idempotency_key = ANY(%s) GROUP BY 1",
            wallet_keys,
        )
    found: dict[int, Effect] = {}
    for op in ops:
        if op.kind == STREAM:
            n = evaluations.get(op.key, (0, None))[0]
            found[id(op)] = Effect(decisions=n, evaluations=n)
            continue
        decided = decided_topups if op.kind in (TOPUP_KAFKA, TOPUP_HTTP) else decided_sales
        rows, status = decided.get(op.key, (0, None))
        key = _posting_key(op)
        found[id(op)] = Effect(
            rows, status, postings.get(key, (0, None))[0], evaluations.get(key, (0, None))[0]
        )
    return found


def _answered_otherwise(op: Operation, effect: Effect) -> bool:
    """Saku acknowledged one decision and recorded another."""
    return op.answer is not None and effect.status is not None and op.answer != effect.status


@dataclass
class Row:
    fault: str
    sent: int = 0
    acked: int = 0
    once: int = 0
    lost: int = 0
    duplicated: int = 0
    broker_lost: int = 0  # acknowledged Kafka records the memory-only broker lost
    done_unacked: int = 0  # not acknowledged (an answer lost), yet done once
    ledger: str = "ok"
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (acked, once)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.lost or self.duplicated or self.ledger != "ok")


def score(
    fault: str, ops: list[Operation], found: dict[int, Effect], broker_restarted: bool
) -> Row:
    row = Row(fault, sent=len(ops))
    acked: Counter[str] = Counter()
    once: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    for op in ops:
        effect = found[id(op)]
        if effect.duplicated:
            row.duplicated += 1
            row.problems.append(f"DUPLICATED {op.kind} {op.key}: {effect}")
        if not op.acked:
            if effect.seen and not effect.duplicated:
                row.done_unacked += 1
            else:
                unanswered[op.kind] += 1
            continue
        row.acked += 1
        acked[op.kind] += 1
        if effect.duplicated:
            continue
        if op.kind == STREAM:
            good = effect.decisions == 1
        else:
            good = effect.complete and not _answered_otherwise(op, effect)
        if good:
            row.once += 1
            once[op.kind] += 1
        elif broker_restarted and op.kind in KAFKA_KINDS and not effect.seen:
            row.broker_lost += 1
        else:
            row.lost += 1
            row.problems.append(
                f"LOST {op.kind} {op.key}: acknowledged"
                f"{f' as {op.answer}' if op.answer else ''}, found {effect}"
            )
    row.by_kind = {kind: (acked[kind], once[kind]) for kind in acked}
    if row.done_unacked:
        row.notes.append(f"{row.done_unacked} not acknowledged (the answer was lost), done once")
    for kind, n in unanswered.items():
        row.notes.append(f"{n} {kind} not acknowledged and not done")
    return row


async def ledger_check(pool: Pool, tenant: str) -> list[str]:
    """`Ledger.verify` for the tenant, and every wallet (with its offline debt) against the
    decisions recorded for it: seeded + credited top-ups - approved purchases."""
    problems = list((await Ledger(pool).verify(tenant)).problems)
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cur = await conn.execute(
            """SELECT s.id,
                 coalesce((SELECT sum(e.amount) FROM ledger_entries e
                           WHERE e.tenant_id = s.tenant_id
                             AND e.account_id IN (s.account_id, 'debt:' || s.id)), 0) AS held,
                 coalesce((SELECT sum(e.amount) FROM ledger_entries e
                           JOIN postings p ON p.tenant_id = e.tenant_id AND p.id = e.posting_id
                           WHERE e.tenant_id = s.tenant_id AND e.account_id = s.account_id
                             AND p.idempotency_key = 'seed-' || s.id), 0) AS seeded,
                 coalesce((SELECT sum(t.amount) FROM topups t
                           WHERE t.tenant_id = s.tenant_id AND t.student_id = s.id
                             AND t.status = 'credited'), 0) AS topped_up,
                 coalesce((SELECT sum(p.amount) FROM payments p
                           WHERE p.tenant_id = s.tenant_id AND p.student_id = s.id
                             AND p.status = 'approved'), 0) AS spent
               FROM students s WHERE s.tenant_id = %s""",
            (tenant,),
        )
        for r in await cur.fetchall():
            expected = r["seeded"] + r["topped_up"] - r["spent"]
            if r["held"] != expected:
                problems.append(
                    f"wallet of {r['id']} holds {r['held']} (with debt), but its decisions "
                    f"say {expected}"
                )
    return problems
