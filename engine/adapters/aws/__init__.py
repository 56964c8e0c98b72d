"""The AWS adapters (boto3): the same code talks to real AWS, moto in-process, moto server or any endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from engine.adapters.aws.archive import S3Archive
from engine.adapters.aws.clients import aws_client
from engine.adapters.aws.errors import error_code
from engine.adapters.aws.ledger import DynamoLedger
from engine.adapters.aws.notifier import SnsNotifier
from engine.adapters.aws.peer_health import HttpPeerHealth
from engine.adapters.aws.routing import DynamoRouting
from engine.adapters.aws.queues import STEP_QUEUES, SqsQueues
from engine.ports import Clock, Ids
from engine.settings import Settings
from engine.wiring import Ports, RandomIds, SystemClock

_MISSING_QUEUE_CODES = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


class MissingResource(LookupError):
    """A queue or topic the ports look up by name does not exist: nothing created it (``provision``, a deployed stack)."""


def aws_ports(
    settings: Settings, session: boto3.Session | None = None, clock: Clock | None = None, ids: Ids | None = None
) -> Ports:
    """Ports on resources that ``provision`` created; looks them up by name, creates nothing."""
    session = session or boto3.Session()
    sqs = aws_client(session, "sqs", settings)
    sns = aws_client(session, "sns", settings)
    dynamodb = aws_client(session, "dynamodb", settings)
    queue_urls = {step: _queue_url(sqs, settings.queue_name(step)) for step in STEP_QUEUES}
    return Ports(
        settings=settings,
        ledger=DynamoLedger(dynamodb, settings.ledger_table),
        archive=S3Archive(aws_client(session, "s3", settings), settings.archive_bucket),
        queues=SqsQueues(sqs, queue_urls),
        notifier=SnsNotifier(sns, _topic_arn(sns, settings.notification_topic)),
        clock=clock or SystemClock(),
        ids=ids or RandomIds(),
        routing=DynamoRouting(dynamodb, settings.ledger_table),
        peer_health=HttpPeerHealth(settings.peer_health_url, settings.probe_timeout_seconds),
    )


def _queue_url(client: Any, name: str) -> str:
    try:
        return client.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if error_code(error) not in _MISSING_QUEUE_CODES:
            raise
    raise MissingResource(f"SQS queue {name} does not exist")


def _topic_arn(client: Any, name: str) -> str:
    for page in client.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    raise MissingResource(f"SNS topic {name} does not exist")
