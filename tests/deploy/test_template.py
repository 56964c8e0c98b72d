"""The SAM template: lint clean, translated offline, and the properties of what moto cannot deploy, checked here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from engine.adapters.aws.ledger import INFLIGHT_DEADLINE, INFLIGHT_INDEX, INFLIGHT_SHARD, TTL_ATTRIBUTE
from engine.adapters.aws.provision import MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS, provision
from engine.api.http import ROUTE_SCOPES
from engine.deploy.deploy import expected_resources
from engine.deploy.stack import load_handler
from engine.deploy.template import TEMPLATE_PATH, TemplateError, translate
from engine.settings import Settings
from tests.deploy.conftest import REGION, parameters

STEPS = ("Inbox", "Process", "Release")
TABLE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/rp2-transaction-${DeploymentId}"}


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body["Properties"] for name, body in template["Resources"].items() if body["Type"] == kind}


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)


def test_cfn_lint_finds_nothing_at_any_level() -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE_PATH, ManualArgs(regions=["us-east-1", "us-west-2", "eu-west-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_translation_is_offline_and_leaves_no_serverless_resource(translated: dict[str, Any]) -> None:
    kinds = {body["Type"] for body in translated["Resources"].values()}
    assert not any(kind.startswith("AWS::Serverless::") for kind in kinds)
    assert "Transform" not in translated


def test_a_translation_error_names_the_resource(sam_template: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(sam_template))
    broken["Resources"]["ApiFunction"]["Properties"]["Events"] = {"Bad": {"Type": "Api", "Properties": {"Method": "get"}}}
    with pytest.raises(TemplateError, match="ApiFunction"):
        translate(broken, parameters().as_cloudformation(), REGION)


def test_every_function_has_an_existing_handler_and_the_engine_settings(translated: dict[str, Any]) -> None:
    functions = resources(translated, "AWS::Lambda::Function")
    assert {name: body["Handler"] for name, body in functions.items()} == {
        "ApiFunction": "engine.lambdas.api.handler",
        "InboxFunction": "engine.lambdas.workers.inbox_handler",
        "ProcessFunction": "engine.lambdas.workers.process_handler",
        "ReleaseFunction": "engine.lambdas.workers.release_handler",
        "TimeoutFunction": "engine.lambdas.schedules.timeout_handler",
        "RecoverFunction": "engine.lambdas.schedules.recover_handler",
    }
    setting_names = {f"RP2_{name.upper()}" for name in Settings.__dataclass_fields__}
    for name, body in functions.items():
        assert callable(load_handler(body["Handler"])), name
        assert body["Runtime"] == "python3.12"
        assert body["Code"] == {"S3Bucket": {"Ref": "ArtifactBucket"}, "S3Key": {"Ref": "ArtifactKey"}}
        assert body["Architectures"] == [{"Ref": "Architecture"}]
        variables = body["Environment"]["Variables"]
        assert {name for name in variables if name.startswith("RP2_")} <= setting_names
        assert {name for name in variables if not name.startswith("RP2_")} == {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}
        assert "RP2_ENDPOINT_URL" not in variables
        assert variables["RP2_PEER_REGION"] == {"Fn::If": ["IsPrimaryRegion", {"Ref": "SecondaryRegion"}, {"Ref": "PrimaryRegion"}]}
    assert functions["TimeoutFunction"]["Timeout"] == 60
    recover = functions["RecoverFunction"]["Environment"]["Variables"]
    assert recover["RP2_PEER_HEALTH_URL"] == {"Ref": "PeerHealthUrl"}
    assert {"RP2_PROBE_TIMEOUT_SECONDS", "RP2_DOWN_AFTER_PROBES", "RP2_UP_AFTER_PROBES"} <= set(recover)


def test_queues_are_fifo_per_transaction_group_with_dead_letter_queues(translated: dict[str, Any]) -> None:
    queues = resources(translated, "AWS::SQS::Queue")
    functions = resources(translated, "AWS::Lambda::Function")
    for step in STEPS:
        queue = queues[f"{step}Queue"]
        assert queue["FifoQueue"] is True
        assert queue["QueueName"] == {"Fn::Sub": f"rp2-{step.lower()}-${{DeploymentId}}.fifo"}
        assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == ("messageGroup", "perMessageGroupId")
        assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [f"{step}DeadLetterQueue", "Arn"]}, "maxReceiveCount": MAX_RECEIVE_COUNT}
        assert queue["VisibilityTimeout"] == VISIBILITY_TIMEOUT_SECONDS >= functions[f"{step}Function"]["Timeout"]
        dead_letters = queues[f"{step}DeadLetterQueue"]
        assert dead_letters["FifoQueue"] is True
        assert dead_letters["QueueName"] == {"Fn::Sub": f"rp2-{step.lower()}-dlq-${{DeploymentId}}.fifo"}


def test_each_queue_feeds_its_worker_with_partial_batch_failures(translated: dict[str, Any]) -> None:
    mappings = resources(translated, "AWS::Lambda::EventSourceMapping")
    assert {
        (body["EventSourceArn"]["Fn::GetAtt"][0], body["FunctionName"]["Ref"], tuple(body["FunctionResponseTypes"]), body["BatchSize"])
        for body in mappings.values()
    } == {(f"{step}Queue", f"{step}Function", ("ReportBatchItemFailures",), 10) for step in STEPS}


def test_ledger_is_the_global_table_provision_creates(translated: dict[str, Any], fake_aws: None) -> None:
    """moto's CloudFormation has no AWS::DynamoDB::GlobalTable: its properties are checked here against the
    table that engine.adapters.aws.provision creates (the one the contract tests run the ledger on)."""
    body = translated["Resources"]["LedgerTable"]
    table = body["Properties"]
    assert body["Condition"] == "IsPrimaryRegion"
    assert body["DeletionPolicy"] == "Retain"
    with mock_aws():
        settings = Settings(deployment_id="static")
        provision(settings, boto3.Session(region_name=settings.region))
        client = boto3.client("dynamodb", region_name=settings.region)
        provisioned = client.describe_table(TableName=settings.ledger_table)["Table"]
        ttl = client.describe_time_to_live(TableName=settings.ledger_table)["TimeToLiveDescription"]
    assert table["TableName"] == {"Fn::Sub": "rp2-transaction-${DeploymentId}"}
    assert table["KeySchema"] == provisioned["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(provisioned["AttributeDefinitions"], key=str)
    [index] = provisioned["GlobalSecondaryIndexes"]
    assert table["GlobalSecondaryIndexes"] == [
        {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
    ]
    assert index["IndexName"] == INFLIGHT_INDEX
    assert [key["AttributeName"] for key in index["KeySchema"]] == [INFLIGHT_SHARD, INFLIGHT_DEADLINE]
    assert table["BillingMode"] == provisioned["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert ttl["AttributeName"] == TTL_ATTRIBUTE
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["MultiRegionConsistency"] == {"Fn::If": ["IsStrong", "STRONG", "EVENTUAL"]}
    assert table["GlobalTableWitnesses"] == {"Fn::If": ["IsStrong", [{"Region": {"Ref": "WitnessRegion"}}], {"Ref": "AWS::NoValue"}]}
    assert [replica["Region"] for replica in table["Replicas"]] == [{"Ref": "PrimaryRegion"}, {"Ref": "SecondaryRegion"}]
    for replica in table["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_ledger_exists_only_in_the_primary_regions_stack(translated: dict[str, Any]) -> None:
    primary = expected_resources(translated, parameters().as_cloudformation(), "us-east-1")
    secondary = expected_resources(translated, parameters().as_cloudformation(), "us-west-2")
    assert primary["LedgerTable"] == "AWS::DynamoDB::GlobalTable"
    assert "LedgerTable" not in secondary
    assert set(primary) - set(secondary) == {"LedgerTable"}


def test_archive_bucket_is_versioned_encrypted_and_governance_locked(translated: dict[str, Any]) -> None:
    """moto ignores Object Lock and bucket policies in CloudFormation: checked here."""
    bucket = translated["Resources"]["ArchiveBucket"]
    properties = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert properties["BucketName"] == {"Fn::Sub": "rp2-runtime-${AWS::Region}-${DeploymentId}"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert properties["ObjectLockEnabled"] is True
    assert properties["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": {"Ref": "RetentionDays"}}},
    }
    assert "COMPLIANCE" not in json.dumps(translated)
    assert "LoggingConfiguration" not in properties  # never logs written into itself
    assert all(properties["PublicAccessBlockConfiguration"].values())
    [deny] = translated["Resources"]["ArchiveBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_cognito_gives_client_credentials_with_read_and_write_scopes(translated: dict[str, Any]) -> None:
    """moto's CloudFormation has no Cognito resources: checked here."""
    server = translated["Resources"]["ResourceServer"]["Properties"]
    assert server["Identifier"] == "rp2"
    assert {scope["ScopeName"] for scope in server["Scopes"]} == {"read", "write"}
    client = translated["Resources"]["ClientCredentialsClient"]["Properties"]
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["client_credentials"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["rp2/read", "rp2/write"]
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    assert translated["Resources"]["UserPoolDomain"]["Properties"]["UserPoolId"] == {"Ref": "UserPool"}
    assert translated["Resources"]["UserPool"]["DeletionPolicy"] == "Retain"


def test_every_route_but_health_needs_a_cognito_token_with_the_same_scope_as_rp2_serve(translated: dict[str, Any]) -> None:
    authorizer = translated["Resources"]["CognitoAuthorizer"]["Properties"]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    paths = {name: "/" + body["PathPart"] for name, body in resources(translated, "AWS::ApiGateway::Resource").items()}
    routes = {}
    for method in resources(translated, "AWS::ApiGateway::Method").values():
        resource = method["ResourceId"]
        path = "/" if resource == {"Fn::GetAtt": ["Api", "RootResourceId"]} else paths[resource["Ref"]]
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert "${ApiFunction.Arn}" in method["Integration"]["Uri"]["Fn::Sub"]
        if method["AuthorizationType"] == "NONE":
            assert "AuthorizerId" not in method and "AuthorizationScopes" not in method
            routes[(method["HttpMethod"], path)] = None
            continue
        assert (method["AuthorizationType"], method["AuthorizerId"]) == ("COGNITO_USER_POOLS", {"Ref": "CognitoAuthorizer"})
        [scope] = method["AuthorizationScopes"]
        routes[(method["HttpMethod"], path)] = scope
    assert routes == ROUTE_SCOPES
    assert routes[("GET", "/")] is None  # open, for the peer's recover job (see the template)
    stage = translated["Resources"]["ApiStage"]["Properties"]
    assert (stage["StageName"], stage["DeploymentId"]) == ("v1", {"Ref": "ApiDeployment"})
    assert set(translated["Resources"]["ApiDeployment"]["DependsOn"]) == {"HealthMethod", "UuidMethod", "InboxMethod", "OutboxMethod"}


def test_timeout_and_recover_jobs_run_every_minute(translated: dict[str, Any]) -> None:
    """moto's CloudFormation has no AWS::Scheduler::Schedule: checked here."""
    schedules = resources(translated, "AWS::Scheduler::Schedule")
    assert set(schedules) == {"TimeoutFunctionEveryMinute", "RecoverFunctionEveryMinute"}
    for name, schedule in schedules.items():
        function = name.removesuffix("EveryMinute")
        assert schedule["ScheduleExpression"] == "rate(1 minute)"
        assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        role = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
        assert [(s["Action"], s["Resource"]) for s in statements(translated, role)] == [
            ("lambda:InvokeFunction", {"Fn::GetAtt": [function, "Arn"]})
        ]
    assert "State" not in schedules["TimeoutFunctionEveryMinute"] or schedules["TimeoutFunctionEveryMinute"]["State"] == "ENABLED"
    # the recover job waits for the peer's health URL: without it, it would fail every minute
    assert schedules["RecoverFunctionEveryMinute"]["State"] == {"Fn::If": ["HasPeerHealthUrl", "ENABLED", "DISABLED"]}


def test_roles_are_least_privilege(translated: dict[str, Any]) -> None:
    roles = {body["Role"]["Fn::GetAtt"][0]: name for name, body in resources(translated, "AWS::Lambda::Function").items()}
    assert len(set(roles)) == 6  # one role per function
    for role, function in roles.items():
        properties = translated["Resources"][role]["Properties"]
        assert properties["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
        for statement in statements(translated, role):
            assert statement["Effect"] == "Allow"
            assert not any("*" in action for action in actions(statement)), (function, statement)
            if statement["Resource"] == "*":
                assert actions(statement) == ["sns:ListTopics"], (function, statement)  # ListTopics has no resource ARN
    # a worker consumes its own queue only, and writes the ledger with exactly the calls it makes
    for step in STEPS:
        consume = [s for s in statements(translated, f"{step}FunctionRole") if "sqs:ReceiveMessage" in actions(s)]
        assert [s["Resource"] for s in consume] == [{"Fn::GetAtt": [f"{step}Queue", "Arn"]}]
    ledger = {
        function: sorted(a for s in statements(translated, role) if s["Resource"] == TABLE_ARN for a in actions(s))
        for role, function in roles.items()
    }
    assert ledger == {
        "ApiFunction": ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"],
        "InboxFunction": ["dynamodb:UpdateItem"],
        "ProcessFunction": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
        "ReleaseFunction": ["dynamodb:UpdateItem"],
        "TimeoutFunction": ["dynamodb:UpdateItem"],
        "RecoverFunction": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    }


def test_template_file_is_where_the_deploy_code_looks() -> None:
    assert TEMPLATE_PATH == Path(__file__).resolve().parents[2] / "iac" / "template.yaml"
