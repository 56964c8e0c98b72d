"""``rp2 deploy``: upload the artifact, translate the SAM template offline, create or update the stack.

The same code path serves real AWS and any endpoint that speaks the CloudFormation API (moto server). The
SAM transform is done here with aws-sam-translator rather than by CloudFormation, so endpoints without the
AWS::Serverless transform can take the template. Where an endpoint creates no resource for a type it does
not implement, the deployment says so (on AWS a complete stack has them all); for the ledger table, which
every function needs, it then creates the regional table from the template's own properties.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, WaiterError

from engine.deploy.template import TEMPLATE_PATH, StackParameters, load_sam_template, translate

TEMPLATE_BODY_LIMIT = 51_200
_NO_UPDATES = "No updates are to be performed"
_REPLACEABLE_STATES = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_COMPLETE")
_PATH_STYLE = Config(s3={"addressing_style": "path"})


class DeployError(RuntimeError):
    """The stack could not be created or updated."""


@dataclass
class Deployment:
    stack_name: str
    stack_id: str
    status: str
    action: str
    artifact_uri: str
    outputs: dict[str, str]
    created: dict[str, str]
    not_created: dict[str, str] = field(default_factory=dict)
    stood_in: list[str] = field(default_factory=list)


def client(session: boto3.Session, service: str, endpoint_url: str | None) -> Any:
    config = _PATH_STYLE if service == "s3" and endpoint_url else None
    return session.client(service, endpoint_url=endpoint_url, config=config)


def default_artifact_bucket(session: boto3.Session, endpoint_url: str | None) -> str:
    account = client(session, "sts", endpoint_url).get_caller_identity()["Account"]
    return f"rp2-artifacts-{account}-{session.region_name}"


def upload_artifact(s3: Any, bucket: str, artifact: Path, region: str) -> str:
    """Put the zip under a content-addressed key (a new build is a new key, so CloudFormation updates the code)."""
    body = artifact.read_bytes()
    key = f"rp2/lambda-{hashlib.sha256(body).hexdigest()[:20]}.zip"
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
            },
        )
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def deploy(
    session: boto3.Session,
    stack_name: str,
    parameters: StackParameters,
    artifact: Path,
    *,
    endpoint_url: str | None = None,
    template_path: Path = TEMPLATE_PATH,
    say: Callable[[str], None] = lambda line: None,
) -> Deployment:
    region = session.region_name
    if region is None:
        raise DeployError("no region: pass --region or set RP2_REGION")
    s3 = client(session, "s3", endpoint_url)
    key = upload_artifact(s3, parameters.artifact_bucket, artifact, region)
    parameters = StackParameters(**{**parameters.__dict__, "artifact_key": key})
    artifact_uri = f"s3://{parameters.artifact_bucket}/{key}"
    say(f"artifact {artifact.name} -> {artifact_uri}")

    sam = load_sam_template(template_path)
    cloudformation_parameters = parameters.as_cloudformation()
    template = translate(sam, cloudformation_parameters, region)
    body = json.dumps(template, separators=(",", ":"), sort_keys=True)
    say(f"template {template_path.name} translated offline: {len(template['Resources'])} resources, {len(body)} bytes")

    cloudformation = client(session, "cloudformation", endpoint_url)
    request: dict[str, Any] = {
        "StackName": stack_name,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in cloudformation_parameters.items()],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    if len(body) <= TEMPLATE_BODY_LIMIT:
        request["TemplateBody"] = body
    else:
        template_key = f"rp2/template-{hashlib.sha256(body.encode()).hexdigest()[:20]}.json"
        s3.put_object(Bucket=parameters.artifact_bucket, Key=template_key, Body=body.encode())
        request["TemplateURL"] = s3.generate_presigned_url(
            "get_object", Params={"Bucket": parameters.artifact_bucket, "Key": template_key}, ExpiresIn=3600
        )

    action = _create_or_update(cloudformation, request, say)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    status = stack["StackStatus"]
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        raise DeployError(f"stack {stack_name} is {status}: {stack.get('StackStatusReason', 'no reason given')}")
    created = {
        summary["LogicalResourceId"]: summary["ResourceType"]
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
    }
    expected = expected_resources(template, cloudformation_parameters, region)
    deployment = Deployment(
        stack_name=stack_name,
        stack_id=stack["StackId"],
        status=status,
        action=action,
        artifact_uri=artifact_uri,
        outputs={o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])},
        created=created,
        not_created={name: kind for name, kind in expected.items() if name not in created},
    )
    if deployment.not_created:
        say("not created by this endpoint (it does not implement these types):")
        for name, kind in sorted(deployment.not_created.items()):
            say(f"   {name}  {kind}")
    if "LedgerTable" in deployment.not_created:
        stand_in_ledger_table(client(session, "dynamodb", endpoint_url), template["Resources"]["LedgerTable"], parameters)
        deployment.stood_in.append("LedgerTable")
        say(f"   -> created regional table rp2-transaction-{parameters.deployment_id} from the template's LedgerTable properties")
    return deployment


def _create_or_update(cloudformation: Any, request: dict[str, Any], say: Callable[[str], None]) -> str:
    name = request["StackName"]
    try:
        current = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        current = None
    if current in _REPLACEABLE_STATES:
        say(f"stack {name} is {current}: deleting it before creating it again")
        cloudformation.delete_stack(StackName=name)
        _wait(cloudformation, "stack_delete_complete", name)
        current = None
    if current is None:
        cloudformation.create_stack(**request)
        say(f"creating stack {name}")
        _wait(cloudformation, "stack_create_complete", name)
        return "created"
    try:
        cloudformation.update_stack(**request)
    except ClientError as error:
        if _NO_UPDATES in str(error):
            say(f"stack {name} is up to date")
            return "unchanged"
        raise
    say(f"updating stack {name}")
    _wait(cloudformation, "stack_update_complete", name)
    return "updated"


def _wait(cloudformation: Any, waiter: str, name: str) -> None:
    try:
        cloudformation.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 360})
    except WaiterError as error:
        raise DeployError(f"stack {name}: {waiter} failed: {error}") from None


def expected_resources(template: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, str]:
    """The template's resources whose condition holds for this region (the conditions are simple equalities)."""
    values = {**parameters, "AWS::Region": region}
    conditions = {name: _condition(body, values) for name, body in template.get("Conditions", {}).items()}
    return {
        name: body["Type"]
        for name, body in template["Resources"].items()
        if "Condition" not in body or conditions.get(body["Condition"], True)
    }


def _condition(body: Any, values: dict[str, str]) -> bool:
    if "Fn::Equals" in body:
        left, right = (_value(side, values) for side in body["Fn::Equals"])
        return left == right
    return True


def _value(side: Any, values: dict[str, str]) -> Any:
    if isinstance(side, dict) and "Ref" in side:
        return values.get(side["Ref"])
    return side


def stand_in_ledger_table(dynamodb: Any, global_table: dict[str, Any], parameters: StackParameters) -> None:
    """The regional table of a global table, with its keys, index, billing, stream and TTL (no replicas)."""
    properties = global_table["Properties"]
    name = f"rp2-transaction-{parameters.deployment_id}"
    try:
        dynamodb.create_table(
            TableName=name,
            BillingMode=properties["BillingMode"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
            StreamSpecification={"StreamEnabled": True, **properties["StreamSpecification"]},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = properties["TimeToLiveSpecification"]
    status = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
    if status not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

