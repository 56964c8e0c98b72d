from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.ledger import Change, Decision, HistoryEntry, PaymentOutcome, StaleTransition, Status, Transaction

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
TX = "6f1c2a3e-0000-4000-8000-000000000001"
OTHER = "6f1c2a3e-0000-4000-8000-000000000002"


def opened(transaction_id: str = TX, region: str = "us-east-1", at: datetime = T0) -> Transaction:
    return Transaction.opened(
        id=transaction_id,
        region=region,
        owner=region,
        message_type="pacs.008.001.08",
        at=at,
        sla_seconds=30,
        retention_days=30,
    )


def received(version: int = 1, **fields: object) -> Change:
    return Change(
        expected_status=Status.ACCP,
        expected_version=version,
        target=Status.ACTC,
        entry=HistoryEntry(Status.ACTC, T0 + timedelta(seconds=1)),
        **fields,
    )


def test_open_stores_the_record(backend):
    record = opened()

    assert backend.ports.ledger.open(record) is True
    assert backend.ports.ledger.get(TX) == record


def test_duplicate_open_returns_false_and_keeps_the_first(backend):
    ledger = backend.ports.ledger
    first = opened()
    ledger.open(first)

    assert ledger.open(opened(at=T0 + timedelta(minutes=5))) is False
    assert ledger.get(TX) == first


def test_get_missing_returns_none(backend):
    assert backend.ports.ledger.get(TX) is None


def test_transition_applies_the_change_with_one_history_entry(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())

    updated = ledger.transition(TX, received(payload_key="inbox/tx-1.xml", payload_sha256="ab" * 32))

    assert updated.status is Status.ACTC
    assert updated.version == 2
    assert updated.history == (
        HistoryEntry(Status.ACCP, T0),
        HistoryEntry(Status.ACTC, T0 + timedelta(seconds=1)),
    )
    assert updated.payload_key == "inbox/tx-1.xml"
    assert updated.payload_sha256 == "ab" * 32
    assert updated.reply_key is None
    assert ledger.get(TX) == updated


def test_stale_version_raises_with_the_current_record(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    current = ledger.transition(TX, received())
    stale = Change(Status.ACTC, 1, Status.ACSP, HistoryEntry(Status.ACSP, T0 + timedelta(seconds=2)))

    with pytest.raises(StaleTransition) as raised:
        ledger.transition(TX, stale)

    assert raised.value.transaction_id == TX
    assert raised.value.current == current
    assert ledger.get(TX) == current


def test_stale_status_raises_with_the_current_record(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    current = ledger.transition(TX, received())

    with pytest.raises(StaleTransition) as raised:
        ledger.transition(TX, received(version=2))

    assert raised.value.current == current
    assert ledger.get(TX).history == current.history


def test_transition_of_a_missing_record_is_stale_without_current(backend):
    with pytest.raises(StaleTransition) as raised:
        backend.ports.ledger.transition(TX, received())

    assert raised.value.current is None


def test_terminal_transition_drops_the_record_from_in_flight(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    ledger.open(opened(OTHER))
    after_deadline = T0 + timedelta(minutes=1)
    assert [record.id for record in ledger.in_flight("us-east-1", after_deadline, 10)] == [TX, OTHER]

    ledger.transition(TX, Change(Status.ACCP, 1, Status.RJCT, HistoryEntry(Status.RJCT, T0, reason_code="AB05")))

    assert [record.id for record in ledger.in_flight("us-east-1", after_deadline, 10)] == [OTHER]


def test_in_flight_selects_the_region_before_the_deadline_oldest_first(backend):
    ledger = backend.ports.ledger
    east = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(6)]
    for minute, transaction_id in reversed(list(enumerate(east))):
        ledger.open(opened(transaction_id, at=T0 + timedelta(minutes=minute)))
    ledger.open(opened("00000000-0000-4000-8000-0000000000ff", region="us-west-2", at=T0))
    # deadlines are T0 + minute + 30 s; the one at exactly the cut-off is not before it
    cut_off = T0 + timedelta(minutes=4, seconds=30)

    due = ledger.in_flight("us-east-1", cut_off, 10)

    assert [record.id for record in due] == east[:4]
    assert due[0] == opened(east[0])
    assert [record.id for record in ledger.in_flight("us-east-1", cut_off, 2)] == east[:2]
    assert [record.id for record in ledger.in_flight("us-west-2", cut_off, 10)] == [
        "00000000-0000-4000-8000-0000000000ff"
    ]
    assert ledger.in_flight("eu-west-1", cut_off, 10) == []
    assert ledger.in_flight("us-east-1", T0 + timedelta(seconds=30), 10) == []


def test_claim_returns_the_first_holder(backend):
    ledger = backend.ports.ledger
    expires_at = int((T0 + timedelta(days=30)).timestamp())

    assert ledger.claim("uetr:eb6305c9-1f7f-49de-aed0-16487c27b42d", TX, expires_at) == TX
    assert ledger.claim("uetr:eb6305c9-1f7f-49de-aed0-16487c27b42d", OTHER, expires_at) == TX
    assert ledger.claim("msgid:BANKA/20240501/1", OTHER, expires_at) == OTHER


def test_a_decision_roundtrips_exactly(backend):
    ledger = backend.ports.ledger
    record = opened()
    ledger.open(record)
    validated = received(payload_key="inbox/tx.xml", payload_sha256="0f" * 32)
    accepted = Change(
        Status.ACTC, 2, Status.ACSP, HistoryEntry(Status.ACSP, T0 + timedelta(seconds=2), note="schema and rules passed")
    )
    decision = Decision(
        status=Status.ACSC,
        decided_at=T0 + timedelta(seconds=3, microseconds=123456),
        info="settled 2 of 3",
        payments=(
            PaymentOutcome("ACSC"),
            PaymentOutcome("RJCT", reason_code="AM02", info="amount 1000000000.01 above limit"),
            PaymentOutcome("ACSC", info=""),
        ),
    )
    settled = Change(
        Status.ACSP,
        3,
        Status.ACSC,
        HistoryEntry(Status.ACSC, T0 + timedelta(seconds=3), reason_code="G000"),
        reply_key="outbox/tx.xml",
        decision=decision,
    )
    expected = settled.apply(accepted.apply(validated.apply(record)))

    for change in (validated, accepted, settled):
        ledger.transition(TX, change)

    assert ledger.get(TX) == expected
    assert ledger.get(TX).decision == decision


def test_warnings_append_in_order(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    ledger.transition(TX, received(warnings=("duplicate UETR",)))
    accepted = Change(
        Status.ACTC,
        2,
        Status.ACSP,
        HistoryEntry(Status.ACSP, T0 + timedelta(seconds=2)),
        warnings=("value date in the past", "charge bearer defaulted"),
    )

    updated = ledger.transition(TX, accepted)

    assert updated.warnings == ("duplicate UETR", "value date in the past", "charge bearer defaulted")
    assert ledger.get(TX).warnings == updated.warnings


def test_a_deadline_guarded_change_applies_up_to_the_deadline_only(backend):
    ledger = backend.ports.ledger
    record = opened()
    ledger.open(record)
    late = received(deadline_not_passed_at=record.deadline + timedelta(microseconds=1))

    with pytest.raises(StaleTransition) as stale:
        ledger.transition(TX, late)
    assert (stale.value.current.status, stale.value.current.version) == (Status.ACCP, 1)

    assert ledger.transition(TX, received(deadline_not_passed_at=record.deadline)).status is Status.ACTC
