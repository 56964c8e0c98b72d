"""The ``backend`` fixture: every contract test runs on the memory adapters and on the AWS adapters over moto."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws

from engine.adapters.aws import aws_ports
from engine.adapters.aws.clients import aws_client
from engine.adapters.aws.provision import ProvisionedNames, provision
from engine.settings import Settings
from engine.wiring import Ports, memory_ports

FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}

# one loader for every test's session: parsing the service models again per test would double the suite's time
_SERVICE_MODELS = botocore.loaders.create_loader()


def _fresh_session() -> boto3.Session:
    session = botocore.session.Session()
    session.register_component("data_loader", _SERVICE_MODELS)
    return boto3.Session(botocore_session=session)


@dataclass
class Backend:
    name: str
    ports: Ports
    session: boto3.Session | None = None
    provisioned: ProvisionedNames | None = None

    def client(self, service: str) -> Any:
        return aws_client(self.session, service, self.ports.settings)


@pytest.fixture
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def mocked_aws(fake_aws_environment: None) -> Iterator[boto3.Session]:
    """A session on a fresh, empty moto account."""
    with mock_aws():
        yield _fresh_session()


def moto_backend(session: boto3.Session) -> Backend:
    settings = Settings()
    provisioned = provision(settings, session)
    return Backend("moto", aws_ports(settings, session), session, provisioned)


@pytest.fixture(params=["memory", "moto"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        return Backend("memory", memory_ports(Settings()))
    return moto_backend(request.getfixturevalue("mocked_aws"))


@pytest.fixture
def aws(mocked_aws: boto3.Session) -> Backend:
    """The moto backend only: for what the memory adapters do not have (resources to break, AWS requests)."""
    return moto_backend(mocked_aws)


def subscribe_probe_queue(backend: Backend) -> Callable[[], list[dict[str, Any]]]:
    """Subscribe a fresh SQS queue to the notification topic (raw delivery); returns a reader of its messages."""
    sqs = backend.client("sqs")
    url = sqs.create_queue(QueueName="notification-probe")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    backend.client("sns").subscribe(
        TopicArn=backend.provisioned.topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    def read() -> list[dict[str, Any]]:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        return response.get("Messages", [])

    return read


@pytest.fixture
def read_notifications(backend: Backend) -> Callable[[], list[dict[str, str]]]:
    """The JSON bodies of the notifications published so far."""
    if backend.name == "memory":
        published = backend.ports.notifier.published
        return lambda: [{"transaction_id": t, "owner": o, "status": s} for t, o, s in published]
    read = subscribe_probe_queue(backend)
    return lambda: [json.loads(message["Body"]) for message in read()]


@pytest.fixture
def read_raw_notifications(aws: Backend) -> Callable[[], list[dict[str, Any]]]:
    """The SQS messages the notifications arrived as, with their message attributes."""
    return subscribe_probe_queue(aws)
