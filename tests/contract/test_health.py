import boto3
import pytest
from botocore.config import Config

from engine.adapters.aws.ledger import DynamoLedger
from engine.ports import Unavailable


def test_check_passes_on_a_healthy_backend(backend):
    backend.ports.ledger.check()
    backend.ports.archive.check()
    backend.ports.queues.check()


def test_ledger_check_fails_without_its_table(aws):
    aws.client("dynamodb").delete_table(TableName=aws.provisioned.table)

    with pytest.raises(Unavailable):
        aws.ports.ledger.check()


def test_archive_check_fails_without_its_bucket(aws):
    aws.client("s3").delete_bucket(Bucket=aws.provisioned.bucket)

    with pytest.raises(Unavailable):
        aws.ports.archive.check()


def test_queues_check_fails_without_a_queue(aws):
    aws.client("sqs").delete_queue(QueueUrl=aws.provisioned.queue_urls["release"])

    with pytest.raises(Unavailable):
        aws.ports.queues.check()


def test_an_unreachable_endpoint_is_unavailable_for_every_call(fake_aws_environment):
    # one attempt: the point is the translation of the connection error, not botocore's retries
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        config=Config(retries={"total_max_attempts": 1}),
    )
    ledger = DynamoLedger(client, "rp2-transaction-local")

    with pytest.raises(Unavailable):
        ledger.check()
    with pytest.raises(Unavailable):
        ledger.get("6f1c2a3e-0000-4000-8000-000000000001")
