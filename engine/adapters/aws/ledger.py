"""The ledger on one DynamoDB table: one item per transaction, one conditional write per transition.

Non-terminal transactions also carry the keys of the sparse ``inflight`` index: a shard of their region
(so that one busy region is not one hot partition) and their deadline. A terminal transition removes both
in the same update, which drops the transaction from the index.

Replication (``stamp``, ``put_replica``; see engine.ports): where rp2 replicates the table itself, every write also
sets the item's replication stamp, in the attributes a global table (version 2017.11.29) keeps for its last writer
wins, ``aws:rep:updatetime`` and ``aws:rep:updateregion``; a copy from the other region is a conditional PutItem of the
whole item that fails when the stored item's stamp is later.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence

from botocore.exceptions import ClientError

from engine.adapters.aws.errors import any_failure_as_unavailable, error_code, outage_as_unavailable
from engine.adapters.aws.ledger_items import (
    decision_map,
    from_attribute_values,
    history_entry_map,
    timestamp,
    to_attribute_values,
    transaction_from_item,
    transaction_item,
)
from engine.ledger import Change, StaleTransition, Takeover, Transaction
from engine.ports import ReplicaWrite, Stamp, StampSource, Unavailable

INFLIGHT_INDEX = "inflight"
INFLIGHT_SHARD = "inflight_shard"
INFLIGHT_DEADLINE = "inflight_deadline"
TTL_ATTRIBUTE = "expires_at"
_CLAIM_PREFIX = "claim#"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_USABLE_TABLE_STATES = ("ACTIVE", "UPDATING")
REPLICA_TIME = "aws:rep:updatetime"
REPLICA_REGION = "aws:rep:updateregion"
STAMP_NAMES = {"#rep_time": REPLICA_TIME, "#rep_region": REPLICA_REGION}
# the condition of a replicated write: the stored item is older (or absent, or unstamped)
NEWER_THAN_STORED = "attribute_not_exists(#rep_time) OR #rep_time < :rep_time OR (#rep_time = :rep_time AND #rep_region < :rep_region)"


def inflight_shard(region: str, transaction_id: str, shards: int) -> str:
    return f"{region}#{zlib.crc32(transaction_id.encode()) % shards}"


def stamp_attributes(stamp: Stamp) -> dict[str, Any]:
    """A stamp as the item's attributes; the time as the decimal that reads back as the same float."""
    return {REPLICA_TIME: Decimal(repr(stamp[0])), REPLICA_REGION: stamp[1]}


def stamp_of(item: dict[str, Any]) -> Stamp | None:
    """The stamp of an item read back (from_attribute_values), None when it has none."""
    if REPLICA_TIME not in item:
        return None
    return float(item[REPLICA_TIME]), item[REPLICA_REGION]


def stamp_values(stamp: Stamp) -> dict[str, Any]:
    return {":rep_time": Decimal(repr(stamp[0])), ":rep_region": stamp[1]}


