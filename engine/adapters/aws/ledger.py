"""The ledger on one DynamoDB table: one item per transaction, one conditional write per transition.

Non-terminal transactions also carry the keys of the sparse ``inflight`` index: a shard of their region
(so that one busy region is not one hot partition) and their deadline. A terminal transition removes both
in the same update, which drops the transaction from the index.
"""

from __future__ import annotations

import zlib
from datetime import datetime
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
from engine.ports import Unavailable

INFLIGHT_INDEX = "inflight"
INFLIGHT_SHARD = "inflight_shard"
INFLIGHT_DEADLINE = "inflight_deadline"
TTL_ATTRIBUTE = "expires_at"
_CLAIM_PREFIX = "claim#"
_CONDITION_FAILED = "ConditionalCheckFailedException"
_USABLE_TABLE_STATES = ("ACTIVE", "UPDATING")


def inflight_shard(region: str, transaction_id: str, shards: int) -> str:
    return f"{region}#{zlib.crc32(transaction_id.encode()) % shards}"


class DynamoLedger:
    def __init__(self, client: Any, table_name: str, inflight_shards: int = 4) -> None:
        if inflight_shards < 1:
            raise ValueError(f"inflight_shards must be at least 1, got {inflight_shards}")
        self._client = client
        self._table = table_name
        self._shards = inflight_shards

    def open(self, record: Transaction) -> bool:
        item = transaction_item(record)
        if not record.status.is_terminal:
            item[INFLIGHT_SHARD] = inflight_shard(record.region, record.id, self._shards)
            item[INFLIGHT_DEADLINE] = timestamp(record.deadline)
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
        return self._conditional_update(
            transaction_id,
            "SET #region = :new_region, #epoch = #epoch + :one, #version = :next, #shard = :shard",
            "#region = :expected_region AND #version = :v AND attribute_exists(#shard)",
            {"#region": "region", "#epoch": "epoch", "#version": "version", "#shard": INFLIGHT_SHARD},
            {
                ":new_region": takeover.new_region,
                ":expected_region": takeover.expected_region,
                ":one": 1,
                ":v": takeover.expected_version,
                ":next": takeover.expected_version + 1,
                ":shard": inflight_shard(takeover.new_region, transaction_id, self._shards),
            },
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

    def check(self) -> None:
        with any_failure_as_unavailable("dynamodb"):
            status = self._client.describe_table(TableName=self._table)["Table"]["TableStatus"]
        if status not in _USABLE_TABLE_STATES:
            raise Unavailable(f"dynamodb: table {self._table} is {status}")


def _key(transaction_id: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": transaction_id}}
