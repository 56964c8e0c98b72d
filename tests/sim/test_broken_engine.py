"""A deliberately broken engine makes the duplicate-delivery scenario fail, with a clear invariant message.

The break: the ledger's conditional write loses its condition (expected status and version), as when someone
drops the ConditionExpression from the UpdateItem. Every redelivered message then re-applies its step.
"""

from __future__ import annotations

from pathlib import Path

import sim
from engine.adapters.memory import MemoryLedger
from engine.ledger import StaleTransition

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "duplicate_delivery_storm.toml"


def unconditional_transition(self, transaction_id, change):
    current = self._load(transaction_id)
    if current is None:
        raise StaleTransition(transaction_id, None)
    updated = change.apply(current)  # no check of the expected status and version: last writer wins
    self._store(updated)
    return updated


def test_without_conditional_writes_duplicate_delivery_changes_terminal_statuses(monkeypatch):
    monkeypatch.setattr(MemoryLedger, "transition", unconditional_transition)

    result = sim.run(SCENARIO)

    assert not result.ok
    failed = {v.name: v for v in result.failures}
    assert {"one_terminal_status", "terminal_never_changes"} <= set(failed)
    verdict = failed["terminal_never_changes"]
    changed = result.transactions[result.transactions["terminal_entries"] > 1]
    assert len(changed) > 0
    assert verdict.detail.startswith(
        "a terminal status never changes (history, ledger, client's reply and stored pacs.002 agree) -- violated by "
    )
    first = verdict.transaction_ids[0]
    assert f"{first}: terminal ACSC changed [ACCP@" in verdict.detail
    assert set(verdict.transaction_ids) >= set(changed["transaction_id"])
    assert "FAIL terminal_never_changes: a terminal status never changes" in result.report_text
    assert result.report_text.rstrip().endswith("verdict: FAIL")
