"""How many AWS requests each ledger operation costs: the ledger's design depends on these numbers."""

from datetime import datetime, timedelta, timezone

import pytest

from engine.adapters.aws.ledger import DynamoLedger
from engine.ledger import Change, HistoryEntry, StaleTransition, Status, Transaction

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
TX = "6f1c2a3e-0000-4000-8000-000000000001"


@pytest.fixture
def counted(aws):
    """A ledger on the provisioned table and the list of operations its client sends."""
    operations: list[str] = []
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: operations.append(model.name))
    return DynamoLedger(client, aws.provisioned.table, inflight_shards=4), operations


def test_each_ledger_operation_is_one_request(counted):
    ledger, operations = counted
    record = Transaction.opened(
        id=TX, region="us-east-1", owner="us-east-1", message_type="pacs.008.001.08", at=T0, sla_seconds=30, retention_days=30
    )
    received = Change(Status.ACCP, 1, Status.ACTC, HistoryEntry(Status.ACTC, T0))
    ledger.open(record)
    ledger.open(record)
    ledger.get(TX)
    ledger.transition(TX, received)
    with pytest.raises(StaleTransition):
        ledger.transition(TX, received)
    ledger.claim("uetr:1", TX, record.expires_at)
    ledger.claim("uetr:1", "someone else", record.expires_at)
    ledger.check()

    assert operations == [
        "PutItem",
        "PutItem",
        "GetItem",
        "UpdateItem",
        "UpdateItem",
        "PutItem",
        "PutItem",
        "DescribeTable",
    ]


def test_in_flight_queries_each_shard_once_when_a_page_suffices(counted):
    ledger, operations = counted

    ledger.in_flight("us-east-1", T0 + timedelta(minutes=1), 10)

    assert operations == ["Query"] * 4
