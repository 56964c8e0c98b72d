"""Routing state and failure-detector views, kept as two kinds of items in the (global) ledger table.

Replication (``stamp``, ``put_replica_*``; see engine.ports and engine/adapters/aws/ledger.py): a detector view is an
item of its own; the region states share one item, so each region's entry carries its own stamp and a copy from the
other region replaces only that entry, in one conditional update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from engine.adapters.aws.errors import error_code, outage_as_unavailable
from engine.adapters.aws.ledger import NEWER_THAN_STORED, STAMP_NAMES, stamp_attributes, stamp_values
from engine.adapters.aws.ledger_items import from_attribute_values, timestamp, to_attribute_values
from engine.failover import PeerView, RegionState
from engine.ports import Stamp, StampSource

ROUTING_ITEM = "routing#regions"


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


_CONDITION_FAILED = "ConditionalCheckFailedException"
# NEWER_THAN_STORED, on a region's entry of the routing item
_ENTRY_NEWER = NEWER_THAN_STORED.replace("#rep_", "#regions.#region.#rep_")


class DynamoRouting:
    """``stamp``: set each write's replication stamp; never on AWS, whose global table stamps items itself."""

    def __init__(self, client: Any, table_name: str, stamp: StampSource | None = None) -> None:
        self._client = client
        self._table = table_name
        self._stamp = stamp

    def region_states(self) -> dict[str, RegionState]:
        with outage_as_unavailable("dynamodb"):
            response = self._client.get_item(TableName=self._table, Key={"id": {"S": ROUTING_ITEM}}, ConsistentRead=True)
        regions = from_attribute_values(response.get("Item", {})).get("regions", {})
        return {
            name: RegionState(name, state["up"], _moment(state.get("changed_at")), state.get("declared_by"))
            for name, state in regions.items()
        }

    def declare(self, state: RegionState) -> None:
        value = _state_value(state)
        if self._stamp is not None:
            value.update(stamp_attributes(self._stamp()))
        with outage_as_unavailable("dynamodb"):
            self._ensure_regions()
            self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": ROUTING_ITEM}},
                UpdateExpression="SET #regions.#region = :state",
                ExpressionAttributeNames={"#regions": "regions", "#region": state.region},
                ExpressionAttributeValues=to_attribute_values({":state": value}),
            )

    def _ensure_regions(self) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"id": {"S": ROUTING_ITEM}},
            UpdateExpression="SET #regions = if_not_exists(#regions, :empty)",
            ExpressionAttributeNames={"#regions": "regions"},
            ExpressionAttributeValues={":empty": {"M": {}}},
        )

    def put_replica_state(self, state: RegionState, stamp: Stamp) -> bool:
        value = {**_state_value(state), **stamp_attributes(stamp)}
        try:
            with outage_as_unavailable("dynamodb"):
                self._ensure_regions()
                self._client.update_item(
                    TableName=self._table,
                    Key={"id": {"S": ROUTING_ITEM}},
                    UpdateExpression="SET #regions.#region = :state",
                    ConditionExpression=_ENTRY_NEWER,
                    ExpressionAttributeNames={"#regions": "regions", "#region": state.region, **STAMP_NAMES},
                    ExpressionAttributeValues=to_attribute_values({":state": value, **stamp_values(stamp)}),
                )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            return False
        return True

    def peer_view(self, observer: str, peer: str) -> PeerView:
        with outage_as_unavailable("dynamodb"):
            response = self._client.get_item(TableName=self._table, Key=_view_key(observer, peer), ConsistentRead=True)
        if "Item" not in response:
            return PeerView(observer, peer)
        item = from_attribute_values(response["Item"])
        return PeerView(
            observer,
            peer,
            int(item["consecutive_failures"]),
            int(item["consecutive_successes"]),
            item["down"],
            _moment(item.get("changed_at")),
        )

    def save_peer_view(self, view: PeerView) -> None:
        item = _view_item(view)
        if self._stamp is not None:
            item.update(stamp_attributes(self._stamp()))
        with outage_as_unavailable("dynamodb"):
            self._client.put_item(TableName=self._table, Item=to_attribute_values(item))

    def put_replica_view(self, view: PeerView, stamp: Stamp) -> bool:
        try:
            with outage_as_unavailable("dynamodb"):
                self._client.put_item(
                    TableName=self._table,
                    Item=to_attribute_values({**_view_item(view), **stamp_attributes(stamp)}),
                    ConditionExpression=NEWER_THAN_STORED,
                    ExpressionAttributeNames=STAMP_NAMES,
                    ExpressionAttributeValues=to_attribute_values(stamp_values(stamp)),
                )
        except ClientError as error:
            if error_code(error) != _CONDITION_FAILED:
                raise
            return False
        return True


def _state_value(state: RegionState) -> dict[str, Any]:
    return {"up": state.up, "changed_at": timestamp(state.changed_at) if state.changed_at else None, "declared_by": state.declared_by}


def _view_item(view: PeerView) -> dict[str, Any]:
    return {
        "id": _view_key(view.observer, view.peer)["id"]["S"],
        "consecutive_failures": view.consecutive_failures,
        "consecutive_successes": view.consecutive_successes,
        "down": view.down,
        "changed_at": timestamp(view.changed_at) if view.changed_at else None,
    }


def _view_key(observer: str, peer: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": f"detector#{observer}#{peer}"}}
