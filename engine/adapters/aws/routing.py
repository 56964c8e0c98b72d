"""Routing state and failure-detector views, kept as two kinds of items in the (global) ledger table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.adapters.aws.errors import outage_as_unavailable
from engine.adapters.aws.ledger_items import from_attribute_values, timestamp, to_attribute_values
from engine.failover import PeerView, RegionState

ROUTING_ITEM = "routing#regions"


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class DynamoRouting:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def region_states(self) -> dict[str, RegionState]:
        with outage_as_unavailable("dynamodb"):
            response = self._client.get_item(TableName=self._table, Key={"id": {"S": ROUTING_ITEM}}, ConsistentRead=True)
        regions = from_attribute_values(response.get("Item", {})).get("regions", {})
        return {
            name: RegionState(name, state["up"], _moment(state.get("changed_at")), state.get("declared_by"))
            for name, state in regions.items()
        }

    def declare(self, state: RegionState) -> None:
        value = {"up": state.up, "changed_at": timestamp(state.changed_at) if state.changed_at else None, "declared_by": state.declared_by}
        with outage_as_unavailable("dynamodb"):
            self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": ROUTING_ITEM}},
                UpdateExpression="SET #regions = if_not_exists(#regions, :empty)",
                ExpressionAttributeNames={"#regions": "regions"},
                ExpressionAttributeValues={":empty": {"M": {}}},
            )
            self._client.update_item(
                TableName=self._table,
                Key={"id": {"S": ROUTING_ITEM}},
                UpdateExpression="SET #regions.#region = :state",
                ExpressionAttributeNames={"#regions": "regions", "#region": state.region},
                ExpressionAttributeValues=to_attribute_values({":state": value}),
            )

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
        item = {
            "id": _view_key(view.observer, view.peer)["id"]["S"],
            "consecutive_failures": view.consecutive_failures,
            "consecutive_successes": view.consecutive_successes,
            "down": view.down,
            "changed_at": timestamp(view.changed_at) if view.changed_at else None,
        }
        with outage_as_unavailable("dynamodb"):
            self._client.put_item(TableName=self._table, Item=to_attribute_values(item))


def _view_key(observer: str, peer: str) -> dict[str, dict[str, str]]:
    return {"id": {"S": f"detector#{observer}#{peer}"}}
