"""A deployed stack, read back through the AWS APIs: its outputs, functions (handler, environment), queue mappings.

``DeployedHandlers`` drives the deployed functions in-process: it imports each function's handler by the
dotted name the stack gives it, runs it with that function's environment, and stands in for API Gateway
(proxy events) and the SQS event source mappings (batch events, partial batch failures) the way
engine.local_runtime does. That is how a stack on an endpoint that cannot run Lambda code (moto without
Docker) is driven; on AWS, ``rp2 run`` goes through the stack's real API instead (engine.deploy.remote).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from engine.adapters.aws import aws_ports
from engine.adapters.aws.queues import SqsQueues
from engine.deploy.deploy import client
from engine.local_runtime import ApiAnswer, api_event, settle_batch, sqs_event
from engine.settings import Settings
from engine.wiring import Ports

API_FUNCTION = "ApiFunction"
TIMEOUT_FUNCTION = "TimeoutFunction"


class StackError(LookupError):
    """The stack lacks something rp2 needs to drive it."""


@dataclass(frozen=True)
class DeployedFunction:
    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]


@dataclass(frozen=True)
class QueueMapping:
    uuid: str
    function_name: str
    queue_arn: str
    queue_url: str
    step: str
    batch_size: int
    response_types: tuple[str, ...]
    enabled: bool


@dataclass(frozen=True)
class DeployedStack:
    name: str
    region: str
    outputs: dict[str, str]
    resources: dict[str, tuple[str, str]]  # logical id -> (type, physical id)
    functions: dict[str, DeployedFunction]
    mappings: dict[str, QueueMapping]  # step -> mapping

    def function(self, logical_id: str) -> DeployedFunction:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise StackError(f"stack {self.name} has no function {logical_id}") from None


def read_stack(session: boto3.Session, stack_name: str, endpoint_url: str | None = None) -> DeployedStack:
    cloudformation = client(session, "cloudformation", endpoint_url)
    lambda_ = client(session, "lambda", endpoint_url)
    sqs = client(session, "sqs", endpoint_url)
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    resources = {
        summary["LogicalResourceId"]: (summary["ResourceType"], summary.get("PhysicalResourceId", ""))
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for summary in page["StackResourceSummaries"]
    }
    functions = {}
    for logical_id, (kind, physical_id) in resources.items():
        if kind != "AWS::Lambda::Function":
            continue
        configuration = lambda_.get_function_configuration(FunctionName=physical_id)
        variables = configuration.get("Environment", {}).get("Variables", {})
        functions[logical_id] = DeployedFunction(
            logical_id=logical_id,
            name=configuration["FunctionName"],
            arn=configuration["FunctionArn"],
            handler=configuration["Handler"],
            # CloudFormation passes every value as a string; some emulators keep the parameter's number type
            environment={key: str(value) for key, value in variables.items()},
        )
    by_arn = {function.arn: function for function in functions.values()}
    mappings = {}
    for function in functions.values():
        for mapping in lambda_.list_event_source_mappings(FunctionName=function.name)["EventSourceMappings"]:
            queue_arn = mapping["EventSourceArn"]
            queue_name = queue_arn.rsplit(":", 1)[-1]
            step = _step_of_queue(queue_name, function.environment.get("RP2_DEPLOYMENT_ID", ""))
            mappings[step] = QueueMapping(
                uuid=mapping["UUID"],
                function_name=by_arn.get(mapping["FunctionArn"], function).name,
                queue_arn=queue_arn,
                queue_url=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                step=step,
                batch_size=int(mapping.get("BatchSize", 10)),
                response_types=tuple(mapping.get("FunctionResponseTypes") or ()),
                enabled=mapping.get("State") in ("Enabled", "Enabling", "Creating", "Updating"),
            )
    return DeployedStack(
        name=stack_name,
        region=session.region_name,
        outputs={o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])},
        resources=resources,
        functions=functions,
        mappings=mappings,
    )


def _step_of_queue(queue_name: str, deployment_id: str) -> str:
    """rp2-<step>-<deployment id>.fifo -> step"""
    stem = queue_name.removesuffix(".fifo").removeprefix("rp2-")
    return stem.removesuffix(f"-{deployment_id}") if deployment_id else stem.rsplit("-", 1)[0]


def load_handler(dotted: str) -> Any:
    module_name, _, attribute = dotted.rpartition(".")
    if not module_name:
        raise StackError(f"handler {dotted!r} is not a dotted module.attribute name")
    return getattr(importlib.import_module(module_name), attribute)


class DeployedHandlers:
    """The stack's functions, run in this process with their deployed handlers and environments."""

    def __init__(self, session: boto3.Session, stack: DeployedStack, endpoint_url: str | None = None) -> None:
        self.stack = stack
        self.session = session
        self.endpoint_url = endpoint_url
        self._current: str | None = None
        self._saved_environment: dict[str, str] | None = None
        self._handlers = {logical_id: load_handler(f.handler) for logical_id, f in stack.functions.items()}
        api = stack.function(API_FUNCTION)
        self.settings = Settings.from_env({**api.environment, **self._endpoint_variable()})
        self.ports: Ports = aws_ports(self.settings, session)
        self.queues = SqsQueues(
            client(session, "sqs", endpoint_url), {step: mapping.queue_url for step, mapping in stack.mappings.items()}
        )

    def _endpoint_variable(self) -> dict[str, str]:
        return {"RP2_ENDPOINT_URL": self.endpoint_url} if self.endpoint_url else {}

    @contextmanager
    def _as_function(self, logical_id: str) -> Iterator[Any]:
        """Run as that function's container would: its environment; its own ports when it differs from the last one."""
        from engine.lambdas.environment import deployed_ports

        function = self.stack.function(logical_id)
        if self._saved_environment is None:
            self._saved_environment = dict(os.environ)
        if self._current != logical_id:
            os.environ.update(function.environment)
            os.environ.update(self._endpoint_variable())
            os.environ.update({"AWS_REGION": self.stack.region, "AWS_DEFAULT_REGION": self.stack.region,
                               "AWS_LAMBDA_FUNCTION_NAME": function.name})
            deployed_ports.cache_clear()
            self._current = logical_id
        yield self._handlers[logical_id]

    def close(self) -> None:
        """Put the process environment back and forget the ports the handlers built."""
        from engine.lambdas.environment import deployed_ports

        if self._saved_environment is not None:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            self._saved_environment = None
        deployed_ports.cache_clear()
        self._current = None

    def __enter__(self) -> "DeployedHandlers":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, *, identity: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> ApiAnswer:
        event = api_event(method, path, identity=identity, headers=headers or {}, body=body, request_time_ms=int(time.time() * 1000))
        with self._as_function(API_FUNCTION) as handler:
            response = handler(event, None)
        return ApiAnswer(response["statusCode"], json.loads(response["body"]))

    def run_mapping_once(self, step: str) -> tuple[int, int]:
        """One poll of one queue, as its event source mapping does; returns (processed, failed)."""
        mapping = self.stack.mappings[step]
        batch = self.queues.receive(step, mapping.batch_size)
        if not batch:
            return 0, 0
        event = sqs_event(step, self.stack.region, batch)
        for record in event["Records"]:
            record["eventSourceARN"] = mapping.queue_arn
        logical_id = next(f.logical_id for f in self.stack.functions.values() if f.name == mapping.function_name)
        with self._as_function(logical_id) as handler:
            result = handler(event, None)
        return settle_batch(self.queues, step, batch, result)

    def drain(self, max_polls: int = 1000) -> int:
        processed = 0
        for _ in range(max_polls):
            progress = sum(self.run_mapping_once(step)[0] for step in ("inbox", "process", "release") if step in self.stack.mappings)
            processed += progress
            if progress == 0:
                break
        return processed

    def run_timeout_job(self) -> list[str]:
        with self._as_function(TIMEOUT_FUNCTION) as handler:
            return handler({"source": "aws.scheduler"}, None)["expired"]


@contextmanager
def paused_mappings(session: boto3.Session, stack: DeployedStack, endpoint_url: str | None) -> Iterator[None]:
    """Disable the stack's event source mappings while this process stands in for them, then restore them.

    An endpoint that cannot run Lambda code would otherwise take the messages off the queues itself."""
    lambda_ = client(session, "lambda", endpoint_url)
    paused = [m for m in stack.mappings.values() if m.enabled]
    for mapping in paused:
        lambda_.update_event_source_mapping(UUID=mapping.uuid, Enabled=False)
    try:
        yield
    finally:
        for mapping in paused:
            lambda_.update_event_source_mapping(UUID=mapping.uuid, Enabled=True)
