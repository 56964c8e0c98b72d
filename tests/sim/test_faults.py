"""Fault bookkeeping, and the faults' effects as the AWS adapters see them."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from moto import mock_aws

import sim
from engine.adapters.aws import aws_ports
from engine.adapters.aws.provision import provision
from engine.ports import Unavailable
from engine.settings import Settings
from sim import botocore_faults
from sim.faults import FaultLayer, FaultSpec
from sim.rng import Streams
from tests.sim.scenarios_for_tests import faulted_small


def test_each_fault_records_when_it_fired_and_the_transactions_it_touched():
    result = sim.run(faulted_small())
    faults = result.faults
    assert list(faults["action"]) == [
        "aws:fis:inject-api-throttle-error", "aws:fis:inject-api-internal-error", "aws:fis:inject-api-unavailable-error",
        "aws:fis:inject-api-unavailable-error", "rp2:worker-crash-after-calls", "rp2:duplicate-delivery",
    ]
    assert faults["fired"].all()
    for row in faults.itertuples():
        # decided inside the window; a crash takes effect at the k-th call, up to a function timeout later
        assert row.start_s <= row.first_fired_s < row.start_s + row.duration_s
        assert row.first_fired_s <= row.last_fired_s < row.start_s + row.duration_s + 15
        assert row.transactions_touched > 0
    touches = result.fault_touches
    assert touches["message_index"].isna().all()  # every client got a transaction in the end
    assert touches.groupby("fault").size().to_dict() == dict(zip(faults["index"], faults["transactions_touched"]))
    assert set(touches["transaction_id"]) <= set(result.transactions["transaction_id"])
    touched_column = result.transactions.set_index("transaction_id")["faults_touched"]
    for row in touches.itertuples():
        assert str(row.fault) in touched_column[row.transaction_id].split(";")
    # a throttled GET /uuid drew an id that was never opened: it counts for the transaction the client opened next
    raw = result.world.faults.states[0].touched
    retried = [c for c in result.world.clients if c.drawn_ids]
    assert len(retried) == 7
    for client in retried:
        assert client.transaction_id in result.world.transactions
        assert all(drawn in raw and drawn not in result.world.transactions for drawn in client.drawn_ids)
        assert client.transaction_id in set(touches[touches["fault"] == 0]["transaction_id"])
    crash = result.world.faults.states[4]
    assert crash.hits == result.functions.set_index("function").loc["process", "crashes"]


def layer(*specs: FaultSpec) -> FaultLayer:
    return FaultLayer(list(specs), Streams(1))


def spec(action: str, start: float = 0, duration: float = 10, **params) -> FaultSpec:
    return FaultSpec(0, action, start, duration, "us-east-1", tuple(params.items()))


def test_an_api_fault_is_per_sdk_attempt_and_the_sdk_retries_three_times():
    always = layer(spec("aws:fis:inject-api-throttle-error", service="dynamodb", operations=(), percentage=100))
    outcome = always.api_call("us-east-1", "dynamodb", "PutItem", 1.0, lambda: 0.01, ("tx-1",))
    assert (outcome.error, outcome.attempts) == ("throttle", 3)
    assert outcome.latency_s > 0.03  # three attempts and two back-offs
    assert always.states[0].hits == 3 and list(always.states[0].touched) == ["tx-1"]
    other = always.api_call("us-east-1", "s3", "PutObject", 1.0, lambda: 0.01, ())
    assert (other.error, other.attempts, other.latency_s) == (None, 1, 0.01)
    later = always.api_call("us-east-1", "dynamodb", "PutItem", 10.0, lambda: 0.01, ())
    assert later.error is None


def test_a_connectivity_cut_fails_every_call_after_connect_timeouts():
    cut = layer(spec("aws:network:disrupt-connectivity", scope="s3"))
    outcome = cut.api_call("us-east-1", "s3", "GetObject", 0.5, lambda: 0.01, ())
    assert (outcome.error, outcome.attempts) == ("connectivity", 3)
    assert 6.0 <= outcome.latency_s <= 9.0
    assert cut.api_call("us-east-1", "dynamodb", "GetItem", 0.5, lambda: 0.01, ()).error is None


@pytest.mark.parametrize("kind", ["unavailable", "throttle", "internal", "connectivity"])
def test_botocore_raises_what_the_aws_adapter_translates_to_unavailable(kind, aws_env):
    settings = Settings(deployment_id="hook")
    armed = {"kind": None}
    with mock_aws():
        session = boto3.Session(botocore_session=botocore.session.Session(), region_name=settings.region)
        botocore_faults.install(session, lambda service, operation: armed.pop("kind", None))
        provision(settings, session)
        ports = aws_ports(settings, session)
        armed["kind"] = kind
        with pytest.raises(Unavailable) as raised:
            ports.ledger.get("00000000-0000-4000-8000-000000000000")
        assert str(raised.value).startswith("dynamodb: ")
        assert ports.ledger.get("00000000-0000-4000-8000-000000000000") is None  # one call only was failed


def test_a_region_outage_and_a_dynamodb_cut_delay_payments_without_losing_one():
    from tests.sim.conftest import scenario

    result = sim.run(scenario({
        "duration_s": 30,
        "load": {"rate_tps": 10},
        "engine": {"timeout_schedule": "loop", "timeout_cadence_s": 10},
        "faults": [
            {"action": "rp2:region-outage", "start_s": 10, "duration_s": 8},
            {"action": "aws:network:disrupt-connectivity", "start_s": 22, "duration_s": 3, "scope": "dynamodb"},
        ],
    }))
    assert result.ok, result.report_text
    assert list(result.faults["transactions_touched"]) == [87, 51]
    # one payment's settlement came after its deadline: rejected AB03, never settled late
    assert result.metrics["final_status_reason"] == {"ACSC": 303, "RJCT AB03": 1}
    assert result.metrics["client_retries"] == 173
    # the scheduler was down with the region: its tick at 10 s was lost
    assert list(result.job_runs["outcome"]) == ["skipped-outage", "ok", "ok", "ok", "ok"]
    assert result.metrics["aws_requests_failed"] == {"dynamodb.GetItem": 27, "dynamodb.PutItem": 24, "dynamodb.UpdateItem": 1, "sqs.DeleteMessageBatch": 1}
