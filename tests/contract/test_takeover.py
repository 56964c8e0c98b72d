from __future__ import annotations

from datetime import timedelta

import pytest

from engine.ledger import Change, HistoryEntry, StaleTransition, Status, Takeover
from tests.contract.test_ledger import T0, TX, opened, received

EAST, WEST = "us-east-1", "us-west-2"


def test_take_over_moves_ownership_and_bumps_epoch_and_version(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    ledger.transition(TX, received())

    moved = ledger.take_over(TX, Takeover(expected_region=EAST, expected_version=2, new_region=WEST))

    assert (moved.region, moved.epoch, moved.version, moved.status) == (WEST, 2, 3, Status.ACTC)
    assert [e.status for e in moved.history] == [Status.ACCP, Status.ACTC]
    assert ledger.get(TX) == moved
    assert ledger.in_flight(EAST, T0 + timedelta(days=1), 10) == []
    assert [r.id for r in ledger.in_flight(WEST, T0 + timedelta(days=1), 10)] == [TX]


def test_the_old_owner_is_fenced_out(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    ledger.take_over(TX, Takeover(expected_region=EAST, expected_version=1, new_region=WEST))

    with pytest.raises(StaleTransition) as stale:
        ledger.transition(TX, received(version=1))
    assert (stale.value.current.region, stale.value.current.version) == (WEST, 2)


def test_a_second_take_over_with_the_old_version_fails(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    ledger.take_over(TX, Takeover(expected_region=EAST, expected_version=1, new_region=WEST))

    with pytest.raises(StaleTransition):
        ledger.take_over(TX, Takeover(expected_region=EAST, expected_version=1, new_region=WEST))


def test_a_terminal_transaction_cannot_be_taken_over(backend):
    ledger = backend.ports.ledger
    ledger.open(opened())
    ledger.transition(TX, Change(Status.ACCP, 1, Status.RJCT, HistoryEntry(Status.RJCT, T0, "AB01")))

    with pytest.raises(StaleTransition):
        ledger.take_over(TX, Takeover(expected_region=EAST, expected_version=2, new_region=WEST))
