"""Fixtures for the deployment tests: the template, its offline translation, a stack deployed into moto."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from engine.deploy.deploy import Deployment, default_artifact_bucket, deploy
from engine.deploy.stack import DeployedStack, read_stack
from engine.deploy.template import StackParameters, load_sam_template, translate

REGION = "us-east-1"
PEER = "us-west-2"
DEPLOYMENT_ID = "ci"
STACK = "rp2-ci"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


def parameters(bucket: str = "rp2-artifacts-test", key: str = "rp2/lambda.zip") -> StackParameters:
    return StackParameters(
        deployment_id=DEPLOYMENT_ID, primary_region=REGION, secondary_region=PEER, artifact_bucket=bucket, artifact_key=key
    )


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    return load_sam_template()


@pytest.fixture(scope="session")
def translated(sam_template: dict[str, Any]) -> dict[str, Any]:
    return translate(sam_template, parameters().as_cloudformation(), REGION)


def small_artifact(path: Path) -> Path:
    """A stand-in zip: moto stores the code without running it; the handlers run from this checkout."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("engine/__init__.py", "")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="module")
def fake_aws() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    for name, value in FAKE_AWS.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    patch.delenv("AWS_ENDPOINT_URL", raising=False)
    patch.delenv("RP2_ENDPOINT_URL", raising=False)
    yield
    patch.undo()


@pytest.fixture(scope="module")
def deployed(fake_aws: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[boto3.Session, Deployment, DeployedStack]]:
    """The stack deployed into in-process moto with rp2's own deploy code, then read back."""
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        artifact = small_artifact(tmp_path_factory.mktemp("artifact") / "rp2-lambda.zip")
        bucket = default_artifact_bucket(session, None)
        deployment = deploy(session, STACK, parameters(bucket, ""), artifact)
        yield session, deployment, read_stack(session, STACK)
