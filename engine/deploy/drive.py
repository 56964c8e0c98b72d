"""``rp2 run --backend aws --stack NAME``: the runtime that drives a deployed stack.

On AWS the messages go through the stack's API (Cognito token, API Gateway) and its own queues, workers and
schedule. An endpoint (``--endpoint-url``: moto server, an emulator) cannot run Lambda code, so there rp2
runs the stack's deployed handlers in-process with their deployed environments, in place of API Gateway
and the event source mappings, which it pauses for the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from engine.deploy.deploy import client
from engine.deploy.stack import API_FUNCTION, DeployedHandlers, StackError, paused_mappings, read_stack


@contextmanager
def stack_runtime(stack_name: str, *, region: str, endpoint_url: str | None = None, session: boto3.Session | None = None) -> Iterator[Any]:
    session = session or boto3.Session(region_name=region)
    stack = read_stack(session, stack_name, endpoint_url)
    if endpoint_url:
        with paused_mappings(session, stack, endpoint_url), DeployedHandlers(session, stack, endpoint_url) as handlers:
            yield handlers
        return
    yield remote_runtime(session, stack)


def remote_runtime(session: boto3.Session, stack: Any) -> Any:
    from engine.adapters.aws import aws_ports
    from engine.deploy.remote import RemoteApi, RemoteRuntime
    from engine.settings import Settings

    missing = [key for key in ("ApiUrl", "TokenUrl", "UserPoolId", "ClientId") if not stack.outputs.get(key)]
    if missing:
        raise StackError(f"stack {stack.name} lacks the outputs {', '.join(missing)}")
    cognito = client(session, "cognito-idp", None)
    app_client = cognito.describe_user_pool_client(UserPoolId=stack.outputs["UserPoolId"], ClientId=stack.outputs["ClientId"])["UserPoolClient"]
    api = RemoteApi(stack.outputs["ApiUrl"], stack.outputs["TokenUrl"], app_client["ClientId"], app_client["ClientSecret"])
    settings = Settings.from_env(stack.function(API_FUNCTION).environment)
    return RemoteRuntime(api, aws_ports(settings, session))
