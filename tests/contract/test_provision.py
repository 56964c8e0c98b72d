import json

import pytest

from engine.adapters.aws import MissingResource, aws_ports
from engine.adapters.aws.provision import provision
from engine.settings import Settings

STEPS = ("inbox", "process", "release")


@pytest.fixture
def eu_west_1(mocked_aws):
    return Settings(region="eu-west-1", peer_region="eu-central-1", deployment_id="t1"), mocked_aws


def test_provision_is_idempotent_outside_us_east_1(eu_west_1):
    settings, session = eu_west_1

    first = provision(settings, session)
    second = provision(settings, session)

    assert second == first
    assert first.table == "rp2-transaction-t1"
    assert first.bucket == "rp2-runtime-eu-west-1-t1"
    assert first.topic_arn.endswith(":rp2-notification-t1")
    s3 = session.client("s3", region_name="eu-west-1")
    assert s3.get_bucket_location(Bucket=first.bucket)["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_versioning(Bucket=first.bucket)["Status"] == "Enabled"


def test_the_table_has_the_inflight_index_and_ttl(eu_west_1):
    settings, session = eu_west_1
    provision(settings, session)
    dynamodb = session.client("dynamodb", region_name="eu-west-1")

    table = dynamodb.describe_table(TableName=settings.ledger_table)["Table"]

    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "inflight"
    assert index["KeySchema"] == [
        {"AttributeName": "inflight_shard", "KeyType": "HASH"},
        {"AttributeName": "inflight_deadline", "KeyType": "RANGE"},
    ]
    assert index["Projection"]["ProjectionType"] == "ALL"
    ttl = dynamodb.describe_time_to_live(TableName=settings.ledger_table)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_every_step_queue_is_fifo_and_redrives_to_its_dead_letter_queue(eu_west_1):
    settings, session = eu_west_1
    provisioned = provision(settings, session)
    sqs = session.client("sqs", region_name="eu-west-1")

    for step in STEPS:
        attributes = sqs.get_queue_attributes(QueueUrl=provisioned.queue_urls[step], AttributeNames=["All"])["Attributes"]
        dead_letter = sqs.get_queue_attributes(
            QueueUrl=provisioned.dead_letter_queue_urls[step], AttributeNames=["QueueArn", "FifoQueue"]
        )["Attributes"]
        assert provisioned.queue_urls[step].endswith(f"/rp2-{step}-t1.fifo")
        assert provisioned.dead_letter_queue_urls[step].endswith(f"/rp2-{step}-dlq-t1.fifo")
        assert (attributes["FifoQueue"], attributes["VisibilityTimeout"]) == ("true", "30")
        assert dead_letter["FifoQueue"] == "true"
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dead_letter["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == 5


def test_aws_ports_find_what_provision_created(eu_west_1):
    settings, session = eu_west_1
    provision(settings, session)

    ports = aws_ports(settings, session)

    ports.ledger.check()
    ports.archive.check()
    ports.queues.check()


def test_aws_ports_create_nothing(eu_west_1):
    settings, session = eu_west_1

    with pytest.raises(MissingResource, match=f"^SQS queue {settings.queue_name('inbox')} does not exist$"):
        aws_ports(settings, session)

    assert session.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []
