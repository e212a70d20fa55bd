"""The fault scorecard's counting: what is lost, duplicated, done without an answer, and
which losses are the memory-only broker's rather than Saku's."""

from __future__ import annotations

from saku.chaos.run import ChaosOptions, Scorecard, render
from saku.chaos.score import Effect, Row, score
from saku.chaos.tally import KIOSK, OFFLINE, STREAM, TOPUP_HTTP, TOPUP_KAFKA, Operation, Tally


def acked(kind: str, key: str, answer: str | None = None) -> Operation:
    return Operation(kind, key, "f", acked=True, answer=answer, unconfirmed=0)


def test_each_acknowledged_operation_done_once_counts_once() -> None:
    ops = [
        acked(STREAM, "m1"),
        acked(TOPUP_HTTP, "t1", "credited"),
        acked(KIOSK, "k:1", "declined"),
        acked(OFFLINE, "k:2"),
    ]
    found = {
        id(ops[0]): Effect(decisions=1, evaluations=1),
        id(ops[1]): Effect(1, "credited", postings=1, evaluations=1),
        id(ops[2]): Effect(1, "declined", postings=0, evaluations=1),
        id(ops[3]): Effect(1, "approved", postings=1, evaluations=1),
    }
    row = score("f", ops, found, broker_restarted=False)
    assert (row.sent, row.acked, row.once, row.lost, row.duplicated) == (4, 4, 4, 0, 0)
    assert not row.failed
    assert row.by_kind[STREAM] == (1, 1)


def test_acknowledged_but_missing_or_half_done_or_contradicted_is_lost() -> None:
    ops = [
        acked(STREAM, "never-evaluated"),
        acked(TOPUP_KAFKA, "no-posting"),
        acked(KIOSK, "k:answered-approved", "approved"),
    ]
    found = {
        id(ops[0]): Effect(),
        id(ops[1]): Effect(1, "credited", postings=0, evaluations=1),  # credited, not posted
        id(ops[2]): Effect(1, "declined", postings=0, evaluations=1),  # told approved
    }
    row = score("f", ops, found, broker_restarted=False)
    assert (row.acked, row.once, row.lost) == (3, 0, 3)
    assert row.failed
    assert all(p.startswith("LOST") for p in row.problems)


def test_more_than_one_effect_is_a_duplicate_even_when_not_acknowledged() -> None:
    ops = [acked(TOPUP_KAFKA, "twice"), Operation(KIOSK, "k:3", "f")]
    found = {
        id(ops[0]): Effect(1, "credited", postings=2, evaluations=1),
        id(ops[1]): Effect(1, "approved", postings=1, evaluations=2),
    }
    row = score("f", ops, found, broker_restarted=False)
    assert (row.duplicated, row.once, row.lost) == (2, 0, 0)
    assert row.failed


def test_an_unanswered_operation_done_once_is_neither_lost_nor_duplicated() -> None:
    ops = [Operation(TOPUP_HTTP, "t", "f"), Operation(KIOSK, "k:4", "f")]
    found = {id(ops[0]): Effect(1, "credited", postings=1, evaluations=1), id(ops[1]): Effect()}
    row = score("f", ops, found, broker_restarted=False)
    assert (row.sent, row.acked, row.done_unacked, row.lost) == (2, 0, 1, 0)
    assert not row.failed
    assert any("not acknowledged and not done" in note for note in row.notes), row.notes


def test_kafka_losses_are_the_brokers_only_when_it_restarted_and_only_on_kafka() -> None:
    ops = [acked(STREAM, "m"), acked(TOPUP_KAFKA, "t"), acked(TOPUP_HTTP, "h", "credited")]
    found = {id(op): Effect() for op in ops}
    restarted = score("f", ops, found, broker_restarted=True)
    assert (restarted.broker_lost, restarted.lost) == (2, 1)  # HTTP is Saku's either way
    steady = score("f", ops, found, broker_restarted=False)
    assert (steady.broker_lost, steady.lost) == (0, 3)


def test_a_kafka_operation_is_acknowledged_when_every_record_is() -> None:
    tally = Tally(phase="f")
    op = tally.add(STREAM, "m", parts=4)
    for _ in range(3):
        op.delivered(True)
    assert not op.acked
    op.delivered(True)
    assert op.acked
    refused = tally.add(STREAM, "n", parts=2)
    refused.delivered(False)
    refused.delivered(True)
    assert not refused.acked
    # a kiosk's sale is one operation, whether answered online or replayed offline
    sale = tally.add(KIOSK, "k:9")
    assert tally.find(OFFLINE, "k:9") is sale


def test_the_table_has_a_row_per_fault_and_says_whose_losses_are_the_brokers() -> None:
    rows = [Row("kill -9 saku worker", 10, 10, 10), Row("kill -9 Kafka broker", 5, 5, 3)]
    rows[1].broker_lost = 2
    rows[1].notes.append("answered HTTP 503 x2")
    text = render(Scorecard(rows, ChaosOptions(), "/tmp/x"))
    lines = text.splitlines()
    assert any(line.startswith("kill -9 saku worker") for line in lines)
    broker_row = next(line for line in lines if line.startswith("kill -9 Kafka broker"))
    assert broker_row.split()[-3:] == ["2", "ok", "[1]"]
    assert "lost by the embedded Kafka broker, not by Saku" in text
    assert "[1] answered HTTP 503 x2" in text
    assert text.rstrip().endswith("the ledger holds")
