"""The memory ledger's in_flight walks its heap instead of sorting it: same answers as the obvious filter; and
the compact storage the simulator uses (packed terminal records, archive objects sealed in deflated blocks) answers exactly as the
plain one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings, strategies as st

import pytest

from engine.adapters.memory import MemoryArchive, MemoryLedger, PackedObjects
from engine.ledger import Change, HistoryEntry, StaleTransition, Status, Takeover, Transaction

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
REGIONS = ("us-east-1", "us-west-2")


def opened(n: int, region: str, offset: int) -> Transaction:
    return Transaction.opened(id=f"00000000-0000-4000-8000-{n:012d}", region=region, owner="o", message_type="pacs.008",
                              at=T0 + timedelta(seconds=offset), sla_seconds=30, retention_days=30)


def expected(ledger: MemoryLedger, region: str, before: datetime, limit: int) -> list[str]:
    due = sorted((r.deadline, r.id) for r in ledger.records() if r.region == region and not r.status.is_terminal and r.deadline < before)
    return [transaction_id for _, transaction_id in due[:limit]]


def by_id(record: Transaction) -> str:
    return record.id


operations = st.lists(
    st.tuples(st.sampled_from(["open", "settle", "move", "query"]), st.integers(0, 40), st.integers(0, 120), st.sampled_from(REGIONS)),
    max_size=120,
)


@pytest.mark.parametrize("compact", [False, True])
@settings(max_examples=150, deadline=None)
@given(steps=operations)
def test_in_flight_matches_a_sorted_filter(compact, steps):
    ledger = MemoryLedger(compact=compact)
    for operation, n, offset, region in steps:
        transaction_id = f"00000000-0000-4000-8000-{n:012d}"
        record = ledger.get(transaction_id)
        if operation == "open":
            ledger.open(opened(n, region, offset))
        elif operation == "settle" and record is not None and not record.status.is_terminal:
            ledger.transition(transaction_id, Change(record.status, record.version, Status.RJCT, HistoryEntry(Status.RJCT, T0)))
        elif operation == "move" and record is not None and not record.status.is_terminal and record.region != region:
            ledger.take_over(transaction_id, Takeover(record.region, record.version, region))
        elif operation == "query":
            before = T0 + timedelta(seconds=offset)
            for limit in (1, 3, 500):
                assert [r.id for r in ledger.in_flight(region, before, limit)] == expected(ledger, region, before, limit)
    for region in REGIONS:
        assert [r.id for r in ledger.in_flight(region, T0 + timedelta(days=1), 500)] == expected(ledger, region, T0 + timedelta(days=1), 500)


@settings(max_examples=100, deadline=None)
@given(operations)
def test_compact_records_read_back_equal(steps):
    plain, compact = MemoryLedger(), MemoryLedger(compact=True)
    for operation, n, offset, region in steps:
        transaction_id = f"00000000-0000-4000-8000-{n:012d}"
        for ledger in (plain, compact):
            record = ledger.get(transaction_id)
            if operation == "open":
                ledger.open(opened(n, region, offset))
            elif operation == "settle" and record is not None:
                change = Change(record.status if not record.status.is_terminal else Status.ACCP, record.version, Status.RJCT,
                                HistoryEntry(Status.RJCT, T0, reason_code="AB01"))
                try:
                    ledger.transition(transaction_id, change)
                except StaleTransition as stale:
                    assert stale.current == record
        assert plain.get(transaction_id) == compact.get(transaction_id)
    assert sorted(plain.records(), key=by_id) == sorted(compact.records(), key=by_id)
    assert len(compact._terminal) == sum(r.status.is_terminal for r in plain.records())


@given(st.binary(max_size=4000))
def test_a_compressed_archive_returns_the_bytes_it_was_given(body):
    archive = MemoryArchive(compress=True)
    archive.put("outbox/x.xml", body)
    assert archive.get("outbox/x.xml") == body
    assert archive.get("missing") is None


archive_steps = st.lists(
    st.tuples(st.sampled_from(["put", "delete", "get"]), st.sampled_from(["inbox/a.xml", "inbox/b.xml", "outbox/a.xml", "outbox/bb.xml",
                                                                        "inbox/ccc.xml", "x", "yy", "zzz"]),
              st.binary(max_size=60)),
    max_size=150,
)


@pytest.mark.parametrize("key_hash", [hash, len], ids=["python-hash", "colliding-hash"])
@settings(max_examples=150, deadline=None)
@given(steps=archive_steps)
def test_packed_objects_answer_as_a_dict(key_hash, steps):
    packed, model = PackedObjects(b"<Document>", recent=3, block=2, key_hash=key_hash), {}
    for operation, key, body in steps:
        if operation == "put":
            packed[key] = model[key] = body
        elif operation == "delete":
            if key in model:
                del packed[key], model[key]
            else:
                with pytest.raises(KeyError):
                    del packed[key]
        assert packed.get(key) == model.get(key)
        assert (key in packed) == (key in model)
    assert len(packed) == len(model)
    assert sorted(packed) == sorted(model)
    assert dict(packed.items()) == model


def test_packed_objects_seal_the_oldest_objects_a_block_at_a_time():
    packed = PackedObjects(b"", recent=4, block=2)
    for n in range(7):
        packed[f"k{n}"] = b"body %d" % n

    assert list(packed._recent) == ["k4", "k5", "k6"]
    assert len(packed._blocks) == 2
    assert list(packed) == [f"k{n}" for n in range(7)]

    packed["k1"] = b"again"
    del packed["k2"]

    assert list(packed) == ["k0", "k3", "k4", "k5", "k6", "k1"]
    assert packed["k1"] == b"again" and "k2" not in packed and len(packed) == 6
