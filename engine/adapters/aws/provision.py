"""Create, idempotently, the AWS resources one region of rp2 runs on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from engine.adapters.aws.clients import aws_client
from engine.adapters.aws.errors import error_code
from engine.adapters.aws.ledger import INFLIGHT_DEADLINE, INFLIGHT_INDEX, INFLIGHT_SHARD, TTL_ATTRIBUTE
from engine.adapters.aws.queues import STEP_QUEUES
from engine.settings import Settings

VISIBILITY_TIMEOUT_SECONDS = 30
MAX_RECEIVE_COUNT = 5
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
_QUEUE_EXISTS_CODES = ("QueueAlreadyExists", "QueueNameExists")


@dataclass(frozen=True)
class ProvisionedNames:
    table: str
    bucket: str
    queue_urls: dict[str, str]
    dead_letter_queue_urls: dict[str, str]
    topic_arn: str


def provision(settings: Settings, session: boto3.Session) -> ProvisionedNames:
    _ensure_table(aws_client(session, "dynamodb", settings), settings.ledger_table)
    _ensure_bucket(aws_client(session, "s3", settings), settings.archive_bucket, settings.region)
    sqs = aws_client(session, "sqs", settings)
    queue_urls: dict[str, str] = {}
    dead_letter_queue_urls: dict[str, str] = {}
    for step in STEP_QUEUES:
        dead_letter_queue_urls[step] = _ensure_queue(
            sqs,
            settings.dead_letter_queue_name(step),
            {"FifoQueue": "true", "MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)},
        )
        dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_queue_urls[step], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}
        queue_urls[step] = _ensure_queue(
            sqs,
            settings.queue_name(step),
            {
                "FifoQueue": "true",
                "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
                "RedrivePolicy": json.dumps(redrive),
            },
        )
    topic_arn = aws_client(session, "sns", settings).create_topic(Name=settings.notification_topic)["TopicArn"]
    return ProvisionedNames(
        table=settings.ledger_table,
        bucket=settings.archive_bucket,
        queue_urls=queue_urls,
        dead_letter_queue_urls=dead_letter_queue_urls,
        topic_arn=topic_arn,
    )


def _ensure_table(client: Any, name: str) -> None:
    try:
        client.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": INFLIGHT_SHARD, "AttributeType": "S"},
                {"AttributeName": INFLIGHT_DEADLINE, "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": INFLIGHT_INDEX,
                    "KeySchema": [
                        {"AttributeName": INFLIGHT_SHARD, "KeyType": "HASH"},
                        {"AttributeName": INFLIGHT_DEADLINE, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    except ClientError as error:
        if error_code(error) != "ResourceInUseException":
            raise
    client.get_waiter("table_exists").wait(TableName=name)
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl["TimeToLiveStatus"] not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )


def _ensure_bucket(client: Any, name: str, region: str) -> None:
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        client.create_bucket(Bucket=name, **location)
    except ClientError as error:
        if error_code(error) != "BucketAlreadyOwnedByYou":
            raise
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _ensure_queue(client: Any, name: str, attributes: dict[str, str]) -> str:
    """Create the queue, or bring an existing one to these attributes (CreateQueue refuses different ones)."""
    try:
        return client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as error:
        if error_code(error) not in _QUEUE_EXISTS_CODES:
            raise
    url = client.get_queue_url(QueueName=name)["QueueUrl"]
    mutable = {key: value for key, value in attributes.items() if key != "FifoQueue"}
    client.set_queue_attributes(QueueUrl=url, Attributes=mutable)
    return url
