"""The FIFO queues that feed the steps, on SQS: the send side for steps, the receive side for local drivers."""

from __future__ import annotations

from typing import Any, Sequence

from engine.adapters.aws.errors import any_failure_as_unavailable, outage_as_unavailable
from engine.adapters.memory import QueuedMessage

STEP_QUEUES = ("inbox", "process", "release")
_SQS_BATCH = 10


class SqsQueues:
    def __init__(self, client: Any, queue_urls: dict[str, str]) -> None:
        self._client = client
        self._urls = dict(queue_urls)

    def send(self, step: str, body: str, *, group: str, deduplication: str) -> None:
        with outage_as_unavailable("sqs"):
            self._client.send_message(
                QueueUrl=self._urls[step], MessageBody=body, MessageGroupId=group, MessageDeduplicationId=deduplication
            )

    def receive(self, step: str, max_messages: int) -> list[QueuedMessage]:
        """Up to ``max_messages`` visible messages, in batches of at most 10, without waiting for more."""
        received: list[QueuedMessage] = []
        while len(received) < max_messages:
            with outage_as_unavailable("sqs"):
                response = self._client.receive_message(
                    QueueUrl=self._urls[step],
                    MaxNumberOfMessages=min(_SQS_BATCH, max_messages - len(received)),
                    MessageSystemAttributeNames=["ApproximateReceiveCount", "MessageGroupId"],
                    WaitTimeSeconds=0,
                )
            batch = response.get("Messages", [])
            if not batch:
                break
            received.extend(_queued_message(message) for message in batch)
        return received

    def acknowledge(self, step: str, messages: Sequence[QueuedMessage]) -> None:
        """Delete processed messages. A failed delete only means a redelivery, which every step tolerates."""
        for chunk in _chunks(messages):
            with outage_as_unavailable("sqs"):
                self._client.delete_message_batch(
                    QueueUrl=self._urls[step],
                    Entries=[{"Id": str(n), "ReceiptHandle": message.receipt} for n, message in enumerate(chunk)],
                )

    def release_unprocessed(self, step: str, messages: Sequence[QueuedMessage]) -> None:
        """Make failed messages visible again now instead of when their visibility timeout expires."""
        for chunk in _chunks(messages):
            with outage_as_unavailable("sqs"):
                self._client.change_message_visibility_batch(
                    QueueUrl=self._urls[step],
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": message.receipt, "VisibilityTimeout": 0}
                        for n, message in enumerate(chunk)
                    ],
                )

    def depth(self, step: str) -> int:
        with outage_as_unavailable("sqs"):
            attributes = self._client.get_queue_attributes(
                QueueUrl=self._urls[step], AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def check(self) -> None:
        for url in self._urls.values():
            with any_failure_as_unavailable("sqs"):
                self._client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])


def _queued_message(message: dict[str, Any]) -> QueuedMessage:
    attributes = message["Attributes"]
    return QueuedMessage(
        message_id=message["MessageId"],
        body=message["Body"],
        group=attributes["MessageGroupId"],
        receive_count=int(attributes["ApproximateReceiveCount"]),
        receipt=message["ReceiptHandle"],
    )


def _chunks(messages: Sequence[QueuedMessage]) -> list[Sequence[QueuedMessage]]:
    return [messages[start : start + _SQS_BATCH] for start in range(0, len(messages), _SQS_BATCH)]
