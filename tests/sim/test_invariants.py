"""Each invariant holds on a clean run and fails, naming the transaction, on a tampered one."""

from __future__ import annotations

from dataclasses import replace

import pytest

import sim
from engine.ledger import Decision, Status
from sim import invariants, metrics
from sim.sqs import DeadLetter
from sim.world import JobRun
from tests.sim.conftest import scenario


@pytest.fixture(scope="module")
def clean():
    return sim.run(scenario({"duration_s": 8, "load": {"rate_tps": 10, "invalid_share": 0.2}}, seeds=[2]))


@pytest.fixture
def run():
    """A fresh copy of the clean run's world state to tamper with (the module's run is shared)."""
    result = sim.run(scenario({"duration_s": 8, "load": {"rate_tps": 10, "invalid_share": 0.2}}, seeds=[2]), keep_state=True)
    assert result.ok, result.report_text
    return result


def settled(result, n: int = 0) -> str:
    frame = result.transactions
    return list(frame[(frame["final_status"] == "ACSC") & (frame["kind"] == "valid")]["transaction_id"])[n]


def inner(result):
    region = next(iter(result.world.regions.values()))
    return region.inner[0], region.inner[1]


def test_a_clean_run_passes_every_invariant(clean):
    assert [v.name for v in clean.invariants] == [
        "one_terminal_status", "terminal_never_changes", "payload_archived", "reply_available", "no_overdue_in_flight",
        "decisions_match_messages", "no_double_settlement", "dlq_explained", "drained", "faults_fired",
    ]
    assert all(v.ok for v in clean.invariants)
    assert len(clean.transactions) == 71


def test_one_terminal_status_fails_for_a_transaction_left_in_flight(run):
    tid = settled(run)
    facts = run.snapshot.facts[tid]
    stuck = replace(facts.with_history(facts.history[:-1]), status="ACSP", version=facts.version - 1)
    run.snapshot.facts[tid] = stuck
    verdict = invariants.one_terminal_status(run.world, run.snapshot)
    assert not verdict.ok
    assert verdict.transaction_ids == (tid,)
    [(_, accp), (_, actc), (_, acsp)] = stuck.history
    assert verdict.detail == (
        "every transaction that got ACCP reaches exactly one terminal status -- violated by 1 transaction(s): "
        f"{tid}: 0 terminal statuses, now ACSP [ACCP@{accp:.3f} ACTC@{actc:.3f} ACSP@{acsp:.3f}]"
    )


def test_terminal_never_changes_fails_on_history_client_and_stored_reply(run):
    first, second, third = settled(run, 0), settled(run, 1), settled(run, 2)
    facts = run.snapshot.facts[first]
    reopened = replace(facts.with_history(facts.history + (("ACTC", facts.history[-1][1]),)), status="ACTC", version=facts.version + 1)
    run.snapshot.facts[first] = reopened
    run.world.clients[run.world.transactions[second].message].reply_status = "RJCT"
    run.snapshot.facts[third] = replace(run.snapshot.facts[third], reply_written="RJCT")
    verdict = invariants.terminal_never_changes(run.world, run.snapshot)
    assert not verdict.ok
    assert set(verdict.transaction_ids) == {first, second, third}
    assert f"{first}: terminal ACSC changed [{reopened.trail()}]" in verdict.detail
    assert reopened.trail().startswith("ACCP@") and reopened.trail().count(" ACTC@") == 2
    assert f"{second}: the client read RJCT from /outbox but the ledger ends ACSC" in verdict.detail
    assert f"{third}: the stored pacs.002 says RJCT but the ledger ends ACSC" in verdict.detail


def test_payload_archived_fails_when_the_archive_lost_the_payload(run):
    tid = settled(run)
    ledger, archive = inner(run)
    key = ledger.get(tid).payload_key
    del archive.objects[key]
    verdict = invariants.payload_archived(metrics.snapshot(run.world))
    assert (verdict.ok, verdict.transaction_ids) == (False, (tid,))
    assert verdict.detail.endswith(f"{tid}: payload {key} missing from the archive or not the bytes received")


def test_reply_available_accepts_a_rebuildable_reply_and_fails_without_a_decision(run):
    tid = settled(run)
    ledger, archive = inner(run)
    record = ledger.get(tid)
    del archive.objects[record.reply_key]
    rebuilt = invariants.reply_available(metrics.snapshot(run.world))
    assert rebuilt.ok
    assert rebuilt.detail == "every terminal transaction has its pacs.002 in the outbox (1 not stored yet, built by /outbox on first read)"
    ledger._store(replace(record, decision=Decision(Status.ACSC, record.decision.decided_at, payments=()), payload_key=None))
    verdict = invariants.reply_available(metrics.snapshot(run.world))
    assert verdict.ok  # a group-level pacs.002 can still be built from the ledger alone
    ledger._store(replace(record, decision=None))
    verdict = invariants.reply_available(metrics.snapshot(run.world))
    assert (verdict.ok, verdict.transaction_ids) == (False, (tid,))
    assert verdict.detail.endswith(f"{tid}: no pacs.002 at {record.reply_key} and none can be built")


