"""Status notifications on one SNS topic; owner and status are also message attributes, for subscription filters."""

from __future__ import annotations

import json
from typing import Any

from engine.adapters.aws.errors import outage_as_unavailable


class SnsNotifier:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, transaction_id: str, owner: str, status: str) -> None:
        message = {"transaction_id": transaction_id, "owner": owner, "status": status}
        with outage_as_unavailable("sns"):
            self._client.publish(
                TopicArn=self._topic_arn,
                Message=json.dumps(message),
                MessageAttributes={
                    "owner": {"DataType": "String", "StringValue": owner},
                    "status": {"DataType": "String", "StringValue": status},
                },
            )
