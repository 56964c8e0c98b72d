"""The memory and the moto backends give the same outcome for every transaction, faults included: the same
failures are drawn on both, raised directly on memory and through botocore (then translated by the AWS
adapters) on moto."""

from __future__ import annotations

import pytest

import sim
from tests.sim.scenarios_for_tests import faulted, faulted_small


def outcomes(result) -> list[tuple[str, str, str]]:
    frame = result.transactions
    return list(zip(frame["transaction_id"], frame["final_status"], frame["reason_code"].fillna("")))


def assert_same(memory, moto) -> None:
    assert outcomes(memory) == outcomes(moto)
    for table in ("transactions", "messages", "timeline", "faults", "fault_touches", "requests", "functions", "job_runs", "dead_letters"):
        assert memory.csv(table) == moto.csv(table), table
    assert memory.report_text.replace("backend memory", "backend moto") == moto.report_text


def test_a_small_faulted_run_is_identical_on_memory_and_moto(aws_env):
    memory = sim.run(faulted_small(), backend="memory")
    moto = sim.run(faulted_small(), backend="moto")
    assert memory.ok and moto.ok, memory.report_text
    assert len(memory.transactions) == 92
    fired = memory.faults.set_index("action")["fired"]
    assert fired.all()
    assert memory.metrics["aws_requests_failed"]["dynamodb.PutItem"] > 0
    assert_same(memory, moto)


@pytest.mark.slow
def test_a_few_hundred_faulted_transactions_are_identical_on_memory_and_moto(aws_env):
    memory = sim.run(faulted(duration_s=30), backend="memory")
    moto = sim.run(faulted(duration_s=30), backend="moto")
    assert len(memory.transactions) >= 300
    assert memory.ok and moto.ok, memory.report_text
    assert_same(memory, moto)