def test_no_overdue_in_flight_fails_unless_a_timeout_job_run_explains_it(run):
    tid = settled(run)
    deadline = run.snapshot.facts[tid].deadline_s
    run.world.transactions[tid].terminal_s = deadline + 100.0
    verdict = invariants.no_overdue_in_flight(run.world, run.snapshot, run.end_s)
    assert (verdict.ok, verdict.transaction_ids) == (False, (tid,))
    assert verdict.detail.endswith(
        f"{tid}: deadline {deadline:.3f} s, terminal only at {deadline + 100:.3f} s, with every timeout-job run in between clean"
    )
    run.world.job_runs.append(JobRun("us-east-1", deadline + 60, deadline + 60, deadline + 61, 0, "crash", 0, False, False, ()))
    explained = invariants.no_overdue_in_flight(run.world, run.snapshot, run.end_s)
    assert explained.ok
    assert explained.detail.endswith("; 1 late transaction(s) explained by failed, delayed or skewed timeout-job runs")


def test_decisions_match_messages_fails_for_a_rejected_valid_and_a_settled_invalid_message(run):
    valid = settled(run)
    frame = run.transactions
    invalid = list(frame[(frame["kind"] == "truncated")]["transaction_id"])[0]
    run.snapshot.facts[valid] = replace(run.snapshot.facts[valid], status="RJCT", reason_code="FF01")
    run.snapshot.facts[invalid] = replace(run.snapshot.facts[invalid], status="ACSC", reason_code=None)
    verdict = invariants.decisions_match_messages(run.world, run.snapshot)
    valid_index = run.world.transactions[valid].message
    invalid_index = run.world.transactions[invalid].message
    assert set(verdict.transaction_ids) == {valid, invalid}
    assert f"{valid}: valid message #{valid_index} ended RJCT FF01" in verdict.detail
    assert f"{invalid}: truncated message #{invalid_index} ended ACSC, expected RJCT FF01" in verdict.detail


def test_no_double_settlement_fails_when_two_settled_transactions_share_a_uetr(run):
    first, second = settled(run, 0), settled(run, 1)
    clients = run.world.clients
    one, two = clients[run.world.transactions[first].message], clients[run.world.transactions[second].message]
    two.uetrs = one.uetrs
    verdict = invariants.no_double_settlement(run.world, run.snapshot)
    later, earlier = (second, first) if list(run.world.transactions).index(first) < list(run.world.transactions).index(second) else (first, second)
    assert verdict.transaction_ids == (later,)
    assert verdict.detail.endswith(f"{later}: UETR {one.uetrs[0]} settled again; first settled by {earlier}")


def test_dlq_explained_fails_for_a_dead_letter_no_fault_touched(run):
    tid = settled(run)
    region = run.world.regions["us-east-1"]
    region.dead_letters.append(DeadLetter("us-east-1/release", "us-east-1/release-7", tid, "{}", 5, 40.0))
    verdict = invariants.dlq_explained(run.world)
    index = run.world.transactions[tid].message
    assert (verdict.ok, verdict.transaction_ids) == (False, (tid,))
    assert verdict.detail.endswith(f"{tid}: us-east-1/release message us-east-1/release-7 (valid message #{index}) after 5 receives, no fault touched it")


def test_drained_fails_naming_the_transactions_still_in_flight(run):
    tid = settled(run)
    run.world.transactions[tid].terminal_s = None
    verdict = invariants.run_drained(run.world, run.snapshot, False, 908.0)
    assert (verdict.ok, verdict.transaction_ids) == (False, (tid,))
    assert verdict.detail == (
        "the world did not drain within drain_limit_s = 900 s after the load (0 queue message(s), 0 client(s) still active)"
        f" -- violated by 1 transaction(s): {tid}: still ACSC"
    )


def test_a_scenario_whose_faults_touch_nothing_fails():
    quiet_faults = scenario({
        "duration_s": 12,
        "load": {"rate_tps": 5},
        "engine": {"timeout_schedule": "loop", "timeout_cadence_s": 5},
        "faults": [
            {"action": "rp2:worker-crash-after-calls", "start_s": 1, "duration_s": 5, "function": "timeout", "after_calls": 50},
            {"action": "rp2:lambda-throttle", "start_s": 4, "duration_s": 7, "function": "timeout", "concurrency": 0},
        ],
    })
    result = sim.run(quiet_faults)
    assert not result.ok
    [verdict] = result.failures
    assert verdict.detail == (
        "every fault must touch at least one transaction, or the scenario proves nothing -- "
        "#0 rp2:worker-crash-after-calls 1-6 s never fired; "
        "#1 rp2:lambda-throttle 4-11 s fired 2 time(s) but touched no transaction"
    )
    assert list(result.faults["fired"]) == [False, True]