class DynamoLedger:
    """``stamp``: set each write's replication stamp (see the module's docstring); never on AWS, whose global table
    stamps items itself."""

    def __init__(self, client: Any, table_name: str, inflight_shards: int = 4, stamp: StampSource | None = None) -> None:
        if inflight_shards < 1:
            raise ValueError(f"inflight_shards must be at least 1, got {inflight_shards}")
        self._client = client
        self._table = table_name
        self._shards = inflight_shards
        self._stamp = stamp

    def _item(self, record: Transaction) -> dict[str, Any]:
        item = transaction_item(record)
        if not record.status.is_terminal:
            item[INFLIGHT_SHARD] = inflight_shard(record.region, record.id, self._shards)
            item[INFLIGHT_DEADLINE] = timestamp(record.deadline)
        return item

    def _stamp_assignments(self, assignments: list[str], names: dict[str, str], values: dict[str, Any]) -> None:
        if self._stamp is not None:
            names.update(STAMP_NAMES)
            values.update(stamp_values(self._stamp()))
            assignments += ["#rep_time = :rep_time", "#rep_region = :rep_region"]

    def open(self, record: Transaction) -> bool:
        item = self._item(record)
        if self._stamp is not None:
            item.update(stamp_attributes(self._stamp()))
        try:
            with outage_as_unavailable("dynamodb"):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_attribute_values(item),
                    ConditionExpression="attribute_not_exists(#id)",
                    ExpressionAttributeNames={"#id": "id"},
                )
        except ClientError as error:
            if error_code(error) == _CONDITION_FAILED:
                return False
            raise
        return True

    def get(self, transaction_id: str) -> Transaction | None:
        with outage_as_unavailable("dynamodb"):
            response = self._client.get_item(TableName=self._table, Key=_key(transaction_id), ConsistentRead=True)
        if "Item" not in response:
            return None
        return transaction_from_item(from_attribute_values(response["Item"]))

    def transition(self, transaction_id: str, change: Change) -> Transaction:
        names = {"#status": "status", "#version": "version", "#history": "history"}
        values: dict[str, Any] = {
            ":expected": change.expected_status.value,
            ":v": change.expected_version,
            ":target": change.target.value,
            ":next": change.expected_version + 1,
            ":entry": [history_entry_map(change.entry)],
        }
        assignments = ["#status = :target", "#version = :next", "#history = list_append(#history, :entry)"]
        fields = {
            "payload_key": change.payload_key,
            "payload_sha256": change.payload_sha256,
            "reply_key": change.reply_key,
            "decision": decision_map(change.decision) if change.decision is not None else None,
        }
        for name, value in fields.items():
            if value is not None:
                names[f"#{name}"] = name
                values[f":{name}"] = value
                assignments.append(f"#{name} = :{name}")
        if change.warnings:
            names["#warnings"] = "warnings"
            values[":warnings"] = list(change.warnings)
            assignments.append("#warnings = list_append(#warnings, :warnings)")
        self._stamp_assignments(assignments, names, values)
        expression = "SET " + ", ".join(assignments)
        if change.target.is_terminal:
            names["#shard"] = INFLIGHT_SHARD
            names["#deadline"] = INFLIGHT_DEADLINE
            expression += " REMOVE #shard, #deadline"
        condition = "#status = :expected AND #version = :v"
        if change.deadline_not_passed_at is not None:
            names["#record_deadline"] = "deadline"
            values[":now"] = timestamp(change.deadline_not_passed_at)
            condition += " AND #record_deadline >= :now"
        return self._conditional_update(transaction_id, expression, condition, names, values)

    def take_over(self, transaction_id: str, takeover: Takeover) -> Transaction:
        assignments = ["#region = :new_region", "#epoch = #epoch + :one", "#version = :next", "#shard = :shard"]
        names = {"#region": "region", "#epoch": "epoch", "#version": "version", "#shard": INFLIGHT_SHARD}
        values: dict[str, Any] = {
            ":new_region": takeover.new_region,
            ":expected_region": takeover.expected_region,
            ":one": 1,
            ":v": takeover.expected_version,
            ":next": takeover.expected_version + 1,
            ":shard": inflight_shard(takeover.new_region, transaction_id, self._shards),
        }
        self._stamp_assignments(assignments, names, values)
        return self._conditional_update(
            transaction_id,
            "SET " + ", ".join(assignments),
            "#region = :expected_region AND #version = :v AND attribute_exists(#shard)",
            names,
            values,
        )

    def _conditional_update(
        self, transaction_id: str, expression: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> Transaction:
        try:
            with outage_as_unavailable("dynamodb"):
                response = self._client.update_item(
                    TableName=self._table,
                    Key=_key(transaction_id),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_attribute_values(values),
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            current = error.response.get("Item")
            raise StaleTransition(
                transaction_id, transaction_from_item(from_attribute_values(current)) if current else None
            ) from None
        return transaction_from_item(from_attribute_values(response["Attributes"]))

    def in_flight(self, region: str, deadline_before: datetime, limit: int) -> Sequence[Transaction]:
        if limit < 1:
            return []
        before = timestamp(deadline_before)
        due = [item for n in range(self._shards) for item in self._due(f"{region}#{n}", before, limit)]
        due.sort(key=lambda item: (item[INFLIGHT_DEADLINE], item["id"]))
        return [transaction_from_item(item) for item in due[:limit]]

    def _due(self, shard: str, before: str, limit: int) -> list[dict[str, Any]]:
        """The oldest (at most ``limit``) items of one shard with a deadline before ``before``."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": INFLIGHT_INDEX,
            "KeyConditionExpression": "#shard = :shard AND #deadline < :before",
            "ExpressionAttributeNames": {"#shard": INFLIGHT_SHARD, "#deadline": INFLIGHT_DEADLINE},
            "ExpressionAttributeValues": to_attribute_values({":shard": shard, ":before": before}),
            "ScanIndexForward": True,
        }
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            with outage_as_unavailable("dynamodb"):
                page = self._client.query(**query, Limit=limit - len(found))
            found.extend(from_attribute_values(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def claim(self, key: str, transaction_id: str, expires_at: int) -> str:
        item = {"id": _CLAIM_PREFIX + key, "holder": transaction_id, TTL_ATTRIBUTE: expires_at}
        if self._stamp is not None:
            item.update(stamp_attributes(self._stamp()))
        try:
            with outage_as_unavailable("dynamodb"):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_attribute_values(item),
                    ConditionExpression="attribute_not_exists(#id)",
                    ExpressionAttributeNames={"#id": "id"},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            return from_attribute_values(error.response["Item"])["holder"]
        return transaction_id

    def put_replica(self, record: Transaction, stamp: Stamp) -> ReplicaWrite:
        previous, written = self._put_if_newer({**self._item(record), **stamp_attributes(stamp)}, stamp)
        return ReplicaWrite(written, transaction_from_item(previous) if previous else None, stamp_of(previous) if previous else None)

    def put_replica_claim(self, key: str, holder: str, expires_at: int, stamp: Stamp) -> ReplicaWrite:
        item = {"id": _CLAIM_PREFIX + key, "holder": holder, TTL_ATTRIBUTE: expires_at, **stamp_attributes(stamp)}
        previous, written = self._put_if_newer(item, stamp)
        return ReplicaWrite(written, previous["holder"] if previous else None, stamp_of(previous) if previous else None)

    def _put_if_newer(self, item: dict[str, Any], stamp: Stamp) -> tuple[dict[str, Any] | None, bool]:
        """One conditional PutItem of a whole replicated item: (the item stored before, whether this one replaced it)."""
        try:
            with outage_as_unavailable("dynamodb"):
                response = self._client.put_item(
                    TableName=self._table,
                    Item=to_attribute_values(item),
                    ConditionExpression=NEWER_THAN_STORED,
                    ExpressionAttributeNames=STAMP_NAMES,
                    ExpressionAttributeValues=to_attribute_values(stamp_values(stamp)),
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            return from_attribute_values(error.response["Item"]), False
        previous = response.get("Attributes")
        return (from_attribute_values(previous) if previous else None), True

    def check(self) -> None:
        with any_failure_as_unavailable("dynamodb"):
            status = self._client.describe_table(TableName=self._table)["Table"]["TableStatus"]
        if status not in _USABLE_TABLE_STATES:
            raise Unavailable(f"dynamodb: table {self._table} is {status}")


def _key(transaction_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": transaction_id}}
