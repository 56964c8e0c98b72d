"""The template deployed into moto by rp2's deploy code; the deployed handlers then run the whole workflow."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from lxml import etree

from engine.deploy.deploy import Deployment
from engine.deploy.stack import DeployedHandlers, DeployedStack, paused_mappings
from engine.settings import Settings
from tests.conftest import sample
from tests.deploy.conftest import DEPLOYMENT_ID, PEER, REGION

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"}
# the resource types moto's CloudFormation does not implement: the README lists them, test_template checks them
MOTO_LACKS = {
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Stage",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::DynamoDB::GlobalTable",
    "AWS::S3::BucketPolicy",
    "AWS::Scheduler::Schedule",
}

Deployed = tuple[boto3.Session, Deployment, DeployedStack]


def test_stack_is_created_with_everything_moto_implements(deployed: Deployed) -> None:
    _session, deployment, stack = deployed
    assert (deployment.action, deployment.status) == ("created", "CREATE_COMPLETE")
    assert set(deployment.not_created.values()) == MOTO_LACKS
    assert deployment.stood_in == ["LedgerTable"]
    assert set(stack.functions) == {"ApiFunction", "InboxFunction", "ProcessFunction", "ReleaseFunction", "TimeoutFunction", "RecoverFunction"}
    assert deployment.outputs["LedgerTableName"] == f"rp2-transaction-{DEPLOYMENT_ID}"
    assert deployment.outputs["ArchiveBucketName"] == f"rp2-runtime-{REGION}-{DEPLOYMENT_ID}"
    assert deployment.outputs["PeerRegion"] == PEER


def test_functions_read_back_with_their_handlers_and_environment(deployed: Deployed) -> None:
    _session, _deployment, stack = deployed
    assert {name: f.handler for name, f in stack.functions.items()} == {
        "ApiFunction": "engine.lambdas.api.handler",
        "InboxFunction": "engine.lambdas.workers.inbox_handler",
        "ProcessFunction": "engine.lambdas.workers.process_handler",
        "ReleaseFunction": "engine.lambdas.workers.release_handler",
        "TimeoutFunction": "engine.lambdas.schedules.timeout_handler",
        "RecoverFunction": "engine.lambdas.schedules.recover_handler",
    }
    for function in stack.functions.values():
        assert function.name == f"rp2-{function.logical_id.removesuffix('Function').lower()}-{DEPLOYMENT_ID}"
        settings = Settings.from_env(function.environment)
        assert (settings.region, settings.peer_region, settings.deployment_id) == (REGION, PEER, DEPLOYMENT_ID)
        assert (settings.sla_seconds, settings.max_message_bytes) == (30, 184_320)
        assert function.environment["RP2_CONSISTENCY"] == "eventual"


def test_deployed_resources_carry_the_names_and_properties_the_engine_expects(deployed: Deployed) -> None:
    session, _deployment, stack = deployed
    settings = Settings.from_env(stack.function("ApiFunction").environment)
    sqs = session.client("sqs")
    for step in ("inbox", "process", "release"):
        mapping = stack.mappings[step]
        assert mapping.function_name == f"rp2-{step}-{DEPLOYMENT_ID}"
        assert mapping.response_types == ("ReportBatchItemFailures",)
        assert mapping.queue_url.endswith("/" + settings.queue_name(step))
        attributes = sqs.get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert attributes["FifoQueue"] == "true"
        assert redrive["deadLetterTargetArn"].endswith(":" + settings.dead_letter_queue_name(step))
        assert int(redrive["maxReceiveCount"]) == 5
    s3 = session.client("s3")
    s3.head_bucket(Bucket=settings.archive_bucket)  # versioning, encryption, Object Lock: moto skips them (test_template)
    table = session.client("dynamodb").describe_table(TableName=settings.ledger_table)["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["inflight"]
    topics = [t["TopicArn"] for t in session.client("sns").list_topics()["Topics"]]
    assert any(arn.endswith(":" + settings.notification_topic) for arn in topics)


def reply_of(handlers: DeployedHandlers, transaction_id: str, identity: str) -> Any:
    answer = handlers.call("POST", "/outbox", identity=identity, headers={"X-Transaction-Id": transaction_id})
    assert answer.status == 200, answer.body
    return etree.fromstring(answer.body["message"].encode("utf-8"))


def test_the_deployed_handlers_run_the_upstream_sample_to_acsc(deployed: Deployed) -> None:
    session, _deployment, stack = deployed
    with paused_mappings(session, stack, None), DeployedHandlers(session, stack) as handlers:
        opened = handlers.call("GET", "/uuid", identity="client-a", headers={"X-Message-Type": "pacs.008"})
        assert opened.status == 200
        transaction_id = opened.body["transaction_id"]
        posted = handlers.call(
            "POST", "/inbox", identity="client-a",
            headers={"X-Transaction-Id": transaction_id, "X-Message-Type": "pacs.008", "Content-Type": "application/json"},
            body=sample("upstream_pacs.008.xml"),
        )
        assert posted.status == 200, posted.body
        assert handlers.drain() == 3  # inbox, process, release: one record each, through the mapped functions

        record = handlers.ports.ledger.get(transaction_id)
        assert [entry.status.value for entry in record.history] == ["ACCP", "ACTC", "ACSP", "ACSC"]
        reply = reply_of(handlers, transaction_id, "client-a")
        assert reply.findtext(".//p:OrgnlGrpInfAndSts/p:OrgnlMsgId", namespaces=NS) == "qE5yVJIHAPxNoLiC"
        assert reply.findtext(".//p:TxInfAndSts/p:TxSts", namespaces=NS) == "ACSC"
        stranger = handlers.call("POST", "/outbox", identity="client-b", headers={"X-Transaction-Id": transaction_id})
        assert stranger.status == 404
        assert handlers.run_timeout_job() == []
        assert handlers.call("GET", "/", identity="client-a").status == 200
    assert all(mapping["State"] == "Enabled" for mapping in session.client("lambda").list_event_source_mappings()["EventSourceMappings"])


def test_deploying_again_updates_the_same_stack(deployed: Deployed, tmp_path) -> None:
    from engine.deploy.deploy import deploy
    from tests.deploy.conftest import STACK, parameters, small_artifact

    session, first, _stack = deployed
    again = deploy(session, STACK, parameters(first.artifact_uri.split("/")[2], ""), small_artifact(tmp_path / "a.zip"))
    assert again.stack_id == first.stack_id
    assert again.action in ("updated", "unchanged")
    assert again.status in ("UPDATE_COMPLETE", "CREATE_COMPLETE")
